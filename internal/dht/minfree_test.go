package dht

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/posix"
)

// TestMinFreeDiskSendsFilesElsewhere puts one brick on a small, almost
// full tmpfs (the other on the test's file system, assumed to have more
// than 10% free): a new file hashing to it goes to the other brick, with a
// linkto on the full one, and reads back through the volume.
func TestMinFreeDiskSendsFilesElsewhere(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	full := t.TempDir()
	if err := unix.Mount("tmpfs", full, "tmpfs", 0, "size=4m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(full, unix.MNT_DETACH) })
	// Fill the tmpfs to about 95%.
	if err := os.WriteFile(filepath.Join(full, ".filler"), make([]byte, 3900<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	dirs := []string{filepath.Join(full, "brick"), t.TempDir()}
	var children []fop.Layer
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p, err := posix.OpenBrick(dir, nil, 64, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		children = append(children, p)
	}
	l, err := New(&graph.Args{Name: "t-dht", Children: children, ChildNames: []string{"t-client-0", "t-client-1"},
		Options: map[string]string{"min-free-disk": "10%"}})
	if err != nil {
		t.Fatal(err)
	}
	d := l.(*DHT)
	ctx := context.Background()
	if _, _, err := d.Lookup(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, nil); err != nil {
		t.Fatal(err)
	}
	var name string
	for i := 0; ; i++ {
		name = fmt.Sprintf("f%d", i)
		if h, _ := d.hashed(ctx, fop.RootGFID, name); h == 0 {
			break
		}
	}
	create(t, d, fop.RootGFID, name, "payload")
	data, linkto := bricksHolding(t, dirs, name)
	if len(data) != 1 || data[0] != 1 || len(linkto) != 1 || linkto[0] != 0 {
		t.Fatalf("file hashing to the full brick: data on %v, linkto on %v; want data on 1, linkto on 0", data, linkto)
	}
	if got := string(readAll(t, d, name)); got != "payload" {
		t.Fatalf("read back %q", got)
	}
}
