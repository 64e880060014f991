package e2e

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/test/cluster"
)

// TestReplicateTutorial is the tutorial's replication check, verbatim:
// copy files into the mount, kill the first server's brick, change the
// files, bring the brick back and, once healed, both bricks hold the same
// bytes.
func TestReplicateTutorial(t *testing.T) {
	c, bricks := replicaVolume(t, 2)
	expect(t, c.MustGluster(0, "volume", "status", "rv"), "Self-heal Daemon on localhost", "Self-heal Daemon on "+c.Node(1).Addr)
	mp := c.Mount("rv", 0)

	// for i in `seq -w 1 100`; do cp -rp /var/log/messages /mnt/copy-test-$i; done
	messages := bytes.Repeat([]byte("Nov 21 08:00:00 node01 kernel: a line of the system log\n"), 1000)
	for i := 1; i <= 100; i++ {
		must(t, os.WriteFile(filepath.Join(mp, fmt.Sprintf("copy-test-%03d", i)), messages, 0o644))
	}
	for _, b := range bricks {
		ents, err := os.ReadDir(brickDir(b))
		must(t, err)
		if n := len(ents) - 1; n != 100 { // and .glusterfs
			t.Fatalf("brick %s holds %d files, want 100", b, n)
		}
	}

	c.KillBrick("rv", bricks[0])
	for i := 1; i <= 100; i++ {
		f, err := os.OpenFile(filepath.Join(mp, fmt.Sprintf("copy-test-%03d", i)), os.O_WRONLY|os.O_APPEND, 0)
		must(t, err)
		_, err = f.WriteString("appended while the first server was down\n")
		must(t, errors.Join(err, f.Close()))
	}
	must(t, os.WriteFile(filepath.Join(mp, "new-while-down"), []byte("new\n"), 0o644))
	out := c.MustGluster(0, "volume", "heal", "rv", "info")
	expect(t, out, "Brick "+bricks[0]+"\nStatus: Transport endpoint is not connected\nNumber of entries: -",
		"Brick "+bricks[1]+"\n", "copy-test-042 \n", "Status: Connected")
	if n := healCounts(out); len(n) != 2 || n[1] < 100 {
		t.Errorf("heal info while the brick is down counts %v, want [-1, >=100]:\n%s", n, out)
	}
	expect(t, c.MustGluster(1, "volume", "heal", "rv", "info", "summary"),
		"Brick "+bricks[0]+"\nStatus: Transport endpoint is not connected\nTotal Number of entries: -",
		"Brick "+bricks[1]+"\nStatus: Connected\nTotal Number of entries: ", "Number of entries in split-brain: 0")

	expect(t, c.MustGluster(0, "volume", "start", "rv", "force"), "volume start: rv: success")
	waitHealed(t, c, "rv", 2)
	sameBricks(t, c, bricks)
	want := string(messages) + "appended while the first server was down\n"
	expectFile(t, filepath.Join(brickDir(bricks[0]), "copy-test-042"), want)
	expectFile(t, filepath.Join(brickDir(bricks[0]), "new-while-down"), "new\n")
	expect(t, c.MustGluster(0, "volume", "heal", "rv", "statistics", "heal-count"),
		"Gathering count of entries to be healed on volume rv has been successful",
		"Brick "+bricks[0]+"\nNumber of entries: 0")
}

