package e2e

import (
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/volfile"
	"github.com/gluster-go/gluster-go/test/cluster"
)

// healWait bounds how long a test waits for heal info to drain. It is a
// hang guard, not a performance check.
const healWait = 5 * time.Minute

// replicaVolume makes a pool of n nodes and a started replica-n volume
// "rv" with one brick on each node, with options set before the start.
func replicaVolume(t testing.TB, n int, opts ...string) (*cluster.Cluster, []string) {
	t.Helper()
	return layoutVolume(t, n, []string{"replica", strconv.Itoa(n)}, opts...)
}

// layoutVolume is replicaVolume with the create command's layout words.
func layoutVolume(t testing.TB, n int, layout []string, opts ...string) (*cluster.Cluster, []string) {
	t.Helper()
	c := cluster.New(t, n)
	for i := 1; i < n; i++ {
		mustContain(t, c.MustGluster(0, "peer", "probe", c.Node(i).Addr), "peer probe: success")
	}
	var bricks []string
	for i := range n {
		bricks = append(bricks, c.Brick(i, "rv"))
	}
	args := append(append([]string{"volume", "create", "rv"}, layout...), bricks...)
	mustContain(t, c.MustGluster(0, append(args, "force")...), "volume create: rv: success")
	for i := 0; i+1 < len(opts); i += 2 {
		mustContain(t, c.MustGluster(0, "volume", "set", "rv", opts[i], opts[i+1]), "volume set: success")
	}
	mustContain(t, c.MustGluster(0, "volume", "start", "rv"), "volume start: rv: success")
	return c, bricks
}

// brickDir is the directory of a "HOST:/PATH" brick.
func brickDir(brick string) string { return brick[strings.Index(brick, ":")+1:] }

var entriesLine = regexp.MustCompile(`(?m)^Number of entries: (\S+)$`)

// healCounts parses `heal VOL info`: the entry count of each brick, -1
// for a brick that is not connected.
func healCounts(out string) []int {
	var counts []int
	for _, m := range entriesLine.FindAllStringSubmatch(out, -1) {
		n, err := strconv.Atoi(m[1])
		if err != nil {
			n = -1
		}
		counts = append(counts, n)
	}
	return counts
}

// waitHealed asks for an index heal, then polls heal info until every
// brick is connected and lists no entry.
func waitHealed(t testing.TB, c *cluster.Cluster, vol string, bricks int) {
	t.Helper()
	mustContain(t, c.MustGluster(0, "volume", "heal", vol), "has been successful")
	deadline := time.Now().Add(healWait)
	var out string
	for time.Now().Before(deadline) {
		out, _ = c.Gluster(0, "volume", "heal", vol, "info")
		counts := healCounts(out)
		done := len(counts) == bricks
		for _, n := range counts {
			done = done && n == 0
		}
		if done {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("heal info did not drain:\n%s", out)
}

// sameBricks checks that every brick holds the same tree as the first
// (ignoring .glusterfs).
func sameBricks(t *testing.T, c *cluster.Cluster, bricks []string) {
	t.Helper()
	want := c.MustChecksum(brickDir(bricks[0]))
	for _, b := range bricks[1:] {
		if got := c.MustChecksum(brickDir(b)); got != want {
			t.Errorf("brick %s differs from %s:\n%s", b, bricks[0], treeDiff(brickDir(bricks[0]), brickDir(b)))
		}
	}
}

// partitionedMount mounts vol with a client that reaches only the bricks
// in sees: the other protocol/client layers point at a port nothing
// listens on, the transport-level fault of a network partition.
func partitionedMount(t *testing.T, c *cluster.Cluster, vol string, sees ...int) string {
	t.Helper()
	f, err := c.Volfile(0, vol)
	if err != nil {
		t.Fatal(err)
	}
	dead := closedPort(t)
	visible := map[string]bool{}
	for _, i := range sees {
		visible[fmt.Sprintf("%s-client-%d", vol, i)] = true
	}
	cut := 0
	for _, v := range f.Volumes {
		if v.Type == "protocol/client" && !visible[v.Name] {
			v.SetOption("remote-port", strconv.Itoa(dead))
			cut++
		}
	}
	if cut == 0 {
		t.Fatal("partition cuts no brick")
	}
	mp, err := c.MountVolfile(&volfile.File{Volumes: f.Volumes})
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// treeDiff describes how two brick trees differ (outside .glusterfs), for
// failure messages.
func treeDiff(a, b string) string {
	out, _ := exec.Command("sh", "-c", `diff -r --no-dereference -x .glusterfs "$1" "$2" | head -20; `+
		`cd "$1" && find . -path ./.glusterfs -prune -o -printf '%M %s %p %l\n' | sort > /tmp/.treediff.a; `+
		`cd "$2" && find . -path ./.glusterfs -prune -o -printf '%M %s %p %l\n' | sort | diff /tmp/.treediff.a - | head -20`,
		"sh", a, b).CombinedOutput()
	return string(out)
}

// mustContain stops the test or benchmark unless out contains want.
func mustContain(t testing.TB, out, want string) {
	t.Helper()
	if !strings.Contains(out, want) {
		t.Fatalf("output lacks %q:\n%s", want, out)
	}
}
