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

// TestOpenFDsStayOnTheirGraph swaps graphs under an open file: the FD keeps
// reaching the graph it was opened on, new lookups reach the new graph.
func TestOpenFDsStayOnTheirGraph(t *testing.T) {
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
		t.Fatalf("write through an FD of the previous graph: %v", err)
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
	s.mu.Lock()
	users := s.cur.users
	s.mu.Unlock()
	if users != 0 {
		t.Fatalf("current graph has %d users after all calls returned", users)
	}
}
