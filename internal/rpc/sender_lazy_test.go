package rpc

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
)

// lazyFixture is a sender over a pipe whose far end is read frame by frame
// (4-byte frames holding a number).
func lazyFixture(t *testing.T) (*sender, *BufPool, func() uint32) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	pool := new(BufPool)
	s := newSender(a, pool, func(err error) { t.Errorf("write: %v", err) })
	go s.run()
	t.Cleanup(func() { s.close(); <-s.done })
	read := func() uint32 {
		var b4 [4]byte
		if _, err := io.ReadFull(b, b4[:]); err != nil {
			t.Fatalf("read: %v", err)
		}
		return binary.BigEndian.Uint32(b4[:])
	}
	return s, pool, read
}

func lazyFrame(pool *BufPool, n uint32) outFrame {
	f := outFrame{buf: pool.Get(4)}
	binary.BigEndian.PutUint32(*f.buf, n)
	return f
}

// Lazy frames go out with the next frame, before it.
func TestLazyFramesRideWithTheNext(t *testing.T) {
	s, pool, read := lazyFixture(t)
	for n := range uint32(2) {
		if err := s.sendLazy(lazyFrame(pool, n)); err != nil {
			t.Fatal(err)
		}
	}
	s.mu.Lock()
	s.lazyTimer.Stop() // only the next send can take them now
	s.mu.Unlock()
	go func() {
		if err := s.send(lazyFrame(pool, 2)); err != nil {
			t.Error(err)
		}
	}()
	for want := range uint32(3) {
		if got := read(); got != want {
			t.Fatalf("frame %d arrived as number %d", want, got)
		}
	}
}

// A lazy frame nothing else follows goes out on its own.
func TestLazyFrameAlone(t *testing.T) {
	s, pool, read := lazyFixture(t)
	if err := s.sendLazy(lazyFrame(pool, 7)); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != 7 {
		t.Fatalf("got frame %d, want 7", got)
	}
}

// Closing the sender writes the lazy frames still waiting.
func TestLazyFrameWrittenOnClose(t *testing.T) {
	s, pool, read := lazyFixture(t)
	s.lazyTimer.Reset(1 << 62) // only close can send it now
	s.mu.Lock()
	s.lazy = append(s.lazy, lazyFrame(pool, 9))
	s.mu.Unlock()
	s.close()
	if got := read(); got != 9 {
		t.Fatalf("got frame %d, want 9", got)
	}
	if err := s.sendLazy(lazyFrame(pool, 10)); err != net.ErrClosed {
		t.Fatalf("sendLazy after close: %v, want %v", err, net.ErrClosed)
	}
}
