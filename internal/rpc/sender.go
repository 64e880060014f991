package rpc

import (
	"net"
	"sync"
	"time"
)

// lazyDelay bounds how long a frame nobody waits for (sendLazy) waits for
// another frame to go out with.
const lazyDelay = time.Millisecond

// outFrame is one queued frame: header and message in buf, then the bulk
// payload, written from the caller's slice.
type outFrame struct {
	buf     *[]byte // pooled header + message
	payload []byte
	payBuf  *[]byte       // pooled buffer behind payload, if any
	sent    chan struct{} // if set, told when the writer is done with payload
	unsent  *budget       // if set, holds the frame's size until written
	size    int
}

// sender writes a connection's frames. A frame sent while nothing is
// being written goes out at once from the sending goroutine (no hand-off:
// the common case of one call at a time); frames sent while a write is in
// progress queue up and the writer goroutine sends them together in one
// writev when it returns.
//
// Wake-ups: run has work when nobody is writing and the queue is not
// empty or the sender closed. send queues a frame only while someone is
// writing or frames are queued already, so work appears only when a
// writer stops, or on close. sendNow kicks run when it stops writing with
// frames queued or the sender closed; close and fail kick it; run itself
// looks again after each write before it waits. wake holds one token, so
// a kick is never lost while run is busy, and run checks everything again
// after each wake-up, so a stale token costs only a loop. Hence run never
// sleeps with work to do, and sends cost no wake-up unless they queue
// behind a direct send (TestSenderNoLostWakeup races this).
type sender struct {
	nc   net.Conn
	pool *BufPool

	mu     sync.Mutex
	queue  []outFrame
	closed bool
	// writing says a goroutine (run or a direct send) is writing; only
	// that one uses w.
	writing bool

	// lazy holds frames nobody waits for (one-way calls): they go out in
	// the writev of the next frame sent, or after lazyDelay if none
	// comes, sparing a system call each (and the peer a wake-up);
	// lazyTimer is armed while lazy is not empty.
	lazy      []outFrame
	lazyTimer *time.Timer

	w    net.Buffers // what is being written
	wake chan struct{}
	stop chan struct{}
	done chan struct{} // closed when run has returned
	// onError is told the write error that ends the connection.
	onError func(error)
}

func newSender(nc net.Conn, pool *BufPool, onError func(error)) *sender {
	s := &sender{
		nc:      nc,
		pool:    pool,
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		onError: onError,
	}
	s.lazyTimer = time.AfterFunc(time.Hour, s.flushLazy)
	s.lazyTimer.Stop()
	return s
}

// send queues f. After an error f is released and nothing will be sent.
func (s *sender) send(f outFrame) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.release(f)
		return net.ErrClosed
	}
	if !s.writing && len(s.queue) == 0 {
		s.writing = true
		lazy := s.takeLazy()
		s.mu.Unlock()
		s.sendNow(lazy, f)
		return nil
	}
	// Someone is writing (or frames queued already, which it will see):
	// see the type's comment for why no kick is needed.
	s.queue = append(s.queue, s.takeLazy()...)
	s.queue = append(s.queue, f)
	s.mu.Unlock()
	return nil
}

// sendLazy queues f, a frame nobody waits for, to go out with the next
// frame sent or after lazyDelay. After an error f is released and nothing
// will be sent.
func (s *sender) sendLazy(f outFrame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.release(f)
		return net.ErrClosed
	}
	s.lazy = append(s.lazy, f)
	if len(s.lazy) == 1 {
		s.lazyTimer.Reset(lazyDelay)
	}
	return nil
}

// takeLazy returns the lazy frames (to be written before whatever is sent
// now) and disarms their timer; s.mu is held.
func (s *sender) takeLazy() []outFrame {
	lazy := s.lazy
	if len(lazy) > 0 {
		s.lazy = nil
		s.lazyTimer.Stop()
	}
	return lazy
}

// flushLazy sends the lazy frames no other frame took along in time.
func (s *sender) flushLazy() {
	s.mu.Lock()
	lazy := s.takeLazy()
	if len(lazy) == 0 || s.closed {
		s.mu.Unlock()
		return
	}
	if s.writing || len(s.queue) > 0 {
		s.queue = append(s.queue, lazy...) // as in send
		s.mu.Unlock()
		return
	}
	s.writing = true
	s.mu.Unlock()
	s.sendNow(lazy[:len(lazy)-1], lazy[len(lazy)-1])
}

func (s *sender) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sendNow writes the lazy frames and f from the caller's goroutine, in
// one writev, then hands what queued meanwhile back to run. A write error
// ends the connection, as in run.
func (s *sender) sendNow(lazy []outFrame, f outFrame) {
	iov := s.w[:0]
	for i := range lazy {
		iov = lazy[i].appendTo(iov)
	}
	iov = f.appendTo(iov)
	s.w = iov // WriteTo consumes its receiver
	_, err := s.w.WriteTo(s.nc)
	clear(iov)
	s.w = iov[:0]
	for i := range lazy {
		s.release(lazy[i])
	}
	s.release(f)
	s.mu.Lock()
	s.writing = false
	wake := len(s.queue) > 0 || s.closed
	s.mu.Unlock()
	if err != nil {
		s.fail(err)
		wake = true
	}
	// run may wait for this write to end: it must then write what
	// queued meanwhile, or return once closed.
	if wake {
		s.kick()
	}
}

// appendTo appends f's buffers to iov.
func (f *outFrame) appendTo(iov net.Buffers) net.Buffers {
	iov = append(iov, *f.buf)
	if len(f.payload) > 0 {
		iov = append(iov, f.payload)
	}
	return iov
}

func (s *sender) release(f outFrame) {
	s.pool.Put(f.buf)
	s.pool.Put(f.payBuf)
	if f.sent != nil {
		f.sent <- struct{}{}
	}
	if f.unsent != nil {
		f.unsent.release(f.size)
	}
}

// close stops the writer after what is queued has been written or failed.
func (s *sender) close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
		// Written by run before it returns, as queued frames are.
		s.queue = append(s.queue, s.takeLazy()...)
	}
	s.mu.Unlock()
	// run may wait for a direct send to end, not for stop.
	s.kick()
}

func (s *sender) run() {
	defer close(s.done)
	var spare []outFrame
	for {
		s.mu.Lock()
		if s.writing {
			// A direct send is writing; it kicks us when done if
			// anything queued meanwhile or the sender closed.
			s.mu.Unlock()
			<-s.wake
			continue
		}
		// Double buffering: producers fill one slice while this loop
		// writes the other; spare is never the slice in s.queue.
		q := s.queue
		s.queue = spare[:0]
		spare = nil
		closed := s.closed
		s.writing = len(q) > 0
		s.mu.Unlock()
		if len(q) == 0 {
			spare = q
			if closed {
				return
			}
			select {
			case <-s.wake:
			case <-s.stop:
			}
			continue
		}
		iov := s.w[:0]
		for i := range q {
			iov = q[i].appendTo(iov)
		}
		s.w = iov // WriteTo consumes its receiver
		_, err := s.w.WriteTo(s.nc)
		clear(iov)
		s.w = iov[:0]
		for i := range q {
			s.release(q[i])
		}
		clear(q)
		spare = q
		if err != nil {
			s.fail(err)
			return
		}
		s.mu.Lock()
		s.writing = false
		s.mu.Unlock()
	}
}

// fail drops everything still queued and refuses new frames.
func (s *sender) fail(err error) {
	s.mu.Lock()
	q := append(s.queue, s.takeLazy()...)
	s.queue = nil
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	for i := range q {
		s.release(q[i])
	}
	s.onError(err)
}
