package client_test

import (
	"context"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
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
