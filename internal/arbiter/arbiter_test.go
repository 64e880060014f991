package arbiter

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/posix"
)

func TestArbiterKeepsNamesNotData(t *testing.T) {
	dir := t.TempDir()
	p, err := posix.OpenBrick(dir, nil, 64, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(&graph.Args{Children: []fop.Layer{p}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g := fop.NewGFID()
	fd := fop.NewFD(g, syscall.O_RDWR)
	if _, _, err := l.Create(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f", GFID: g}, syscall.O_RDWR|syscall.O_CREAT, 0o640, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	n, a, err := l.Write(ctx, fd, []byte("data"), 10)
	if err != nil || n != 4 || a.Size != 14 {
		t.Fatalf("write: %d, size %d, %v", n, a.Size, err)
	}
	if _, err := l.Ftruncate(ctx, fd, 100); err != nil {
		t.Fatal(err)
	}
	if err := l.Setxattr(ctx, &fop.Loc{GFID: g}, fop.Dict{"user.k": []byte("v")}, 0); err != nil {
		t.Fatal(err)
	}
	l.Release(ctx, fd)
	st, err := os.Stat(filepath.Join(dir, "f"))
	if err != nil || st.Size() != 0 || st.Mode().Perm() != 0o640 {
		t.Fatalf("arbiter's file: %v, %v", st, err)
	}
	buf := make([]byte, 8)
	if n, err := syscall.Getxattr(filepath.Join(dir, "f"), "user.k", buf); err != nil || string(buf[:n]) != "v" {
		t.Fatalf("xattr on the arbiter: %q, %v", buf[:n], err)
	}
}
