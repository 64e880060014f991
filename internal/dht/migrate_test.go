package dht

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/bricktest"
	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
)

// newLockedVolume builds dht over n bricks of locks over posix, as bricks
// really are (migration needs inodelk).
func newLockedVolume(t *testing.T, n int, opts map[string]string) (*DHT, []string) {
	t.Helper()
	children, names, dirs := bricktest.Bricks(t, n, "test", nil)
	l, err := New(&graph.Args{Name: "test-dht", Children: children, ChildNames: names, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return l.(*DHT), dirs
}

// TestMigrateWhileWriting moves files off a decommissioned brick while a
// client keeps writing one of them through an FD opened before the move:
// every write lands in the migrated file.
func TestMigrateWhileWriting(t *testing.T) {
	ctx := context.Background()
	d, dirs := newLockedVolume(t, 3, map[string]string{})
	if _, _, err := d.Lookup(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, nil); err != nil {
		t.Fatal(err)
	}
	// A file on brick 2, large enough for several copy chunks.
	var name string
	for i := 0; ; i++ {
		name = fmt.Sprintf("big-%d", i)
		if h, _ := d.hashed(ctx, fop.RootGFID, name); h == 2 {
			break
		}
	}
	model := make([]byte, 5*copyChunk+123)
	for i := range model {
		model[i] = byte(i * 7)
	}
	g := fop.NewGFID()
	fd := fop.NewFD(g, syscall.O_RDWR)
	if _, _, err := d.Create(ctx, &fop.Loc{Parent: fop.RootGFID, Name: name, GFID: g}, syscall.O_RDWR|syscall.O_CREAT, 0o640, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Write(ctx, fd, model, 0); err != nil {
		t.Fatal(err)
	}

	if err := d.Reconfigure(map[string]string{"decommissioned-bricks": "test-client-2"}); err != nil {
		t.Fatal(err)
	}
	if err := d.FixLayout(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, 7); err != nil {
		t.Fatal(err)
	}
	if h, _ := d.HashedChild(ctx, fop.RootGFID, name); h == 2 {
		t.Fatal("decommissioned brick still has a range")
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(1, 2))
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			off := r.IntN(len(model) + 4096)
			buf := bytes.Repeat([]byte{byte(k)}, 1+r.IntN(9000))
			mu.Lock()
			if _, _, err := d.Write(ctx, fd, buf, int64(off)); err != nil {
				mu.Unlock()
				t.Errorf("write during migration: %v", err)
				return
			}
			if end := off + len(buf); end > len(model) {
				model = append(model, make([]byte, end-len(model))...)
			}
			copy(model[off:], buf)
			mu.Unlock()
		}
	}()
	moved, _, err := d.Migrate(ctx, fop.RootGFID, "/", name, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if !moved {
		t.Fatal("nothing moved")
	}
	// Writes after the switch, through the FD opened before it.
	for k := 0; k < 5; k++ {
		buf := []byte(fmt.Sprintf("after-%d", k))
		off := k * 1000
		if _, _, err := d.Write(ctx, fd, buf, int64(off)); err != nil {
			t.Fatal(err)
		}
		copy(model[off:], buf)
	}
	d.Release(ctx, fd)

	data, linkto := bricksHolding(t, dirs, name)
	if len(data) != 1 || data[0] == 2 || len(linkto) != 0 {
		t.Fatalf("after migration: data on %v, linkto on %v", data, linkto)
	}
	got := readAll(t, d, name)
	if !bytes.Equal(got, model) {
		t.Fatalf("content differs after migration: %d bytes, want %d", len(got), len(model))
	}
	a, _, err := d.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: name}, nil)
	if err != nil || a.Mode&07777 != 0o640 {
		t.Fatalf("after migration: mode %o, err %v", a.Mode&07777, err)
	}
}

func readAll(t *testing.T, d *DHT, name string) []byte {
	t.Helper()
	ctx := context.Background()
	a, _, err := d.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: name}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fd := fop.NewFD(a.GFID, syscall.O_RDONLY)
	if err := d.Open(ctx, &fop.Loc{GFID: a.GFID}, syscall.O_RDONLY, fd); err != nil {
		t.Fatal(err)
	}
	defer d.Release(ctx, fd)
	var out []byte
	buf := make([]byte, 1<<20)
	for {
		n, err := d.Read(ctx, fd, buf, int64(len(out)))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, buf[:n]...)
		if n < len(buf) {
			return out
		}
	}
}

// TestMigrateFinishesInterruptedSwitch sets the bricks up as a migration
// that died right after phase 2 leaves them (source sticky+setgid with its
// saved mode, destination a linkto holding the data) and checks that the
// next Migrate finishes it instead of copying the source again.
func TestMigrateFinishesInterruptedSwitch(t *testing.T) {
	ctx := context.Background()
	d, dirs := newLockedVolume(t, 3, map[string]string{"decommissioned-bricks": "test-client-2"})
	if _, _, err := d.Lookup(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Reconfigure(map[string]string{}); err != nil {
		t.Fatal(err)
	}
	if err := d.FixLayout(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, 9); err != nil {
		t.Fatal(err)
	}
	var name string
	var dst int
	for i := 0; ; i++ {
		name = fmt.Sprintf("g%d", i)
		if dst, _ = d.HashedChild(ctx, fop.RootGFID, name); dst != 2 {
			break
		}
	}
	g := fop.NewGFID()
	loc := &fop.Loc{Parent: fop.RootGFID, Name: name, GFID: g}
	write := func(c fop.Layer, data string) {
		fd := fop.NewFD(g, syscall.O_RDWR)
		if err := c.Open(ctx, &fop.Loc{GFID: g}, syscall.O_RDWR, fd); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Write(ctx, fd, []byte(data), 0); err != nil {
			t.Fatal(err)
		}
		c.Release(ctx, fd)
	}
	src := d.children[2]
	if _, _, err := src.Mknod(ctx, loc, syscall.S_IFREG|phase2Mode, 0, 0, fop.Dict{
		LinktoKey: append([]byte(d.names[dst]), 0), modeKey: {0, 0, 1, 0o240}}); err != nil {
		t.Fatal(err)
	}
	write(src, "old data")
	if _, _, err := d.children[dst].Mknod(ctx, loc, linktoMode, 0, 0, fop.Dict{LinktoKey: append([]byte(d.names[2]), 0)}); err != nil {
		t.Fatal(err)
	}
	write(d.children[dst], "new data")

	if _, _, err := d.Migrate(ctx, fop.RootGFID, "/", name, 2, false); err != nil {
		t.Fatal(err)
	}
	data, linkto := bricksHolding(t, dirs, name)
	if len(data) != 1 || data[0] != dst || len(linkto) != 0 {
		t.Fatalf("after finishing: data on %v, linkto on %v", data, linkto)
	}
	if got := string(readAll(t, d, name)); got != "new data" {
		t.Fatalf("content %q, want the destination's", got)
	}
	if a, _, err := d.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: name}, nil); err != nil || a.Mode&07777 != 0o640 {
		t.Fatalf("mode %o, err %v; want the saved 640", a.Mode&07777, err)
	}
}
