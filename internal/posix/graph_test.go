package posix_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/iostats"
	"github.com/gluster-go/gluster-go/internal/locks"
	"github.com/gluster-go/gluster-go/internal/posix"
	"github.com/gluster-go/gluster-go/internal/volfile"
)

// TestBrickGraph builds the storage half of a brick graph from a volfile,
// as glusterfsd does, and drives it from the top.
func TestBrickGraph(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := filepath.Join(t.TempDir(), "b1")
	os.Mkdir(dir, 0o755)
	text := strings.ReplaceAll(`volume v-posix
    type storage/posix
    option directory DIR
    option volume-id 6e7f1a2b-0000-4000-8000-000000000001
    option brick-uid 36
    option brick-gid 36
end-volume

volume v-locks
    type features/locks
    subvolumes v-posix
end-volume

volume DIR
    type debug/io-stats
    subvolumes v-locks
end-volume
`, "DIR", dir)
	f, err := volfile.Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	reg := graph.Registry{posix.Type: posix.New, locks.Type: locks.New, iostats.Type: iostats.New}
	g, err := graph.Build(f, reg, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := fop.WithCaller(context.Background(), &fop.Caller{Client: "c1", LkOwner: 7})
	fd := fop.NewFD(fop.GFID{}, syscall.O_RDWR)
	obj, _, err := g.Top.Create(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f", Path: "/f", GFID: fop.NewGFID()}, syscall.O_RDWR, 0o644, 0, fd, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := g.Top.Write(ctx, fd, []byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Top.Lk(ctx, fd, fop.SetLk, &fop.Flock{Type: syscall.F_WRLCK}); err != nil {
		t.Fatal(err)
	}
	other := fop.WithCaller(context.Background(), &fop.Caller{Client: "c2", LkOwner: 7})
	if _, err := g.Top.Lk(other, fd, fop.SetLk, &fop.Flock{Type: syscall.F_RDLCK}); fop.Errno(err) != syscall.EAGAIN {
		t.Fatalf("lock of another client: %v", err)
	}
	// The connection of c1 goes: its lock goes with it.
	g.Top.(fop.ClientForgetter).ForgetClient("c1")
	if _, err := g.Top.Lk(other, fd, fop.SetLk, &fop.Flock{Type: syscall.F_RDLCK}); err != nil {
		t.Fatal(err)
	}
	if err := g.Top.Release(ctx, fd); err != nil {
		t.Fatal(err)
	}
	if a, err := g.Top.Stat(ctx, &fop.Loc{GFID: obj.GFID}); err != nil || a.Size != 5 {
		t.Fatalf("stat: %+v %v", a, err)
	}
	if a, err := g.Top.Stat(ctx, &fop.Loc{GFID: fop.RootGFID}); err != nil || a.UID != 36 || a.GID != 36 {
		t.Fatalf("root owner (brick-uid/gid): %+v %v", a, err)
	}
	snap := g.Layer(dir).(*iostats.IOStats).Snapshot()
	if snap.Ops["CREATE"].Calls != 1 || snap.Ops["LK"].Calls != 3 || snap.Ops["LK"].Errors != 1 || snap.BytesWritten != 5 {
		t.Fatalf("io-stats: %+v", snap)
	}
	// Another volume's volfile naming the same directory is refused.
	f2, _ := volfile.Parse(strings.NewReader(strings.Replace(text, "6e7f1a2b", "00000000", 1)))
	if _, err := graph.Build(f2, reg, graph.Options{}); err == nil || !strings.Contains(err.Error(), "another volume") {
		t.Fatalf("volume-id mismatch: %v", err)
	}
}
