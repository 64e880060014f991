package writebehind

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// req is one queued operation: a write, a queued release (release set) or
// else (data nil) a flush.
type req struct {
	ctx     context.Context
	fd      *fop.FD
	data    []byte
	off     int64
	release func()
}

// inode is one open file's window: the writes acknowledged but not yet
// answered below, the attributes acknowledged writes report, and the
// first error a background write met.
type inode struct {
	*shared

	mu      sync.Mutex
	cond    sync.Cond
	queue   []req
	bytes   uint64 // queued write bytes (the one in flight is not counted)
	running bool   // a worker is sending the queue
	attr    fop.Attr
	known   bool // attr is valid
	err     error
	refs    int // fds attached (guarded by WB.mu)
}

func newInode(sh *shared) *inode {
	in := &inode{shared: sh}
	in.cond.L = &in.mu
	return in
}

func (in *inode) setAttr(a fop.Attr) {
	in.mu.Lock()
	defer in.mu.Unlock()
	// Writes still queued or in flight will grow the file further.
	size := in.attr.Size
	in.attr, in.known = a, true
	if in.running && size > a.Size {
		in.attr.Size = size
	}
}

func (in *inode) hasAttr() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.known
}

// busy reports whether writes are queued or in flight.
func (in *inode) busy() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.running
}

// cover raises a's size to the end of the queued writes.
func (in *inode) cover(a *fop.Attr) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.running && in.known && in.attr.Size > a.Size {
		a.Size = in.attr.Size
	}
}

// takeErr returns and clears the first failed background write.
func (in *inode) takeErr() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	err := in.err
	in.err = nil
	return err
}

// drain waits until nothing is queued or in flight.
func (in *inode) drain() {
	in.mu.Lock()
	defer in.mu.Unlock()
	for in.running {
		in.cond.Wait()
	}
}

// enqueue copies data into the window, waiting while it would overflow
// (a write larger than the window goes alone), and returns the
// attributes that acknowledge it.
func (in *inode) enqueue(ctx context.Context, fd *fop.FD, data []byte, off int64, window uint64) fop.Attr {
	n := uint64(len(data))
	in.mu.Lock()
	defer in.mu.Unlock()
	for in.bytes > 0 && in.bytes+n > window {
		in.cond.Wait()
	}
	in.bytes += n
	in.queue = append(in.queue, req{ctx: context.WithoutCancel(ctx), fd: fd, data: append(in.getBuf(len(data)), data...), off: off})
	if end := uint64(off) + n; end > in.attr.Size {
		in.attr.Size = end
		in.attr.Blocks = (end + 511) / 512
	}
	in.attr.Mtime = timeNow()
	in.attr.Ctime = in.attr.Mtime
	in.start()
	return in.attr
}

// enqueueFlush queues a flush behind pending writes; false means there
// were none, and the caller flushes itself.
func (in *inode) enqueueFlush(ctx context.Context, fd *fop.FD) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.running {
		return false
	}
	in.queue = append(in.queue, req{ctx: context.WithoutCancel(ctx), fd: fd})
	return true
}

// enqueueRelease queues release to run once the writes before it are
// answered; false means nothing was queued or in flight, and the caller
// releases itself.
func (in *inode) enqueueRelease(ctx context.Context, fd *fop.FD, release func()) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.running {
		return false
	}
	in.queue = append(in.queue, req{ctx: ctx, fd: fd, release: release})
	return true
}

// start runs a worker unless one is running; in.mu is held.
func (in *inode) start() {
	if !in.running {
		in.running = true
		in.workers.Add(1)
		go in.work()
	}
}

// work sends the queue below in order, one request at a time, merging
// adjacent writes of one fd, until the queue is empty.
func (in *inode) work() {
	defer in.workers.Done()
	in.mu.Lock()
	defer in.mu.Unlock()
	for len(in.queue) > 0 {
		r, n := in.merge(in.queue)
		in.queue = in.queue[n:]
		// Taken off the window: the next writes queue while this one is
		// in flight, so that one is always ready to go.
		in.bytes -= uint64(len(r.data))
		in.cond.Broadcast()
		in.mu.Unlock()
		err := in.send(r)
		in.sent.Add(1)
		in.putBuf(r.data)
		in.mu.Lock()
		if err != nil && in.err == nil {
			in.err = err
		}
	}
	in.queue = nil
	in.running = false
	in.cond.Broadcast()
}

// merge joins the writes at the head of q that continue each other on one
// fd (up to maxMerge bytes) and returns the result and how many it took.
func (sh *shared) merge(q []req) (req, int) {
	r := q[0]
	if r.data == nil || r.release != nil {
		return r, 1
	}
	n := 1
	size := len(r.data)
	for n < len(q) && q[n].data != nil && q[n].fd == r.fd &&
		q[n].off == r.off+int64(size) && size+len(q[n].data) <= maxMerge {
		size += len(q[n].data)
		n++
	}
	if n == 1 {
		return r, 1
	}
	buf := sh.getBuf(size)
	for _, x := range q[:n] {
		buf = append(buf, x.data...)
		sh.putBuf(x.data)
	}
	r.data = buf
	return r, n
}

// shared is what the layer's inodes share.
type shared struct {
	next fop.Layer
	// sent counts the requests the workers have had answered below; a
	// lookup by name that saw it change may have missed a write.
	sent atomic.Uint64
	// workers counts running workers: closing the graph waits for them,
	// since a detached release returns before its file's writes are sent.
	workers sync.WaitGroup
	// bufs recycles the buffers of large writes: a sequential writer
	// queues a megabyte per call, and allocating each (zeroed, then
	// collected) cost more than copying into it.
	bufs sync.Pool // *[maxMerge]byte
}

// getBuf returns an empty buffer with room for n bytes: a recycled one
// for large writes, one of its own size for small and oversized ones.
func (sh *shared) getBuf(n int) []byte {
	if n < maxMerge/2 || n > maxMerge {
		return make([]byte, 0, n)
	}
	if b, ok := sh.bufs.Get().(*[maxMerge]byte); ok {
		return b[:0]
	}
	return make([]byte, 0, maxMerge)
}

// putBuf recycles a buffer from getBuf once nothing refers to it.
func (sh *shared) putBuf(b []byte) {
	if cap(b) == maxMerge {
		sh.bufs.Put((*[maxMerge]byte)(b[:maxMerge]))
	}
}

// send passes one request below; the reply's attributes become the
// file's (raised by whatever is still queued).
func (in *inode) send(r req) error {
	if r.release != nil {
		r.release()
		return nil
	}
	if r.data == nil {
		if err := in.next.Flush(r.ctx, r.fd); err != nil {
			return fmt.Errorf("flush %s: %w", r.fd.GFID, err)
		}
		return nil
	}
	n, a, err := in.next.Write(r.ctx, r.fd, r.data, r.off)
	if err == nil && n < len(r.data) {
		err = syscall.EIO
	}
	if err != nil {
		return fmt.Errorf("write %s at %d: %w", r.fd.GFID, r.off, err)
	}
	in.mu.Lock()
	size := in.attr.Size
	in.attr = a
	in.attr.Size = max(a.Size, size)
	in.mu.Unlock()
	return nil
}
