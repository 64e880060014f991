package index

import (
	"context"
	"encoding/binary"
	"log/slog"
	"slices"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/posix"
)

func counters(d, m, e uint32) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint32(b, d)
	binary.BigEndian.PutUint32(b[4:], m)
	binary.BigEndian.PutUint32(b[8:], e)
	return b
}

func neg(n uint32) uint32 { return -n }

func TestIndexFollowsTheChangelog(t *testing.T) {
	dir := t.TempDir()
	p, err := posix.OpenBrick(dir, nil, 64, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(&graph.Args{Children: []fop.Layer{p}, Options: map[string]string{"index-base": Base(dir)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g := fop.NewGFID()
	fd := fop.NewFD(g, syscall.O_RDWR)
	if _, _, err := l.Create(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f", GFID: g}, syscall.O_RDWR|syscall.O_CREAT, 0o644, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	l.Release(ctx, fd)
	loc := &fop.Loc{GFID: g}
	xop := func(x fop.Dict) {
		t.Helper()
		if _, err := l.Xattrop(ctx, loc, fop.XattropAddArray32, x); err != nil {
			t.Fatal(err)
		}
	}
	pending := func() []fop.GFID {
		t.Helper()
		gs, err := Pending(Base(dir))
		if err != nil {
			t.Fatal(err)
		}
		return gs
	}
	const peer = "trusted.afr.v-client-1"

	// In flight: dirty only.
	xop(fop.Dict{"trusted.afr.dirty": counters(1, 0, 0), peer: counters(0, 0, 0)})
	if got := pending(); !slices.Equal(got, []fop.GFID{g}) {
		t.Fatalf("dirty: pending %v", got)
	}
	// Post-op accuses the peer and clears dirty: still listed, once.
	xop(fop.Dict{"trusted.afr.dirty": counters(neg(1), 0, 0), peer: counters(1, 0, 0)})
	if got := pending(); !slices.Equal(got, []fop.GFID{g}) {
		t.Fatalf("accused: pending %v", got)
	}
	// Healed: every counter back to zero, the entry goes.
	xop(fop.Dict{"trusted.afr.dirty": counters(0, 0, 0), peer: counters(neg(1), 0, 0)})
	if got := pending(); len(got) != 0 {
		t.Fatalf("healed: pending %v", got)
	}
	// Keys of other layers do not touch the index.
	xop(fop.Dict{"trusted.glusterfs.quota.size": make([]byte, 8)})
	if got := pending(); len(got) != 0 {
		t.Fatalf("quota counter: pending %v", got)
	}
}

func TestNewNeedsIndexBase(t *testing.T) {
	if _, err := New(&graph.Args{Children: []fop.Layer{fop.Base{}}}); err == nil {
		t.Fatal("no index-base accepted")
	}
}
