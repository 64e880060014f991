package client_test

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/posix"
	"github.com/gluster-go/gluster-go/internal/protocol/client"
	"github.com/gluster-go/gluster-go/internal/protocol/server"
	"github.com/gluster-go/gluster-go/internal/upcall"
)

// upcallClient is a started protocol/client whose upcalls go to a channel.
func upcallClient(t *testing.T, addr string) (*client.Client, chan fop.Upcall) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	ups := make(chan fop.Upcall, 100)
	l, err := client.New(&graph.Args{Name: "v-client-0", Type: client.Type,
		Options:    map[string]string{"remote-host": host, "remote-port": port, "remote-subvolume": "/b"},
		EmitUpcall: func(u *fop.Upcall) { ups <- *u }})
	if err != nil {
		t.Fatal(err)
	}
	c := l.(*client.Client)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ups
}

func nextUpcall(t *testing.T, ups chan fop.Upcall) fop.Upcall {
	t.Helper()
	select {
	case u := <-ups:
		return u
	case <-time.After(10 * time.Second): // a hang guard
		t.Fatal("no upcall")
	}
	return fop.Upcall{}
}

// TestUpcallOverTheWire: a create by one client reaches the other, which
// had looked the name up, as an upcall from its protocol/client; each
// connection first reports a reset.
func TestUpcallOverTheWire(t *testing.T) {
	p, err := posix.OpenBrick(t.TempDir(), nil, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	var srv *server.Server
	u, err := upcall.New(&graph.Args{Name: "v-upcall", Options: map[string]string{"cache-invalidation": "on"},
		Children: []fop.Layer{p}, EmitUpcall: func(u *fop.Upcall) { srv.NotifyUpcall(nil, u) }})
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t, "127.0.0.1:0")
	srv = startBrick(t, u, nil, ln)
	a, aUps := upcallClient(t, ln.Addr().String())
	b, bUps := upcallClient(t, ln.Addr().String())
	for _, ups := range []chan fop.Upcall{aUps, bUps} {
		if got := nextUpcall(t, ups); got.Flags != fop.UpcallReset {
			t.Fatalf("first upcall %+v, want a reset", got)
		}
	}
	ctx := context.Background()
	if _, _, err := a.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f"}, nil); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("lookup: %v", err)
	}
	loc := &fop.Loc{Parent: fop.RootGFID, Name: "f", GFID: fop.NewGFID()}
	fd := fop.NewFD(loc.GFID, syscall.O_RDWR)
	if _, _, err := b.Create(ctx, loc, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, 0o644, 0, fd, nil); err != nil {
		t.Fatal(err)
	}
	b.Release(ctx, fd)
	got := nextUpcall(t, aUps)
	if got.GFID != fop.RootGFID || got.Flags&fop.UpcallEntry == 0 || got.Name != "f" || got.Client != "" {
		t.Fatalf("A got %+v", got)
	}
	select {
	case x := <-bUps:
		t.Fatalf("B, who created, got %+v", x)
	default:
	}
}
