package shd

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gluster-go/gluster-go/internal/afr"
	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/layers"
	"github.com/gluster-go/gluster-go/internal/volfile"
	"github.com/gluster-go/gluster-go/internal/volgen"
)

var bg = context.Background()

// testVolume is a replica 2 volume whose bricks run in this process,
// each behind its own protocol/server on a loopback port.
type testVolume struct {
	t      *testing.T
	v      *volgen.Volume
	ports  []int
	stops  []func()
	client *volfile.File
}

func newVolume(t *testing.T, replica int) *testVolume {
	tv := &testVolume{t: t, v: &volgen.Volume{Name: "v", ID: uuid.NewString(), ReplicaCount: replica}}
	for i := 0; i < replica; i++ {
		tv.v.Bricks = append(tv.v.Bricks, volgen.Brick{Host: "127.0.0.1", Path: t.TempDir()})
		tv.ports = append(tv.ports, freePort(t))
		tv.stops = append(tv.stops, nil)
	}
	for i := range tv.v.Bricks {
		tv.startBrick(i)
	}
	tv.genClient()
	t.Cleanup(func() {
		for i := range tv.stops {
			tv.stopBrick(i)
		}
	})
	return tv
}

// genClient generates the client volfile of the volume's bricks.
func (tv *testVolume) genClient() {
	env := volgen.Env{Types: volgen.TypesOf(layers.Registry())}
	f, _, err := volgen.ClientVolfile(tv.v, env)
	if err != nil {
		tv.t.Fatal(err)
	}
	for i, b := range tv.v.Bricks {
		for _, vol := range f.Volumes {
			if p, _ := vol.Option("remote-subvolume"); vol.Type == "protocol/client" && p == b.Path {
				vol.SetOption("remote-port", strconv.Itoa(tv.ports[i]))
			}
		}
	}
	tv.client = f
}

