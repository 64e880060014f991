package client_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/posix"
)

// BenchmarkStat measures one small call through protocol/client and
// protocol/server over loopback.
func BenchmarkStat(b *testing.B) {
	ln := listen(b, "127.0.0.1:0")
	startBrick(b, &rec{}, nil, ln)
	c, _ := newClient(b, ln.Addr().String(), nil)
	ctx := fop.WithCaller(context.Background(), &caller)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Stat(ctx, &locF); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkWrite128K(b *testing.B) {
	ln := listen(b, "127.0.0.1:0")
	startBrick(b, nopWrite{&rec{}}, nil, ln)
	c, _ := newClient(b, ln.Addr().String(), nil)
	ctx := context.Background()
	fd := fop.NewFD(gfidF, syscall.O_RDWR)
	if err := c.Open(ctx, &locF, fd.Flags, fd); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(128 << 10)
	b.RunParallel(func(pb *testing.PB) {
		data := make([]byte, 128<<10)
		for pb.Next() {
			if _, _, err := c.Write(ctx, fd, data, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// nopWrite is a brick whose writes cost nothing.
type nopWrite struct{ *rec }

func (nopWrite) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	return len(data), fop.Attr{}, nil
}

// BenchmarkCreateWrite4K creates, writes 4 KiB to and closes a file on a
// real posix brick per iteration: the small-file path over the network.
// BenchmarkCreateWrite4KLocal does the same on the brick directly, so the
// difference is what the protocol costs.
func BenchmarkCreateWrite4K(b *testing.B) {
	p := openBrick(b)
	ln := listen(b, "127.0.0.1:0")
	startBrick(b, p, nil, ln)
	c, _ := newClient(b, ln.Addr().String(), nil)
	createWrite4K(b, c)
}

func BenchmarkCreateWrite4KLocal(b *testing.B) { createWrite4K(b, openBrick(b)) }

func openBrick(b *testing.B) *posix.Posix {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	p, err := posix.OpenBrick(b.TempDir(), nil, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

func createWrite4K(b *testing.B, l fop.Layer) {
	ctx := context.Background()
	data := make([]byte, 4096)
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			loc := fop.Loc{Parent: fop.RootGFID, Name: fmt.Sprint("f", n.Add(1)), GFID: fop.NewGFID()}
			fd := fop.NewFD(loc.GFID, syscall.O_CREAT|syscall.O_WRONLY)
			if _, _, err := l.Create(ctx, &loc, fd.Flags, 0o644, 0, fd, nil); err != nil {
				b.Fatal(err)
			}
			if _, _, err := l.Write(ctx, fd, data, 0); err != nil {
				b.Fatal(err)
			}
			if err := l.Flush(ctx, fd); err != nil {
				b.Fatal(err)
			}
			if err := l.Release(ctx, fd); err != nil {
				b.Fatal(err)
			}
		}
	})
}
