package posix

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// BenchmarkCreate measures a create on a fresh brick (handle dirs included).
func BenchmarkCreate(b *testing.B) {
	br := newBrick(b)
	for i := 0; b.Loop(); i++ {
		fd := fop.NewFD(fop.GFID{}, 0)
		if _, _, err := br.Create(br.ctx, at(fop.RootGFID, itoa(i)), unix.O_RDWR, 0o644, 0, fd, nil); err != nil {
			b.Fatal(err)
		}
		br.Release(br.ctx, fd)
	}
}