// addReplica adds an empty brick to the replica set, as add-brick
// replica N+1 does.
func (tv *testVolume) addReplica() {
	tv.v.ReplicaCount++
	tv.v.Bricks = append(tv.v.Bricks, volgen.Brick{Host: "127.0.0.1", Path: tv.t.TempDir()})
	tv.ports = append(tv.ports, freePort(tv.t))
	tv.stops = append(tv.stops, nil)
	tv.startBrick(len(tv.v.Bricks) - 1)
	tv.genClient()
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (tv *testVolume) startBrick(i int) {
	t := tv.t
	f, _, err := volgen.BrickVolfile(tv.v, i, volgen.Env{Types: volgen.TypesOf(layers.Registry())})
	if err != nil {
		t.Fatal(err)
	}
	srv := f.Top()
	srv.SetOption("transport.socket.listen-port", strconv.Itoa(tv.ports[i]))
	srv.SetOption("transport.socket.bind-address", "127.0.0.1")
	g, err := graph.Build(f, layers.Registry(), graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(bg); err != nil {
		t.Fatal(err)
	}
	tv.stops[i] = func() { g.Close() }
}

func (tv *testVolume) stopBrick(i int) {
	if tv.stops[i] != nil {
		tv.stops[i]()
		tv.stops[i] = nil
	}
}

func (tv *testVolume) brick(i int) Brick {
	return Brick{tv.v.Bricks[i].Host, tv.v.Bricks[i].Path}
}

// mount builds a client graph, as glusterfs does, and waits until every
// brick it can reach is connected.
func (tv *testVolume) mount() (*graph.Graph, *afr.AFR) {
	g, err := graph.Build(tv.client, layers.Registry(), graph.Options{})
	if err != nil {
		tv.t.Fatal(err)
	}
	if err := g.Start(bg); err != nil {
		tv.t.Fatal(err)
	}
	tv.t.Cleanup(func() { g.Close() })
	set := g.Layer("v-replicate-0").(*afr.AFR)
	waitFor(tv.t, "client settles", set.Settled)
	return g, set
}

// waitFor polls cond; the bound is a hang guard, not a timing check.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeFile(t *testing.T, top fop.Layer, name string, data []byte, off int64) fop.GFID {
	t.Helper()
	a, _, err := top.Lookup(bg, &fop.Loc{Parent: fop.RootGFID, Name: name}, nil)
	var fd *fop.FD
	switch {
	case err == nil:
		fd = fop.NewFD(a.GFID, syscall.O_RDWR)
		if err := top.Open(bg, &fop.Loc{GFID: a.GFID}, syscall.O_RDWR, fd); err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
	case fop.Errno(err) == syscall.ENOENT:
		g := fop.NewGFID()
		fd = fop.NewFD(g, syscall.O_RDWR)
		if a, _, err = top.Create(bg, &fop.Loc{Parent: fop.RootGFID, Name: name, GFID: g}, syscall.O_RDWR|syscall.O_CREAT, 0o644, 0, fd, nil); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	default:
		t.Fatalf("lookup %s: %v", name, err)
	}
	if _, _, err := top.Write(bg, fd, data, off); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	if err := top.Flush(bg, fd); err != nil {
		t.Fatalf("flush %s: %v", name, err)
	}
	top.Release(bg, fd)
	return a.GFID
}

func TestIndexHealAfterABrickReturns(t *testing.T) {
	tv := newVolume(t, 2)
	g, set := tv.mount()
	writeFile(t, g.Top, "f", []byte("hello"), 0)

	tv.stopBrick(1)
	waitFor(t, "brick 1 seen down", func() bool { return !set.Up()[1] })
	gf := writeFile(t, g.Top, "f", []byte(", world"), 5)
	writeFile(t, g.Top, "new", []byte("created while down"), 0)
	tv.startBrick(1)

	h, err := Open(bg, Config{Volfile: tv.client, Registry: layers.Registry(), Local: []Brick{tv.brick(0)}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if !h.Replicated() {
		t.Fatal("healer sees no local replicated brick")
	}
	info, err := h.Info(bg, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(info) != 1 || !info[0].Connected || info[0].Brick != tv.brick(0) {
		t.Fatalf("heal info: %+v", info)
	}
	names := map[string]bool{}
	for _, e := range info[0].Entries {
		names[e.Name()] = true
		if e.SplitBrain {
			t.Errorf("%s reported in split-brain", e.Name())
		}
	}
	if !names["/f"] || !names["/"] {
		t.Fatalf("heal info entries %v, want / and /f", names)
	}

	res, err := h.HealIndex(bg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Healed == 0 || res.Failed != 0 || res.SplitBrain != 0 {
		t.Fatalf("heal result %+v", res)
	}
	for _, name := range []string{"f", "new"} {
		a := readBrick(t, tv.brick(0).Path, name)
		b := readBrick(t, tv.brick(1).Path, name)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: brick 0 has %q, brick 1 %q", name, a, b)
		}
	}
	if got := readBrick(t, tv.brick(1).Path, "f"); string(got) != "hello, world" {
		t.Errorf("healed f = %q", got)
	}
	info, _ = h.Info(bg, false)
	if n := len(info[0].Entries); n != 0 {
		t.Errorf("heal info after heal: %d entries %+v", n, info[0].Entries)
	}
	if st, err := set.Inspect(bg, gf); err != nil || st.Pending {
		t.Errorf("f after heal: %+v %v", st, err)
	}
}

func readBrick(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRunHealsWhenABrickComesBack(t *testing.T) {
	tv := newVolume(t, 2)
	g, set := tv.mount()
	h, err := Open(bg, Config{Volfile: tv.client, Registry: layers.Registry(), Local: []Brick{tv.brick(0), tv.brick(1)}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() { h.Run(ctx, time.Hour); close(done) }()
	defer func() { cancel(); <-done }()

	tv.stopBrick(1)
	waitFor(t, "brick 1 seen down", func() bool { return !set.Up()[1] })
	for i := range 20 {
		writeFile(t, g.Top, fmt.Sprintf("f%d", i), []byte(fmt.Sprint("data ", i)), 0)
	}
	tv.startBrick(1)
	// No crawl is due for an hour: only the brick's return can heal.
	waitFor(t, "daemon heals the files", func() bool {
		for i := range 20 {
			b, err := os.ReadFile(filepath.Join(tv.brick(1).Path, fmt.Sprintf("f%d", i)))
			if err != nil || string(b) != fmt.Sprint("data ", i) {
				return false
			}
		}
		return true
	})
}

func TestResolveSplitBrainBySourceBrick(t *testing.T) {
	tv := newVolume(t, 2)
	g, set := tv.mount()
	writeFile(t, g.Top, "sb", []byte("same"), 0)
	tv.stopBrick(1)
	waitFor(t, "brick 1 down", func() bool { return !set.Up()[1] })
	writeFile(t, g.Top, "sb", []byte("brick 0 data"), 0)
	tv.startBrick(1)
	waitFor(t, "brick 1 up", func() bool { return set.Up()[1] })
	tv.stopBrick(0)
	waitFor(t, "brick 0 down", func() bool { return !set.Up()[0] })
	writeFile(t, g.Top, "sb", []byte("brick 1 data"), 0)
	tv.startBrick(0)
	waitFor(t, "brick 0 up", func() bool { return set.Up()[0] })

	h, err := Open(bg, Config{Volfile: tv.client, Registry: layers.Registry(), Local: []Brick{tv.brick(0), tv.brick(1)}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	info, err := h.Info(bg, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, bi := range info {
		if len(bi.Entries) != 1 || bi.Entries[0].Name() != "/sb" || !bi.Entries[0].SplitBrain {
			t.Fatalf("split-brain info of %s: %+v", bi.Brick, bi.Entries)
		}
	}
	gfid, err := h.Lookup(bg, "/sb")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Resolve(bg, gfid, afr.BiggerFile, nil); err != afr.ErrNoBiggerFile {
		t.Fatalf("bigger-file on equal sizes: %v", err)
	}
	src := tv.brick(1)
	if err := h.Resolve(bg, gfid, afr.SourceBrick, &src); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if got := readBrick(t, tv.brick(i).Path, "sb"); string(got) != "brick 1 data" {
			t.Errorf("brick %d holds %q", i, got)
		}
	}
	if err := h.Resolve(bg, gfid, afr.SourceBrick, &Brick{"127.0.0.1", "/nope"}); err != ErrNoSuchBrick {
		t.Errorf("unknown brick: %v", err)
	}
}

// TestIndexHealFollowsWhatItCreates: a heal that recreates a directory on
// a new replica marks it pending on the source replica, here a brick whose
// index this daemon does not crawl (another node's, whose daemon may be
// idle). The daemon heals what its heals create itself, down to the
// files, in one HealIndex.
func TestIndexHealFollowsWhatItCreates(t *testing.T) {
	tv := newVolume(t, 2)
	g, _ := tv.mount()
	ctx := fop.WithCaller(bg, &fop.Caller{})
	parent := fop.RootGFID
	for _, name := range []string{"d", "sub"} {
		a, _, err := g.Top.Mkdir(ctx, &fop.Loc{Parent: parent, Name: name, GFID: fop.NewGFID()}, 0o755, 0, nil)
		if err != nil {
			t.Fatalf("mkdir %s: %v", name, err)
		}
		parent = a.GFID
	}
	fd := fop.NewFD(fop.NewGFID(), syscall.O_RDWR)
	if _, _, err := g.Top.Create(ctx, &fop.Loc{Parent: parent, Name: "f", GFID: fd.GFID}, syscall.O_RDWR|syscall.O_CREAT, 0o644, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := g.Top.Write(ctx, fd, []byte("deep"), 0); err != nil {
		t.Fatal(err)
	}
	g.Top.Flush(ctx, fd)
	g.Top.Release(ctx, fd)
	g.Close()

	tv.addReplica()
	// Brick 1's directories are newer: entry heals take it as source, and
	// the marks of what they create land in its index, not brick 0's.
	later := time.Now().Add(time.Hour)
	for _, d := range []string{".", "d", "d/sub"} {
		if err := os.Chtimes(filepath.Join(tv.brick(1).Path, d), later, later); err != nil {
			t.Fatal(err)
		}
	}
	h, err := Open(bg, Config{Volfile: tv.client, Registry: layers.Registry(), Local: []Brick{tv.brick(0)}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.MarkNew(bg, []Brick{tv.brick(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.HealIndex(bg); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(tv.brick(2).Path, "d", "sub", "f"))
	if err != nil || string(b) != "deep" {
		t.Fatalf("the new replica's d/sub/f after one index heal: %q, %v", b, err)
	}
}
