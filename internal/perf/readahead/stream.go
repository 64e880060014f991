package readahead

import (
	"context"
	"sync"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// stream is one FD's reading: where a sequential read would start next,
// and the pages read ahead of it.
type stream struct {
	f *file

	mu      sync.Mutex
	next    int64 // where the next sequential read starts
	started bool  // a read started at next: the FD reads sequentially
	gen     uint64
	pages   map[int64]*page // by index (offset / page size)
	eof     int64           // index of the page the file ends in, -1 unknown
}

// page is one read ahead: done closes once data and err are set.
type page struct {
	done chan struct{}
	data []byte
	err  error
}

func newStream(f *file) *stream {
	return &stream{f: f, gen: f.gen.Load(), pages: map[int64]*page{}, eof: -1}
}

// fdStream returns the read-ahead state of fd, or nil.
func fdStream(fd *fop.FD) *stream {
	v, ok := fd.Ctx(ctxKey{})
	if !ok {
		return nil
	}
	return v.(*stream)
}

// drop forgets the pages (reads in flight finish unseen) and where the
// file ended. s.mu is held.
func (s *stream) drop() {
	clear(s.pages)
	s.eof = -1
}

// read answers a read of fd at off into buf.
func (s *stream) read(ctx context.Context, next fop.Layer, fd *fop.FD, c config, buf []byte, off int64) (int, error) {
	ps := int64(c.pageSize)
	end := off + int64(len(buf))
	first, last := off/ps, (end-1)/ps
	span := int64(c.pageCount) * ps

	s.mu.Lock()
	if g := s.f.gen.Load(); g != s.gen {
		s.gen = g
		s.drop()
	}
	sequential := s.pages[first] != nil || (s.started && off == s.next)
	if !sequential {
		switch {
		case off == s.next:
			// The second read in a row: read ahead from the next one on.
			s.started = true
		case off < s.next-span || off > s.next+span:
			// A jump: what was read ahead will not be wanted.
			s.drop()
			s.started = false
		}
		// Otherwise a read near the stream, such as one of the kernel's
		// read-ahead requests overtaken by the next: the pages stay.
		s.next = max(s.next, end)
		s.mu.Unlock()
		return next.Read(ctx, fd, buf, off)
	}
	s.next = max(s.next, end)
	stop := last + int64(c.pageCount)
	if s.eof >= 0 {
		stop = min(stop, s.eof)
	}
	for i := first; i <= stop; i++ {
		if s.pages[i] == nil {
			s.pages[i] = s.fetch(ctx, next, fd, i, ps)
		}
	}
	want := make([]*page, 0, last-first+1)
	for i := first; i <= last && s.pages[i] != nil; i++ {
		want = append(want, s.pages[i])
	}
	// Pages wholly behind this read are done with; the one just before
	// stays for a read overtaken by this one.
	for i := range s.pages {
		if (i+2)*ps <= off {
			delete(s.pages, i)
		}
	}
	s.mu.Unlock()

	n := 0
	for i, p := range want {
		<-p.done
		if p.err != nil {
			break
		}
		from := max(off-(first+int64(i))*ps, 0)
		if from >= int64(len(p.data)) {
			return n, nil // the file ends before
		}
		n += copy(buf[n:], p.data[from:])
		if len(p.data) < int(ps) {
			return n, nil // the file ends here
		}
	}
	if n == len(buf) {
		return n, nil
	}
	// A page failed or lies beyond where the file ended when it was read:
	// read the rest directly, which reports the error or the new data.
	m, err := next.Read(ctx, fd, buf[n:], off+int64(n))
	if m > 0 {
		s.mu.Lock()
		s.eof = -1
		s.mu.Unlock()
	}
	return n + m, err
}

// fetch starts reading page i in the background. s.mu is held.
func (s *stream) fetch(ctx context.Context, next fop.Layer, fd *fop.FD, i, ps int64) *page {
	p := &page{done: make(chan struct{})}
	gen := s.gen
	go func() {
		defer close(p.done)
		buf := make([]byte, ps)
		n, err := next.Read(context.WithoutCancel(ctx), fd, buf, i*ps)
		p.data, p.err = buf[:n], err
		if err == nil && int64(n) < ps {
			s.mu.Lock()
			if s.gen == gen && (s.eof < 0 || i < s.eof) {
				s.eof = i
			}
			s.mu.Unlock()
		}
	}()
	return p
}
