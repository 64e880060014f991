package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gluster-go/gluster-go/internal/layers"
	"github.com/gluster-go/gluster-go/internal/volfile"
	"github.com/gluster-go/gluster-go/test/cluster"
)

// TestTutorial follows the GlusterFS quick-start across three glusterd
// nodes: probe the peers, create and start a replica 2 volume (plain
// distribute over the same bricks while this build has no replicate
// layer), restrict it with auth.allow, mount it from an allowed and a
// refused source address, then mount it with mount -t glusterfs while the
// first volfile server is down (backupvolfile-server) and from /etc/fstab.
func TestTutorial(t *testing.T) {
	c := cluster.New(t, 3)
	n1, n2, n3 := c.Node(0).Addr, c.Node(1).Addr, c.Node(2).Addr

	for _, peer := range []string{n2, n3} {
		expect(t, c.MustGluster(0, "peer", "probe", peer), "peer probe: success")
	}
	expect(t, c.MustGluster(0, "peer", "status"),
		"Number of Peers: 2", "Hostname: "+n2, "Hostname: "+n3, "State: Peer in Cluster (Connected)")

	// The bricks sit on nodes 2 and 3, so that node 1's glusterd can be
	// killed later without making a brick's port unknown.
	b1, b2 := c.Brick(1, "gv0"), c.Brick(2, "gv0")
	create := []string{"volume", "create", "gv0"}
	typ, count := "Distribute", "2"
	if layers.Registry()["cluster/replicate"] != nil {
		create = append(create, "replica", "2")
		typ, count = "Replicate", "1 x 2 = 2"
	} else {
		t.Log("this build has no cluster/replicate layer: gv0 is created as distribute over the same bricks")
	}
	// Bricks on the root file system need force, as in GlusterFS.
	create = append(create, "transport", "tcp", b1, b2, "force")
	expect(t, c.MustGluster(0, create...), "volume create: gv0: success")
	expect(t, c.MustGluster(0, "volume", "start", "gv0"), "volume start: gv0: success")
	for _, node := range []int{0, 2} {
		expect(t, c.MustGluster(node, "volume", "info", "gv0"),
			"Volume Name: gv0", "Type: "+typ, "Status: Started",
			"Number of Bricks: "+count, "Transport-type: tcp", "Brick1: "+b1, "Brick2: "+b2)
	}

	expect(t, c.MustGluster(0, "volume", "set", "gv0", "auth.allow", "127.0.0.5"), "volume set: success")
	expect(t, c.MustGluster(1, "volume", "info", "gv0"), "auth.allow: 127.0.0.5")

	// A client whose connections come from an allowed address.
	allowed := clientVolfile(t, c, "127.0.0.5")
	mp, err := c.MountVolfile(allowed)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(mp, "hello.txt"), []byte("hello, world\n"), 0o644))
	must(t, os.MkdirAll(filepath.Join(mp, "dir/sub"), 0o755))
	for i := range 20 {
		must(t, os.WriteFile(filepath.Join(mp, "dir", fmt.Sprintf("f%02d", i)), []byte(strings.Repeat("x", i*100)), 0o640))
	}
	expectFile(t, filepath.Join(mp, "hello.txt"), "hello, world\n")
	bricks := []string{strings.SplitN(b1, ":", 2)[1], strings.SplitN(b2, ":", 2)[1]}
	if typ == "Replicate" {
		sum := c.MustChecksum(mp)
		for _, b := range bricks {
			if got := c.MustChecksum(b); got != sum {
				t.Errorf("brick %s differs from the mount", b)
			}
		}
	} else {
		for i := range 20 {
			if n := onBricks(bricks, filepath.Join("dir", fmt.Sprintf("f%02d", i))); n != 1 {
				t.Errorf("dir/f%02d is on %d bricks, want 1", i, n)
			}
		}
	}
	c.Unmount(mp)

	// A client from an address auth.allow does not list must not get in.
	refused := clientVolfile(t, c, "127.0.0.9")
	if mp, err := c.MountVolfile(refused); err == nil {
		werr := os.WriteFile(filepath.Join(mp, "intruder"), []byte("x"), 0o644)
		_, rerr := os.ReadFile(filepath.Join(mp, "hello.txt"))
		if werr == nil || rerr == nil {
			t.Errorf("client from 127.0.0.9 got in: write %v, read %v", werr, rerr)
		}
		c.Unmount(mp)
	} else {
		t.Logf("refused mount failed as it should: %v", err)
	}
	if n := onBricks(bricks, "intruder"); n != 0 {
		t.Errorf("refused client created a file on %d bricks", n)
	}

	// Back to everyone, for the mounts below from the default address.
	expect(t, c.MustGluster(0, "volume", "set", "gv0", "auth.allow", "*"), "volume set: success")

	// mount -t glusterfs with the first volfile server down. mount(8)
	// runs in a private mount namespace (see InMountNamespace), so the
	// script checks and unmounts what it mounts.
	c.Kill(0)
	helperMP := mkdir(t, c.Root, "mnt-helper")
	out, err := c.InMountNamespace("", fmt.Sprintf(`
mount -t glusterfs -o backupvolfile-server=%[1]s,log-file=%[2]s %[3]s:/gv0 %[4]s
cat %[4]s/hello.txt
findmnt -no FSTYPE,SOURCE %[4]s
umount %[4]s`, n2, filepath.Join(c.Root, "helper-client.log"), n1, helperMP))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, out, "hello, world", "fuse.glusterfs", ":/gv0")
	c.Restart(0)

	// An fstab entry, mounted by its mount point and by mount -a.
	fstabMP := mkdir(t, c.Root, "mnt-fstab")
	fstab := fmt.Sprintf("%s:/gv0 %s glusterfs defaults,_netdev,log-file=%s 0 0\n",
		n1, fstabMP, filepath.Join(c.Root, "fstab-client.log"))
	out, err = c.InMountNamespace(fstab, fmt.Sprintf(`
mount %[1]s
echo "first: $(cat %[1]s/hello.txt)"
umount %[1]s
mount -a -t glusterfs
echo "second: $(cat %[1]s/hello.txt)"
umount %[1]s`, fstabMP))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, out, "first: hello, world", "second: hello, world")
}

// clientVolfile fetches gv0's client volfile from node 1 and makes every
// brick connection come from source.
func clientVolfile(t *testing.T, c *cluster.Cluster, source string) *volfile.File {
	t.Helper()
	f, err := c.Volfile(0, "gv0")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range f.Volumes {
		if v.Type == "protocol/client" {
			v.SetOption("transport.socket.source-addr", source)
		}
	}
	return f
}

// onBricks counts the bricks holding rel.
func onBricks(bricks []string, rel string) int {
	n := 0
	for _, b := range bricks {
		if _, err := os.Lstat(filepath.Join(b, rel)); err == nil {
			n++
		}
	}
	return n
}

// expect checks that out contains every want.
func expect(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func expectFile(t *testing.T, p, want string) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s = %q, want %q", p, got, want)
	}
}
