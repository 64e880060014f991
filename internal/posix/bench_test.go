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

// BenchmarkLookup measures a lookup by name in a cached directory and a
// stat by GFID of a file.
func BenchmarkLookup(b *testing.B) {
	br := newBrick(b)
	f := br.create(br.ctx, fop.RootGFID, "f", 0o644, "")
	b.Run("name", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := br.Lookup(br.ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f"}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gfid", func(b *testing.B) {
		for b.Loop() {
			if _, err := br.Stat(br.ctx, &fop.Loc{GFID: f.GFID}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("name-as-user", func(b *testing.B) {
		ctx := asUser(65534, 65534)
		for b.Loop() {
			if _, _, err := br.Lookup(ctx, &fop.Loc{Parent: fop.RootGFID, Name: "f"}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
