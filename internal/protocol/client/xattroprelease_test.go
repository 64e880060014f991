package client_test

import (
	"context"
	"reflect"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// beforeRelease is a rec that keeps the call it saw before each release.
type beforeRelease struct {
	*rec
	before string
}

func (b *beforeRelease) Release(ctx context.Context, fd *fop.FD) error {
	b.before = b.lastCall()
	return b.rec.Release(ctx, fd)
}

// XattropRelease reaches the brick as an xattrop on the fd's object, run
// as the caller, then the fd's release; the fd is gone on both sides.
func TestXattropRelease(t *testing.T) {
	r := &beforeRelease{rec: &rec{}}
	ln := listen(t, "127.0.0.1:0")
	startBrick(t, r, nil, ln)
	c, _ := newClient(t, ln.Addr().String(), nil)
	ctx := fop.WithCaller(context.Background(), &caller)
	fd := fop.NewFD(gfidF, syscall.O_RDWR)
	if err := c.Open(ctx, &locF, fd.Flags, fd); err != nil {
		t.Fatal(err)
	}
	x := fop.Dict{"trusted.afr.dirty": []byte{0, 0, 0, 1}}
	if err := c.XattropRelease(ctx, fd, fop.XattropAddArray32, x); err != nil {
		t.Fatal(err)
	}
	if got, want := r.calls(), []string{"open", "xattrop", "release"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("brick saw %v, want %v", got, want)
	}
	direct := &rec{}
	direct.Xattrop(ctx, &fop.Loc{GFID: gfidF}, fop.XattropAddArray32, x)
	if got, want := r.before, direct.lastCall(); got != want {
		t.Errorf("brick saw\n  %s\nwant\n  %s", got, want)
	}
	direct.Release(ctx, fd)
	if got, want := r.lastCall(), direct.lastCall(); got != want {
		t.Errorf("brick saw\n  %s\nwant\n  %s", got, want)
	}
	if _, err := c.Fstat(ctx, fd); fop.Errno(err) != syscall.EBADF {
		t.Errorf("fstat after the release: %v, want EBADF", err)
	}
}