// pattern is deterministic file content: block i of a file is the same
// on every run, so a checksum of what was written is known.
func pattern(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for k := range 8 {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return b
}

// TestReplicateKillDuringLargeWrite SIGKILLs a brick while a 1 GiB file
// is being written (issue 5): the writer sees no error, and once the brick
// is back and healed both bricks hold the file's bytes.
func TestReplicateKillDuringLargeWrite(t *testing.T) {
	c, bricks := replicaVolume(t, 2)
	mp := c.Mount("rv", 0)
	const size, chunk = 1 << 30, 1 << 20
	killAt := size / 4
	f, err := os.Create(filepath.Join(mp, "big"))
	must(t, err)
	sum := sha256.New()
	for off := 0; off < size; off += chunk {
		if off == killAt {
			c.KillBrick("rv", bricks[1])
		}
		b := pattern(uint64(off), chunk)
		sum.Write(b)
		if _, err := f.Write(b); err != nil {
			t.Fatalf("write at %d MiB: %v", off>>20, err)
		}
	}
	must(t, f.Close())
	want := fmt.Sprintf("%x", sum.Sum(nil))

	expect(t, c.MustGluster(0, "volume", "start", "rv", "force"), "volume start: rv: success")
	waitHealed(t, c, "rv", 2)
	for _, b := range append([]string{mp}, brickDir(bricks[0]), brickDir(bricks[1])) {
		if got := fileSum(t, filepath.Join(b, "big")); got != want {
			t.Errorf("big in %s: sha256 %s, want %s", b, got, want)
		}
	}
	sameBricks(t, c, bricks)
}

func fileSum(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	must(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	must(t, err)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestReplicateKillDuringSmallFiles SIGKILLs a brick in the middle of
// 10,000 small-file creates (issue 5).
func TestReplicateKillDuringSmallFiles(t *testing.T) {
	c, bricks := replicaVolume(t, 2)
	mp := c.Mount("rv", 0)
	const files = 10000
	for i := range files {
		if i == files/3 {
			c.KillBrick("rv", bricks[0])
		}
		dir := filepath.Join(mp, fmt.Sprintf("d%02d", i%20))
		if i < 20 {
			must(t, os.Mkdir(dir, 0o755))
		}
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), pattern(uint64(i), 4096), 0o644))
	}
	expect(t, c.MustGluster(0, "volume", "start", "rv", "force"), "volume start: rv: success")
	waitHealed(t, c, "rv", 2)
	sameBricks(t, c, bricks)
	if got, want := c.MustChecksum(brickDir(bricks[0])), c.MustChecksum(mp); got != want {
		t.Errorf("bricks differ from the mount")
	}
}

