package rpc

import (
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
)

// TestSenderNoLostWakeup races many senders over a synchronous pipe (each
// write blocks until the reader takes it, so frames queue behind direct
// sends all the time) and checks that every frame arrives before the
// sender is closed: a frame left queued with the writer goroutine asleep
// would hang this test (the go test timeout reports it). Each round ends
// with close racing the last sends, which must still all be written.
func TestSenderNoLostWakeup(t *testing.T) {
	const senders, frames, frameLen = 8, 400, 16
	for round := range 20 {
		a, b := net.Pipe()
		var pool BufPool
		s := newSender(a, &pool, func(err error) { t.Errorf("round %d: write: %v", round, err) })
		go s.run()

		got := make(chan [senders]int, 1)
		go func() {
			var seen [senders]int
			buf := make([]byte, frameLen)
			for range senders * frames {
				if _, err := io.ReadFull(b, buf); err != nil {
					t.Errorf("round %d: read: %v", round, err)
					break
				}
				who, seq := binary.BigEndian.Uint32(buf), int(binary.BigEndian.Uint32(buf[4:]))
				if int(who) >= senders || seq != seen[who] {
					t.Errorf("round %d: sender %d frame %d, want frame %d", round, who, seq, seen[who%senders])
					break
				}
				seen[who]++
				if seq%(round+3) == 0 {
					runtime.Gosched() // vary how long writers stay blocked
				}
			}
			got <- seen
		}()

		var wg sync.WaitGroup
		for who := range senders {
			wg.Go(func() {
				for seq := range frames {
					f := outFrame{buf: pool.Get(frameLen)}
					binary.BigEndian.PutUint32(*f.buf, uint32(who))
					binary.BigEndian.PutUint32((*f.buf)[4:], uint32(seq))
					// One goroutine's frames go out in its order.
					if err := s.send(f); err != nil {
						t.Errorf("round %d: send: %v", round, err)
						return
					}
					if seq%(who+2) == 0 {
						runtime.Gosched()
					}
				}
			})
		}
		wg.Wait()
		seen := <-got // all frames arrived with the sender still open
		for who, n := range seen {
			if n != frames {
				t.Fatalf("round %d: sender %d: %d frames arrived, want %d", round, who, n, frames)
			}
		}
		s.close()
		<-s.done
		a.Close()
		b.Close()
	}
}

// TestSenderCloseFlushes closes the sender while frames are queued behind
// a blocked direct send: the writer goroutine must write them all and then
// return.
func TestSenderCloseFlushes(t *testing.T) {
	const n = 50
	a, b := net.Pipe()
	defer a.Close()
	var pool BufPool
	s := newSender(a, &pool, func(error) {})
	go s.run()
	for i := range n {
		go func() {
			f := outFrame{buf: pool.Get(4)}
			binary.BigEndian.PutUint32(*f.buf, uint32(i))
			if err := s.send(f); err != nil {
				t.Errorf("send: %v", err)
			}
		}()
	}
	// Nobody reads b yet: one send blocks writing, the rest queue.
	for queued := 0; queued < n-1; runtime.Gosched() {
		s.mu.Lock()
		queued = len(s.queue)
		s.mu.Unlock()
	}
	s.close()
	if err := s.send(outFrame{buf: pool.Get(4)}); err != net.ErrClosed {
		t.Errorf("send after close: %v, want %v", err, net.ErrClosed)
	}
	buf := make([]byte, 4*n)
	if _, err := io.ReadFull(b, buf); err != nil {
		t.Fatalf("read: %v", err)
	}
	<-s.done
}
