package graphswitch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/posix"
	"github.com/gluster-go/gluster-go/internal/volfile"
)

func brickGraph(t *testing.T, dir string) *graph.Graph {
	t.Helper()
	f, err := volfile.Parse(strings.NewReader(fmt.Sprintf("volume b\n type storage/posix\n option directory %s\nend-volume\n", dir)))
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Build(f, graph.Registry{posix.Type: posix.New}, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestOpenFDsMoveToTheNewGraph swaps graphs under an open file: the FD
// moves to the new graph (writes through it land there), the previous
// graph is left without users, and new lookups reach the new graph.
func TestOpenFDsMoveToTheNewGraph(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := New(brickGraph(t, dir), nil)
	defer s.Close()

	g := fop.NewGFID()
	fd := fop.NewFD(g, syscall.O_RDWR|syscall.O_CREAT|syscall.O_TRUNC)
	if _, _, err := s.Create(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f", GFID: g}, fd.Flags, 0o644, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Write(ctx, fd, []byte("before, "), 0); err != nil {
		t.Fatal(err)
	}
	prev := s.cur
	s.Swap(brickGraph(t, dir))
	if _, _, err := s.Write(ctx, fd, []byte("after"), 8); err != nil {
		t.Fatalf("write through an FD opened before the swap: %v", err)
	}
	v, _ := fd.Ctx(s)
	o := v.(*openFD)
	s.mu.Lock()
	moved, prevUsers, curFDs := o.g == s.cur, prev.users, len(s.cur.fds)
	s.mu.Unlock()
	if !moved || o.fd == fd || o.flags != syscall.O_RDWR {
		t.Fatalf("the FD did not move to the new graph (moved %v, own FD %v, flags %#o)", moved, o.fd != fd, o.flags)
	}
	if prevUsers != 0 || curFDs != 1 {
		t.Fatalf("previous graph has %d users, current %d FDs", prevUsers, curFDs)
	}
	if err := s.Release(ctx, fd); err != nil {
		t.Fatal(err)
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "f")); err != nil || string(raw) != "before, after" {
		t.Fatalf("brick: %q, %v", raw, err)
	}
	s.mu.Lock()
	users := s.cur.users
	s.mu.Unlock()
	if users != 0 {
		t.Fatalf("current graph has %d users after all calls returned", users)
	}
}

// TestFDOfAnUnreachableObjectStays: an FD whose object the new graph
// cannot find (another brick) keeps working on its graph.
func TestFDOfAnUnreachableObjectStays(t *testing.T) {
	ctx := context.Background()
	a, b := t.TempDir(), t.TempDir()
	s := New(brickGraph(t, a), nil)
	defer s.Close()
	g := fop.NewGFID()
	fd := fop.NewFD(g, syscall.O_RDWR)
	if _, _, err := s.Create(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f", GFID: g}, syscall.O_RDWR|syscall.O_CREAT, 0o644, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	s.Swap(brickGraph(t, b))
	if _, _, err := s.Write(ctx, fd, []byte("old graph"), 0); err != nil {
		t.Fatalf("write through an FD left on the previous graph: %v", err)
	}
	if err := s.Release(ctx, fd); err != nil {
		t.Fatal(err)
	}
	if raw, err := os.ReadFile(filepath.Join(a, "f")); err != nil || string(raw) != "old graph" {
		t.Fatalf("first brick: %q, %v", raw, err)
	}
	if _, _, err := s.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f"}, nil); fop.Errno(err) != syscall.ENOENT {
		t.Fatalf("lookup after the swap reached the old graph: %v", err)
	}
}
