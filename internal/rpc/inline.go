package rpc

import (
	"errors"
	"time"
)

// The reader runs a short call itself when nothing else has arrived on the
// connection, instead of handing it to a worker: the hand-off (waking a
// goroutine, which wakes an idle thread to look for work) costs a brick
// more CPU than a small create's file system work. Calls arriving
// meanwhile wait in the socket; to bound that wait, a watchdog gives
// reading to a new goroutine once the reader has spent a whole tick in one
// call, and the old reader ends with its call.

// inlineTick is how long a call the reader runs may hold up the
// connection's next calls (one to two ticks).
const inlineTick = 5 * time.Millisecond

// inlineMax bounds the data of a call the reader runs itself.
const inlineMax = 128 << 10

// errReplaced ends a reader whose reading went to another goroutine.
var errReplaced = errors.New("reading handed to another goroutine")

// inlineCall tells calls the reader may run itself: short ones. Those that
// may block (lock waits), wait for the disk (fsync), list directories or
// move or checksum much data go to workers.
func inlineCall(call *ServerCall) bool {
	switch call.Proc {
	case ProcFsync, ProcFsyncdir, ProcRchecksum, ProcFallocate, ProcDiscard, ProcZerofill, ProcReaddir:
		return false
	case ProcRead:
		return call.Req.Size <= inlineMax
	case ProcWrite:
		return len(call.Payload) <= inlineMax
	}
	return !call.Req.MayBlock(call.Proc)
}

// closing tells calls the reader runs itself even with calls waiting
// behind it: closing an fd costs less than waking a worker (a client sends
// a file's release together with its next call).
func closing(p Proc) bool {
	return p == ProcRelease || p == ProcReleasedir || p == ProcFlush
}

// runInline runs call on the reader's goroutine. It reports false when
// the watchdog gave reading to another goroutine meanwhile: the caller is
// no longer the reader.
func (c *serverConn) runInline(call *ServerCall) bool {
	s := c.inline.Add(1)
	if !c.watching.Load() && c.watching.CompareAndSwap(false, true) {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	c.run(c.ctx, call)
	return c.inline.CompareAndSwap(s, s+1)
}

// watch starts a new reader when the reader has run one call for a whole
// tick. It ticks only while the reader runs calls: a tick without one
// puts it back to sleep until runInline kicks it.
func (c *serverConn) watch() {
	defer c.wg.Done()
	t := time.NewTicker(inlineTick)
	defer t.Stop()
	for {
		t.Stop()
		select {
		case <-c.kick:
		case <-c.ctx.Done():
			return
		}
		t.Reset(inlineTick)
		if !c.watchTicks(t) {
			return
		}
	}
}

// watchTicks watches until a quiet tick (true) or the connection's end.
func (c *serverConn) watchTicks(t *time.Ticker) bool {
	prev := c.inline.Load()
	for {
		select {
		case <-t.C:
		case <-c.ctx.Done():
			return false
		}
		s := c.inline.Load()
		switch {
		case s != prev:
			prev = s
		case s&1 == 1:
			// The same call all tick long: let another goroutine read.
			if c.inline.CompareAndSwap(s, s+1) {
				c.startReader()
			}
			prev = c.inline.Load()
		default:
			// Quiet. A call started after the Store below kicks; one
			// started before it saw watching still set: look again.
			c.watching.Store(false)
			if c.inline.Load() == s || !c.watching.CompareAndSwap(false, true) {
				return true
			}
			prev = c.inline.Load()
		}
	}
}
