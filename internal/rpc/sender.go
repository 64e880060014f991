package rpc

import (
	"net"
	"sync"
)

// outFrame is one queued frame: header and message in buf, then the bulk
// payload, written from the caller's slice.
type outFrame struct {
	buf     *[]byte // pooled header + message
	payload []byte
	payBuf  *[]byte       // pooled buffer behind payload, if any
	sent    chan struct{} // if set, told when the writer is done with payload
}

// sender is a connection's writer goroutine: frames queue up while a write
// is in progress and go out together in one writev when it returns.
type sender struct {
	nc   net.Conn
	pool *BufPool

	mu     sync.Mutex
	queue  []outFrame
	closed bool

	w    net.Buffers // what run is writing
	wake chan struct{}
	stop chan struct{}
	done chan struct{} // closed when run has returned
	// onError is told the write error that ends the connection.
	onError func(error)
}

func newSender(nc net.Conn, pool *BufPool, onError func(error)) *sender {
	return &sender{
		nc:      nc,
		pool:    pool,
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		onError: onError,
	}
}

// send queues f. After an error f is released and nothing will be sent.
func (s *sender) send(f outFrame) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.release(f)
		return net.ErrClosed
	}
	s.queue = append(s.queue, f)
	first := len(s.queue) == 1
	s.mu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

func (s *sender) release(f outFrame) {
	s.pool.Put(f.buf)
	s.pool.Put(f.payBuf)
	if f.sent != nil {
		f.sent <- struct{}{}
	}
}

// close stops the writer after what is queued has been written or failed.
func (s *sender) close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
}

func (s *sender) run() {
	defer close(s.done)
	var spare []outFrame
	var iov net.Buffers
	for {
		s.mu.Lock()
		// Double buffering: producers fill one slice while this loop
		// writes the other; spare is never the slice in s.queue.
		q := s.queue
		s.queue = spare[:0]
		spare = nil
		closed := s.closed
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
		iov = iov[:0]
		for i := range q {
			iov = append(iov, *q[i].buf)
			if len(q[i].payload) > 0 {
				iov = append(iov, q[i].payload)
			}
		}
		s.w = iov // WriteTo consumes its receiver
		_, err := s.w.WriteTo(s.nc)
		clear(iov)
		for i := range q {
			s.release(q[i])
		}
		clear(q)
		spare = q
		if err != nil {
			s.fail(err)
			return
		}
	}
}

// fail drops everything still queued and refuses new frames.
func (s *sender) fail(err error) {
	s.mu.Lock()
	q := s.queue
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
