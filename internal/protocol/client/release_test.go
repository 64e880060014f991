package client_test

import (
	"context"
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// A detached release (fop.WithDetached: FUSE's) does not wait for the
// brick's answer, so a brick's failure is not reported as it is to a
// plain release; the release still reaches the brick (with the next call
// or on its own).
func TestDetachedReleaseNotAwaited(t *testing.T) {
	r := &rec{}
	ln := listen(t, "127.0.0.1:0")
	startBrick(t, r, nil, ln)
	c, _ := newClient(t, ln.Addr().String(), nil)
	ctx := fop.WithCaller(context.Background(), &caller)
	var fds []*fop.FD
	for range 2 {
		fd := fop.NewFD(gfidF, syscall.O_RDWR)
		if err := c.Open(ctx, &locF, fd.Flags, fd); err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
	}
	r.mu.Lock()
	r.fail = syscall.EIO
	r.mu.Unlock()
	if err := c.Release(ctx, fds[0]); !errors.Is(err, syscall.EIO) {
		t.Fatalf("release: %v, want the brick's EIO", err)
	}
	if err := c.Release(fop.WithDetached(ctx), fds[1]); err != nil {
		t.Fatalf("detached release: %v, want nil (not awaited)", err)
	}
	releases := func() int {
		return len(slices.DeleteFunc(r.calls(), func(s string) bool { return s != "release" }))
	}
	for releases() < 2 {
		time.Sleep(time.Millisecond)
	}
}
