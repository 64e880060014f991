// Package writebehind is the performance/write-behind layer of the client
// graph (just above the cluster layers). As GlusterFS's, it acknowledges a
// write at once and keeps it in a per-file window (cache-size bytes; a
// write that does not fit waits for room), and one background worker per
// file sends the queued writes below in order, merging adjacent ones into
// larger writes. The application then overlaps its next write (or its next
// file) with the round trip of the last one.
//
// Consistency: every operation that could observe a file's data or size
// (read, stat, setattr, truncate, fsync, lk, fallocate, seek, lookup,
// open with O_TRUNC, ...) first waits until the file's queue is empty;
// readdirplus entries get their size raised to cover queued writes.
// A failed background write is reported by the next write, fsync or flush
// on the file. With flush-behind on, flush returns at once and is queued
// behind the writes; release always waits for the queue, so no data is
// lost when a file is closed. Files opened O_SYNC, O_DSYNC or O_DIRECT
// bypass the window.
package writebehind

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/volopt"
)

// Type is the volfile type of this layer.
const Type = "performance/write-behind"

// Defaults: performance.write-behind-window-size's and the largest write
// the FUSE edge sends, which is also how large merged writes grow.
const (
	DefaultWindow = 1 << 20
	maxMerge      = 1 << 20
)

// config is the layer's options.
type config struct {
	window      uint64
	flushBehind bool
}

func parseConfig(opts map[string]string) (config, error) {
	c := config{window: DefaultWindow, flushBehind: true}
	if s, ok := opts["cache-size"]; ok {
		n, err := volopt.ParseSize(s)
		if err != nil {
			return c, fmt.Errorf("%s: option cache-size: %w", Type, err)
		}
		c.window = n
	}
	if s, ok := opts["flush-behind"]; ok {
		b, err := volopt.ParseBool(s)
		if err != nil {
			return c, fmt.Errorf("%s: option flush-behind: %w", Type, err)
		}
		c.flushBehind = b
	}
	return c, nil
}

// WB is the write-behind layer.
type WB struct {
	fop.Base
	cfg atomic.Pointer[config]

	mu     sync.Mutex
	inodes map[fop.GFID]*inode // files open through this layer

	sh  *shared
	log *slog.Logger
}

var (
	_ fop.Layer          = (*WB)(nil)
	_ graph.Reconfigurer = (*WB)(nil)
	_ io.Closer          = (*WB)(nil)
)

// New builds the layer above its single child.
func New(a *graph.Args) (fop.Layer, error) {
	next, err := a.OnlyChild()
	if err != nil {
		return nil, err
	}
	w := &WB{Base: fop.Base{Next: next}, inodes: map[fop.GFID]*inode{}, sh: &shared{next: next}, log: a.Logger}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if err := w.Reconfigure(a.Options); err != nil {
		return nil, err
	}
	return w, nil
}

// Reconfigure applies changed options to the writes that come next.
func (w *WB) Reconfigure(opts map[string]string) error {
	c, err := parseConfig(opts)
	if err != nil {
		return err
	}
	w.cfg.Store(&c)
	return nil
}

// ctxKey is this layer's key in an FD's ctx.
type ctxKey struct{}

// attach records an fd opened through this layer on its file's inode.
func (w *WB) attach(fd *fop.FD, a *fop.Attr) {
	w.mu.Lock()
	in := w.inodes[fd.GFID]
	if in == nil {
		in = newInode(w.sh)
		w.inodes[fd.GFID] = in
	}
	in.refs++
	w.mu.Unlock()
	if a != nil {
		in.setAttr(*a)
	}
	fd.SetCtx(ctxKey{}, in)
}

// detach drops fd's reference; the last one forgets the inode and
// reports so.
func (w *WB) detach(fd *fop.FD, in *inode) bool {
	fd.DelCtx(ctxKey{})
	w.mu.Lock()
	defer w.mu.Unlock()
	if in.refs--; in.refs == 0 {
		if w.inodes[fd.GFID] == in {
			delete(w.inodes, fd.GFID)
		}
		return true
	}
	return false
}

// fdInode returns the inode of an fd opened through this layer, or nil.
func fdInode(fd *fop.FD) *inode {
	v, ok := fd.Ctx(ctxKey{})
	if !ok {
		return nil
	}
	return v.(*inode)
}

// lookupInode returns the open inode of g, or nil.
func (w *WB) lookupInode(g fop.GFID) *inode {
	if g.IsZero() {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.inodes[g]
}

// settleLoc waits for the queued writes of the file loc names, if any.
func (w *WB) settleLoc(loc *fop.Loc) {
	if in := w.lookupInode(loc.GFID); in != nil {
		in.drain()
	}
}

// bypass reports whether writes on fd must reach the bricks before they
// are acknowledged.
func bypass(fd *fop.FD) bool {
	return fd.Flags&(syscall.O_SYNC|syscall.O_DSYNC|syscall.O_DIRECT) != 0
}

// Create records the new file so that its first writes can be answered
// with attributes at once.
func (w *WB) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	obj, parent, err := w.Next.Create(ctx, loc, flags, mode, umask, fd, xdata)
	if err == nil {
		w.attach(fd, &obj)
	}
	return obj, parent, err
}