// TestReplicateBrickStoppedIsDetected SIGSTOPs a brick: after
// network.ping-timeout the client declares it dead and writes go on with
// the other replica, without an error for the application; after SIGCONT
// the client reconnects and the brick is healed.
func TestReplicateBrickStoppedIsDetected(t *testing.T) {
	c, bricks := replicaVolume(t, 2, "network.ping-timeout", "3")
	mp := c.Mount("rv", 0)
	must(t, os.WriteFile(filepath.Join(mp, "f"), []byte("before\n"), 0o644))
	pid, err := c.BrickPid("rv", bricks[1])
	must(t, err)
	must(t, syscall.Kill(pid, syscall.SIGSTOP))
	stopped := true
	defer func() {
		if stopped {
			syscall.Kill(pid, syscall.SIGCONT)
		}
	}()
	// Blocks until the client gives up on the stopped brick, then succeeds.
	must(t, os.WriteFile(filepath.Join(mp, "f"), []byte("while stopped\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(mp, "g"), []byte("created while stopped\n"), 0o644))
	expectFile(t, filepath.Join(mp, "f"), "while stopped\n")
	must(t, syscall.Kill(pid, syscall.SIGCONT))
	stopped = false
	waitHealed(t, c, "rv", 2)
	sameBricks(t, c, bricks)
	expectFile(t, filepath.Join(brickDir(bricks[1]), "g"), "created while stopped\n")
}

// TestReplicatePartitionQuorumNone splits a replica 2 volume without
// client quorum: two clients that each see one brick both change a file,
// which ends in split-brain. Reads fail with EIO, heal info split-brain
// lists the file and the CLI resolves it.
func TestReplicatePartitionQuorumNone(t *testing.T) {
	// The self-heal daemons see both bricks, which the partition's two
	// clients do not: off, they cannot heal one side's change before the
	// other side makes its own.
	c, bricks := replicaVolume(t, 2, "cluster.quorum-type", "none", "cluster.self-heal-daemon", "off")
	before := c.Mount("rv", 0)
	must(t, os.WriteFile(filepath.Join(before, "f"), []byte("before the partition\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(before, "g"), []byte("before the partition\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(before, "h"), []byte("before the partition\n"), 0o644))
	c.Unmount(before)

	sideA := partitionedMount(t, c, "rv", 0)
	sideB := partitionedMount(t, c, "rv", 1)
	for _, name := range []string{"f", "g", "h"} {
		must(t, os.WriteFile(filepath.Join(sideA, name), []byte("written on side A, longer\n"), 0o644))
		must(t, os.WriteFile(filepath.Join(sideB, name), []byte("written on side B\n"), 0o644))
	}
	c.Unmount(sideA)
	c.Unmount(sideB)

	// A client that sees both bricks, with nothing cached from before.
	whole := c.Mount("rv", 0)
	for _, name := range []string{"f", "g"} {
		_, err := os.ReadFile(filepath.Join(whole, name))
		if !errors.Is(err, syscall.EIO) {
			t.Errorf("read of split-brain %s: %v, want EIO", name, err)
		}
	}
	out := c.MustGluster(0, "volume", "heal", "rv", "info", "split-brain")
	for _, b := range bricks {
		expect(t, out, "Brick "+b+"\n/f\n/g\n/h\nStatus: Connected\nNumber of entries in split-brain: 3")
	}
	expect(t, c.MustGluster(0, "volume", "heal", "rv", "info"), "/f - Is in split-brain")

	expect(t, c.MustGluster(0, "volume", "heal", "rv", "split-brain", "bigger-file", "/f"), "Healed /f.")
	expect(t, c.MustGluster(1, "volume", "heal", "rv", "split-brain", "source-brick", bricks[1], "/g"), "Healed /g.")
	// Without a file: every split-brain of the brick's replica set.
	expect(t, c.MustGluster(0, "volume", "heal", "rv", "split-brain", "source-brick", bricks[0]), "Healed gfid:", "Number of healed entries: 1")
	out, err := c.Gluster(0, "volume", "heal", "rv", "split-brain", "bigger-file", "/f")
	if err == nil || !strings.Contains(out, "Healing /f failed: File not in split-brain.") {
		t.Errorf("second resolution of /f: %v\n%s", err, out)
	}
	for _, b := range append([]string{whole}, brickDir(bricks[0]), brickDir(bricks[1])) {
		expectEventually(t, filepath.Join(b, "f"), "written on side A, longer\n")
		expectEventually(t, filepath.Join(b, "g"), "written on side B\n")
		expectEventually(t, filepath.Join(b, "h"), "written on side A, longer\n")
	}
	expect(t, c.MustGluster(0, "volume", "heal", "rv", "enable"), "Enable heal on volume rv has been successful")
	waitHealed(t, c, "rv", 2)
}

// expectFile, through a mount whose attribute cache may still hold the
// split-brain verdict for a moment.
func expectEventually(t *testing.T, p, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := os.ReadFile(p)
		if err == nil && string(got) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s = %q, %v; want %q", p, got, err, want)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestReplicatePartitionQuorumAuto splits a replica 3 volume (client
// quorum auto, the default): the client that sees one brick cannot
// write, the one that sees two can, and nothing ends in split-brain.
func TestReplicatePartitionQuorumAuto(t *testing.T) {
	c, bricks := replicaVolume(t, 3)
	whole := c.Mount("rv", 0)
	must(t, os.WriteFile(filepath.Join(whole, "f"), []byte("before the partition\n"), 0o644))

	minority := partitionedMount(t, c, "rv", 0)
	majority := partitionedMount(t, c, "rv", 1, 2)
	if err := os.WriteFile(filepath.Join(minority, "f"), []byte("minority\n"), 0o644); err == nil {
		t.Error("a client that sees one brick of three wrote without quorum")
	}
	if err := os.WriteFile(filepath.Join(minority, "new"), []byte("minority\n"), 0o644); err == nil {
		t.Error("a client that sees one brick of three created a file without quorum")
	}
	must(t, os.WriteFile(filepath.Join(majority, "f"), []byte("majority\n"), 0o644))
	c.Unmount(minority)
	c.Unmount(majority)

	out := c.MustGluster(0, "volume", "heal", "rv", "info", "split-brain")
	if n := strings.Count(out, "Number of entries in split-brain: 0"); n != 3 {
		t.Errorf("split-brain after a partition with quorum:\n%s", out)
	}
	waitHealed(t, c, "rv", 3)
	expectEventually(t, filepath.Join(whole, "f"), "majority\n")
	sameBricks(t, c, bricks)
	if _, err := os.Stat(filepath.Join(brickDir(bricks[0]), "new")); err == nil {
		t.Error("the minority's create reached its brick")
	}

	// heal disable turns the self-heal daemon off, and on-demand heals
	// with it, as in GlusterFS.
	expect(t, c.MustGluster(0, "volume", "heal", "rv", "disable"), "Disable heal on volume rv has been successful")
	expect(t, c.MustGluster(1, "volume", "get", "rv", "cluster.self-heal-daemon"), "off")
	out, err := c.Gluster(0, "volume", "heal", "rv")
	if err == nil || !strings.Contains(out, "Launching heal operation to perform index self heal on volume rv has been unsuccessful:\nSelf-heal-daemon is disabled. Heal will not be triggered on volume rv") {
		t.Errorf("heal with the daemon disabled: %v\n%s", err, out)
	}
	expect(t, c.MustGluster(0, "volume", "heal", "rv", "enable"), "Enable heal on volume rv has been successful")
}

// TestReplicateArbiter: in replica 3 arbiter 1 the third brick holds the
// names but no data, and a data brick that missed changes is healed from
// the other data brick.
func TestReplicateArbiter(t *testing.T) {
	c, bricks := layoutVolume(t, 3, []string{"replica", "3", "arbiter", "1"})
	expect(t, c.MustGluster(0, "volume", "info", "rv"), "Number of Bricks: 1 x (2 + 1) = 3", "Brick3: "+bricks[2]+" (arbiter)")
	mp := c.Mount("rv", 0)
	data := pattern(7, 1<<20)
	must(t, os.WriteFile(filepath.Join(mp, "f"), data, 0o644))
	if st, err := os.Stat(filepath.Join(brickDir(bricks[2]), "f")); err != nil || st.Size() != 0 {
		t.Fatalf("arbiter's copy of f: %v, %v", st, err)
	}

	c.KillBrick("rv", bricks[0])
	more := pattern(8, 1<<20)
	must(t, os.WriteFile(filepath.Join(mp, "f"), more, 0o644))
	must(t, os.WriteFile(filepath.Join(mp, "g"), data, 0o644))
	expect(t, c.MustGluster(0, "volume", "start", "rv", "force"), "volume start: rv: success")
	waitHealed(t, c, "rv", 3)
	sameBricks(t, c, bricks[:2])
	for _, name := range []string{"f", "g"} {
		st, err := os.Stat(filepath.Join(brickDir(bricks[2]), name))
		if err != nil || st.Size() != 0 {
			t.Errorf("arbiter's copy of %s: %v, %v", name, st, err)
		}
	}
	if !bytes.Equal(readAll(t, filepath.Join(brickDir(bricks[0]), "f")), more) {
		t.Error("brick 1's f is not the data written while it was down")
	}
	// With a data brick down the volume keeps quorum (data brick +
	// arbiter) and serves reads from the data brick.
	c.KillBrick("rv", bricks[1])
	if !bytes.Equal(readAll(t, filepath.Join(mp, "g")), data) {
		t.Error("read with one data brick down")
	}
}

func readAll(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	must(t, err)
	return b
}

// TestReplicateChangeReplicaCount raises a replica 2 volume to replica 3
// with add-brick (the new brick is healed in full) and lowers it back
// with remove-brick replica 2 ... force.
func TestReplicateChangeReplicaCount(t *testing.T) {
	c := cluster.New(t, 3)
	for i := 1; i < 3; i++ {
		expect(t, c.MustGluster(0, "peer", "probe", c.Node(i).Addr), "peer probe: success")
	}
	bricks := []string{c.Brick(0, "rv"), c.Brick(1, "rv"), c.Brick(2, "rv")}
	expect(t, c.MustGluster(0, "volume", "create", "rv", "replica", "2", bricks[0], bricks[1], "force"), "volume create: rv: success")
	expect(t, c.MustGluster(0, "volume", "start", "rv"), "volume start: rv: success")
	mp := c.Mount("rv", 0)
	for d := range 5 {
		dir := filepath.Join(mp, fmt.Sprintf("dir%d", d), "sub")
		must(t, os.MkdirAll(dir, 0o755))
		for f := range 20 {
			must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d", f)), pattern(uint64(d*100+f), 10000+f), 0o640))
		}
	}
	must(t, os.Symlink("dir0/sub/f1", filepath.Join(mp, "link")))
	// A file kept open across the change: the mount moves it to the new
	// graph, so what is written through it later reaches the new replica.
	held, err := os.OpenFile(filepath.Join(mp, "open-across"), os.O_CREATE|os.O_WRONLY, 0o644)
	must(t, err)
	defer held.Close()
	_, err = held.WriteString("before add-brick\n")
	must(t, err)

	expect(t, c.MustGluster(0, "volume", "add-brick", "rv", "replica", "3", bricks[2], "force"), "volume add-brick: success")
	expect(t, c.MustGluster(1, "volume", "info", "rv"), "Number of Bricks: 1 x 3 = 3", "Brick3: "+bricks[2])
	waitLog(t, filepath.Join(c.Root, "client-rv-0.log"), "switched to a new graph")
	want := c.MustChecksum(brickDir(bricks[0]))
	deadline := time.Now().Add(healWait)
	for c.MustChecksum(brickDir(bricks[2])) != want {
		if time.Now().After(deadline) {
			t.Fatalf("the new replica was not healed in full:\n%s", treeDiff(brickDir(bricks[0]), brickDir(bricks[2])))
		}
		time.Sleep(500 * time.Millisecond)
	}
	_, err = held.WriteString("after add-brick, through the same descriptor\n")
	must(t, errors.Join(err, held.Close()))
	c.Unmount(mp)
	waitHealed(t, c, "rv", 3)
	sameBricks(t, c, bricks)
	expectFile(t, filepath.Join(brickDir(bricks[2]), "open-across"), "before add-brick\nafter add-brick, through the same descriptor\n")

	// A new mount writes to the three replicas.
	mp = c.Mount("rv", 0)
	must(t, os.WriteFile(filepath.Join(mp, "after-add"), []byte("three copies\n"), 0o644))
	c.Unmount(mp)
	for _, b := range bricks {
		expectFile(t, filepath.Join(brickDir(b), "after-add"), "three copies\n")
	}

	expect(t, c.MustGluster(0, "volume", "remove-brick", "rv", "replica", "2", bricks[0], "force"), "volume remove-brick commit force: success")
	expect(t, c.MustGluster(0, "volume", "info", "rv"), "Number of Bricks: 1 x 2 = 2", "Brick1: "+bricks[1], "Brick2: "+bricks[2])
	mp = c.Mount("rv", 0)
	if got := c.MustChecksum(mp); got != c.MustChecksum(brickDir(bricks[1])) {
		t.Error("the mount after remove-brick differs from the remaining bricks")
	}
	expectFile(t, filepath.Join(mp, "after-add"), "three copies\n")
	if out, err := c.Gluster(0, "volume", "remove-brick", "rv", "replica", "1", bricks[1], "start"); err == nil {
		t.Errorf("lowering the replica count without force succeeded:\n%s", out)
	}
}

// waitLog waits until the log file p holds line.
func waitLog(t *testing.T, p, line string) {
	t.Helper()
	deadline := time.Now().Add(healWait)
	for {
		if b, _ := os.ReadFile(p); strings.Contains(string(b), line) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %q", p, line)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestReplicateDistributed heals a 2 x 2 distributed-replicate volume
// whose first node's bricks (one in each set) missed a batch of files.
func TestReplicateDistributed(t *testing.T) {
	c := cluster.New(t, 2)
	expect(t, c.MustGluster(0, "peer", "probe", c.Node(1).Addr), "peer probe: success")
	bricks := []string{c.Brick(0, "a"), c.Brick(1, "a"), c.Brick(0, "b"), c.Brick(1, "b")}
	expect(t, c.MustGluster(0, append(append([]string{"volume", "create", "rv", "replica", "2"}, bricks...), "force")...), "volume create: rv: success")
	expect(t, c.MustGluster(0, "volume", "start", "rv"), "volume start: rv: success")
	expect(t, c.MustGluster(1, "volume", "info", "rv"), "Type: Distributed-Replicate", "Number of Bricks: 2 x 2 = 4")
	mp := c.Mount("rv", 1)
	must(t, os.MkdirAll(filepath.Join(mp, "d"), 0o755))
	c.KillBrick("rv", bricks[0])
	c.KillBrick("rv", bricks[2])
	for i := range 200 {
		must(t, os.WriteFile(filepath.Join(mp, "d", fmt.Sprintf("f%03d", i)), pattern(uint64(i), 8192), 0o644))
	}
	expect(t, c.MustGluster(0, "volume", "start", "rv", "force"), "volume start: rv: success")
	waitHealed(t, c, "rv", 4)
	sameBricks(t, c, bricks[0:2])
	sameBricks(t, c, bricks[2:4])
	n := 0
	for _, b := range []string{bricks[0], bricks[2]} {
		ents, err := os.ReadDir(filepath.Join(brickDir(b), "d"))
		must(t, err)
		n += len(ents)
	}
	if n != 200 {
		t.Errorf("the first node's bricks hold %d of the 200 files between them", n)
	}
}
