package client_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/posix"
)

// Many callers at once create, write, read back and remove files on a real
// posix brick through one client connection.
func TestPosixConcurrent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bricks keep trusted.* xattrs, which need root")
	}
	p, err := posix.OpenBrick(t.TempDir(), nil, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	ln := listen(t, "127.0.0.1:0")
	startBrick(t, p, nil, ln)
	c, _ := newClient(t, ln.Addr().String(), nil)

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			ctx := fop.WithCaller(context.Background(), &fop.Caller{PID: uint32(1000 + g)})
			data := make([]byte, 200<<10)
			buf := make([]byte, len(data))
			for i := range 20 {
				rand.Read(data)
				loc := fop.Loc{Parent: fop.RootGFID, Name: fmt.Sprintf("f-%d-%d", g, i), GFID: fop.NewGFID()}
				fd := fop.NewFD(loc.GFID, syscall.O_CREAT|syscall.O_RDWR)
				if _, _, err := c.Create(ctx, &loc, fd.Flags, 0o644, 0, fd, nil); err != nil {
					errs <- err
					return
				}
				if n, _, err := c.Write(ctx, fd, data, 0); err != nil || n != len(data) {
					errs <- fmt.Errorf("write %s: %d, %v", loc.Name, n, err)
					return
				}
				if n, err := c.Read(ctx, fd, buf, 0); err != nil || !bytes.Equal(buf[:n], data) {
					errs <- fmt.Errorf("read %s: %d, %v", loc.Name, n, err)
					return
				}
				if err := c.Release(ctx, fd); err != nil {
					errs <- err
					return
				}
				if a, err := c.Stat(ctx, &fop.Loc{GFID: loc.GFID}); err != nil || a.Size != uint64(len(data)) {
					errs <- fmt.Errorf("stat %s: %+v, %v", loc.Name, a, err)
					return
				}
				if _, err := c.Unlink(ctx, &loc); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Everything was removed again.
	dfd := fop.NewFD(fop.RootGFID, 0)
	ctx := context.Background()
	if err := c.Opendir(ctx, &fop.Loc{GFID: fop.RootGFID, Path: "/"}, dfd); err != nil {
		t.Fatal(err)
	}
	es, err := c.Readdir(ctx, dfd, 0, 100, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Name != "." && e.Name != ".." && e.Name != ".glusterfs" {
			t.Errorf("left on the brick: %s", e.Name)
		}
	}
	c.Releasedir(ctx, dfd)
}