// Open waits for queued writes before a truncating open.
func (w *WB) Open(ctx context.Context, loc *fop.Loc, flags uint32, fd *fop.FD) error {
	if flags&syscall.O_TRUNC != 0 {
		w.settleLoc(loc)
	}
	if err := w.Next.Open(ctx, loc, flags, fd); err != nil {
		return err
	}
	w.attach(fd, nil)
	return nil
}

// Write queues data and answers at once, unless the fd asks for
// synchronous writes or the file's attributes are not known yet.
func (w *WB) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	in := fdInode(fd)
	if in == nil {
		return w.Next.Write(ctx, fd, data, off)
	}
	if err := in.takeErr(); err != nil {
		return 0, fop.Attr{}, fmt.Errorf("write %s: earlier write: %w", fd.GFID, err)
	}
	if bypass(fd) || !in.hasAttr() {
		in.drain()
		n, a, err := w.Next.Write(ctx, fd, data, off)
		if err == nil {
			in.setAttr(a)
		}
		return n, a, err
	}
	a := in.enqueue(ctx, fd, data, off, w.cfg.Load().window)
	return len(data), a, nil
}

// Flush with flush-behind queues the flush behind the writes and returns
// at once; without it, it waits for them. Either way it reports an
// earlier failed write.
func (w *WB) Flush(ctx context.Context, fd *fop.FD) error {
	in := fdInode(fd)
	if in == nil {
		return w.Next.Flush(ctx, fd)
	}
	if w.cfg.Load().flushBehind && in.enqueueFlush(ctx, fd) {
		if err := in.takeErr(); err != nil {
			return fmt.Errorf("flush %s: earlier write: %w", fd.GFID, err)
		}
		return nil
	}
	in.drain()
	if err := in.takeErr(); err != nil {
		return fmt.Errorf("flush %s: earlier write: %w", fd.GFID, err)
	}
	return w.Next.Flush(ctx, fd)
}

// Fsync waits for the queued writes and reports the first that failed.
func (w *WB) Fsync(ctx context.Context, fd *fop.FD, datasync bool) (fop.Attr, error) {
	in := fdInode(fd)
	if in == nil {
		return w.Next.Fsync(ctx, fd, datasync)
	}
	in.drain()
	if err := in.takeErr(); err != nil {
		return fop.Attr{}, fmt.Errorf("fsync %s: earlier write: %w", fd.GFID, err)
	}
	a, err := w.Next.Fsync(ctx, fd, datasync)
	if err == nil {
		in.setAttr(a)
	}
	return a, err
}

// Release closes the fd below once its writes (and queued flush) have
// reached the bricks. A failure nobody can be told of any more (the file's
// last fd is going) is logged.
//
// A detached release (fop.WithDetached: FUSE's, which the kernel does not
// wait for) with writes still queued or in flight returns at once and is
// queued behind them: the worker sending them releases the fd when done,
// so the release costs no wait for the writes (and the fd stays attached,
// its writes visible to lookups, until then). Others wait for the writes.
func (w *WB) Release(ctx context.Context, fd *fop.FD) error {
	in := fdInode(fd)
	if in == nil {
		return w.Next.Release(ctx, fd)
	}
	if fop.Detached(ctx) {
		ctx = context.WithoutCancel(ctx)
		if in.enqueueRelease(ctx, fd, func() {
			if err := w.release(ctx, fd, in); err != nil {
				w.log.Warn("release failed", "gfid", fd.GFID.String(), "err", err)
			}
		}) {
			return nil
		}
	}
	in.drain()
	return w.release(ctx, fd, in)
}

// Close waits for the writes (and releases) still queued, before the
// layers below close.
func (w *WB) Close() error {
	w.sh.workers.Wait()
	return nil
}

// release closes fd below once nothing of it is queued any more.
func (w *WB) release(ctx context.Context, fd *fop.FD, in *inode) error {
	if w.detach(fd, in) {
		if err := in.takeErr(); err != nil {
			w.log.Warn("write behind failed after close", "gfid", fd.GFID.String(), "err", err)
		}
	}
	return w.Next.Release(ctx, fd)
}

// Lookup waits for a file's queued writes so that its size is current.
func (w *WB) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	w.settleLoc(loc)
	sent := w.sh.sent.Load()
	a, x, err := w.Next.Lookup(ctx, loc, xreq)
	if err != nil || !loc.GFID.IsZero() {
		return a, x, err
	}
	// Resolved by name: the file may have had writes queued after all,
	// still queued now or answered while the lookup ran.
	if in := w.lookupInode(a.GFID); in != nil && (in.busy() || w.sh.sent.Load() != sent) {
		in.drain()
		return w.Next.Lookup(ctx, loc, xreq)
	}
	return a, x, err
}

// Readdir raises the sizes readdirplus reports to cover queued writes.
func (w *WB) Readdir(ctx context.Context, fd *fop.FD, off uint64, max int, plus bool, xreq fop.Dict) ([]fop.DirEntry, error) {
	ents, err := w.Next.Readdir(ctx, fd, off, max, plus, xreq)
	if err != nil || !plus {
		return ents, err
	}
	for i := range ents {
		if a := ents[i].Attr; a != nil {
			if in := w.lookupInode(a.GFID); in != nil {
				in.cover(a)
			}
		}
	}
	return ents, nil
}

// timeNow is the mtime acknowledged writes report.
func timeNow() fop.Timespec {
	t := time.Now()
	return fop.Timespec{Sec: t.Unix(), Nsec: uint32(t.Nanosecond())}
}
