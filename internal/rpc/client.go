package rpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// HelloError is a server's refusal of a handshake.
type HelloError struct {
	Errno  syscall.Errno
	Reason string
}

func (e *HelloError) Error() string { return "handshake refused: " + e.Reason }

// Unwrap lets errors.Is match the errno.
func (e *HelloError) Unwrap() error { return e.Errno }

// ClientOptions tunes a client connection.
type ClientOptions struct {
	// PingTimeout declares the server dead when nothing, not even a pong,
	// has come from it for this long. 0 disables pings.
	PingTimeout time.Duration
	// CallTimeout fails a call not answered in this time with ETIMEDOUT
	// (GlusterFS's frame-timeout). 0 disables it.
	CallTimeout time.Duration
	// Pool recycles buffers; nil gives the connection its own.
	Pool *BufPool
	// OnNotify gets the server's notifications, in order, from the
	// connection's reader: it must not block.
	OnNotify func(*Notification)
}

// ClientConn is the client end of a connection: Call may be used from many
// goroutines at once, and the calls share the connection.
type ClientConn struct {
	nc       net.Conn
	br       *bufio.Reader
	s        *sender
	pool     *BufPool
	ping     time.Duration
	callTime time.Duration
	onNotify func(*Notification)

	mu      sync.Mutex
	pending map[uint64]*call
	nextID  uint64
	err     error // why the connection ended; set once

	dead     chan struct{} // closed when the connection has ended
	lastRecv atomic.Int64  // unix nanoseconds of the last frame received
	calls    sync.Pool
}

// call is one request waiting for its reply.
type call struct {
	rbuf   []byte    // where the reply's payload goes
	msg    *[]byte   // the reply's message, pooled
	status uint32    // the reply's errno
	n      int       // reply payload bytes
	err    error     // connection failure
	start  time.Time // when it was sent, with a call timeout
	done   chan struct{}
	sent   chan struct{}
	enc    encoder
	dec    decoder
}

// Handshake sends h over nc, waits for the server's answer and, if it
// accepts, returns the connection ready for calls. ctx bounds the
// handshake only. On failure nc is closed.
func Handshake(ctx context.Context, nc net.Conn, h *Hello, o ClientOptions) (*ClientConn, error) {
	c, err := handshake(ctx, nc, h, o)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func handshake(ctx context.Context, nc net.Conn, h *Hello, o ClientOptions) (*ClientConn, error) {
	if o.Pool == nil {
		o.Pool = new(BufPool)
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	b := appendHello(make([]byte, HeaderSize, 256), h)
	hdr := Header{MsgLen: uint32(len(b) - HeaderSize), Kind: KindHello}
	hdr.put(b)
	if _, err := nc.Write(b); err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	rh, msg, err := readSmallFrame(br)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	if rh.Kind != KindHelloReply {
		return nil, fmt.Errorf("handshake: got frame kind %d: %w", rh.Kind, ErrMalformed)
	}
	if rh.Status != 0 {
		return nil, &HelloError{Errno: syscall.Errno(rh.Status), Reason: string(msg)}
	}
	if !stop() {
		return nil, fmt.Errorf("handshake: %w", ctx.Err())
	}
	nc.SetDeadline(time.Time{})

	c := &ClientConn{
		nc:       nc,
		br:       br,
		pool:     o.Pool,
		ping:     o.PingTimeout,
		callTime: o.CallTimeout,
		onNotify: o.OnNotify,
		pending:  map[uint64]*call{},
		dead:     make(chan struct{}),
	}
	c.calls.New = func() any {
		return &call{done: make(chan struct{}, 1), sent: make(chan struct{}, 1)}
	}
	c.s = newSender(nc, o.Pool, c.fail)
	c.lastRecv.Store(time.Now().UnixNano())
	go c.s.run()
	go c.readLoop()
	if c.ping > 0 || c.callTime > 0 {
		go c.watch()
	}
	return c, nil
}

// readSmallFrame reads a frame without payload whose message fits in a
// handshake (used before the connection's goroutines run).
func readSmallFrame(r io.Reader) (Header, []byte, error) {
	var hb [HeaderSize]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return Header{}, nil, err
	}
	h, err := ParseHeader(hb[:])
	if err != nil {
		return h, nil, err
	}
	if h.PayloadLen != 0 || h.MsgLen > 4*MaxName+64 {
		return h, nil, fmt.Errorf("handshake frame of %d+%d bytes: %w", h.MsgLen, h.PayloadLen, ErrMalformed)
	}
	msg := make([]byte, h.MsgLen)
	if _, err := io.ReadFull(r, msg); err != nil {
		return h, nil, err
	}
	return h, msg, nil
}

// Done is closed when the connection has ended; Err then says why.
func (c *ClientConn) Done() <-chan struct{} { return c.dead }

// Err returns why the connection ended, or nil while it is up.
func (c *ClientConn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Pending returns how many calls wait for their reply.
func (c *ClientConn) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// RemoteAddr returns the server's address.
func (c *ClientConn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Close ends the connection; calls in flight fail with ENOTCONN.
func (c *ClientConn) Close() error {
	c.fail(net.ErrClosed)
	return nil
}

// fail ends the connection once, failing every pending call.
func (c *ClientConn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	c.nc.Close()
	c.s.close()
	for _, cl := range pending {
		cl.err = err
		cl.done <- struct{}{}
	}
	close(c.dead)
}

func (c *ClientConn) readLoop() {
	var hb [HeaderSize]byte
	for {
		if _, err := io.ReadFull(c.br, hb[:]); err != nil {
			c.fail(err)
			return
		}
		h, err := ParseHeader(hb[:])
		if err != nil {
			c.fail(err)
			return
		}
		c.lastRecv.Store(time.Now().UnixNano())
		switch h.Kind {
		case KindReply:
			err = c.reply(&h)
		case KindPong:
			_, err = c.br.Discard(int(h.MsgLen))
		case KindPing:
			if _, err = c.br.Discard(int(h.MsgLen)); err == nil {
				err = c.control(KindPong, h.ID)
			}
		case KindNotify:
			err = c.notification(&h)
		default:
			err = fmt.Errorf("client got frame kind %d: %w", h.Kind, ErrMalformed)
		}
		if err != nil {
			c.fail(err)
			return
		}
	}
}

// reply hands a reply to its caller, reading the payload straight into
// the caller's buffer.
func (c *ClientConn) reply(h *Header) error {
	c.mu.Lock()
	cl := c.pending[h.ID]
	delete(c.pending, h.ID)
	c.mu.Unlock()
	if cl == nil { // the caller gave up
		_, err := c.br.Discard(int(h.MsgLen) + int(h.PayloadLen))
		return err
	}
	if int(h.PayloadLen) > len(cl.rbuf) {
		cl.err = fmt.Errorf("reply payload of %d bytes for a %d-byte buffer: %w", h.PayloadLen, len(cl.rbuf), ErrMalformed)
		cl.done <- struct{}{}
		return cl.err
	}
	cl.msg = c.pool.Get(int(h.MsgLen))
	_, err := io.ReadFull(c.br, *cl.msg)
	if err == nil {
		_, err = io.ReadFull(c.br, cl.rbuf[:h.PayloadLen])
	}
	cl.status, cl.n, cl.err = h.Status, int(h.PayloadLen), err
	cl.done <- struct{}{}
	return err
}

// control sends a frame without message (ping, pong).
func (c *ClientConn) control(k Kind, id uint64) error {
	b := c.pool.Get(HeaderSize)
	h := Header{ID: id, Kind: k}
	h.put(*b)
	return c.s.send(outFrame{buf: b})
}

// watch sends pings, declares the server dead when nothing has come back
// for the ping timeout, and fails calls older than the call timeout.
func (c *ClientConn) watch() {
	period := time.Hour
	for _, d := range []time.Duration{c.ping, c.callTime} {
		if d > 0 {
			period = min(period, max(d/4, time.Millisecond))
		}
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-c.dead:
			return
		case now := <-t.C:
			if c.callTime > 0 {
				c.expire(now.Add(-c.callTime))
			}
			if c.ping <= 0 {
				continue
			}
			if now.UnixNano()-c.lastRecv.Load() > int64(c.ping) {
				c.fail(fmt.Errorf("no answer from %s for %v (ping timeout)", c.nc.RemoteAddr(), c.ping))
				return
			}
			if err := c.control(KindPing, 0); err != nil {
				return
			}
		}
	}
}

// expire fails the calls sent before deadline; their replies, if they
// ever come, are dropped.
func (c *ClientConn) expire(deadline time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, cl := range c.pending {
		if cl.start.Before(deadline) {
			delete(c.pending, id)
			cl.err = errCallTimeout
			cl.done <- struct{}{}
		}
	}
}

// errCallTimeout is what a call gets when its reply takes too long.
var errCallTimeout = fmt.Errorf("no reply within the call timeout: %w", syscall.ETIMEDOUT)

// Call sends one call and waits for its reply. payload is the call's bulk
// data (Write); the reply's bulk data (Read) is read into rbuf and n says
// how much arrived. A failed call returns its errno as a syscall.Errno; a
// call on a broken connection fails with ENOTCONN.
func (c *ClientConn) Call(ctx context.Context, p Proc, caller *fop.Caller, req *Request, payload []byte, resp *Response, rbuf []byte) (n int, err error) {
	if len(payload) > MaxPayload {
		return 0, fmt.Errorf("%s: payload of %d bytes: %w", p, len(payload), syscall.EINVAL)
	}
	cl := c.calls.Get().(*call)
	buf, err := c.encode(&cl.enc, p, caller, req)
	if err != nil {
		c.calls.Put(cl)
		return 0, err
	}
	cl.rbuf = rbuf
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		c.pool.Put(buf)
		c.calls.Put(cl)
		return 0, c.notConnected(p)
	}
	c.nextID++
	id := c.nextID
	if c.callTime > 0 {
		cl.start = time.Now()
	}
	c.pending[id] = cl
	c.mu.Unlock()

	h := Header{MsgLen: uint32(len(*buf) - HeaderSize), PayloadLen: uint32(len(payload)), ID: id, Kind: KindCall, Proc: p}
	h.put(*buf)
	f := outFrame{buf: buf, payload: payload}
	if len(payload) > 0 {
		f.sent = cl.sent
	}
	if err := c.s.send(f); err != nil {
		// fail has run or is running and answers every pending call.
		<-cl.done
		if len(payload) > 0 {
			<-cl.sent
		}
		c.recycle(cl)
		return 0, c.notConnected(p)
	}

	var cancelled error
	select {
	case <-cl.done:
	case <-ctx.Done():
		if req.MayBlock(p) {
			// Ask the server to stop waiting and take its answer: a
			// lock granted meanwhile must not be lost.
			c.control(KindCancel, id)
			<-cl.done
			break
		}
		c.mu.Lock()
		_, waiting := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if waiting {
			cancelled = ctx.Err() // a late reply will be dropped
		} else {
			<-cl.done // the reader has it: let it finish with rbuf
		}
	}
	if len(payload) > 0 {
		<-cl.sent // the writer may still be reading payload
	}
	defer c.recycle(cl)
	switch {
	case cancelled != nil:
		return 0, fmt.Errorf("%s: %w", p, cancelled)
	case cl.err == errCallTimeout:
		return 0, fmt.Errorf("%s: %w", p, cl.err)
	case cl.err != nil:
		return 0, c.notConnected(p)
	case cl.status != 0:
		return 0, syscall.Errno(cl.status)
	}
	if resp != nil {
		cl.dec = decoder{b: *cl.msg}
		if err := decodeResponse(&cl.dec, p, resp); err != nil {
			// A reply we cannot read means the peer is broken.
			c.fail(err)
			return 0, err
		}
	}
	return cl.n, nil
}

// encode returns a pooled buffer holding the header's room and the call's
// message, using enc (the caller's, so that it need not be allocated).
func (c *ClientConn) encode(enc *encoder, p Proc, caller *fop.Caller, req *Request) (*[]byte, error) {
	buf := c.pool.Get(HeaderSize)
	*enc = encoder{b: *buf}
	err := appendRequest(enc, p, caller, req)
	*buf, enc.b = enc.b, nil
	if err == nil && len(*buf)-HeaderSize > MaxMessage {
		err = fmt.Errorf("%s: message of %d bytes: %w", p, len(*buf)-HeaderSize, syscall.E2BIG)
	}
	if err != nil {
		c.pool.Put(buf)
		return nil, err
	}
	return buf, nil
}

// Send sends a call whose reply nobody waits for (a release the kernel
// does not wait for either): it returns once the call is queued, and the
// reader drops the reply as it drops one its caller gave up on. That
// saves the caller a sleep and a wake-up per call. The call goes out with
// the next one sent, or a millisecond later if none comes (sendLazy),
// saving a system call here and a wake-up at the server. Such a call
// carries no payload, which would have to outlive the send.
func (c *ClientConn) Send(p Proc, caller *fop.Caller, req *Request) error {
	var enc encoder
	buf, err := c.encode(&enc, p, caller, req)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		c.pool.Put(buf)
		return c.notConnected(p)
	}
	c.nextID++
	id := c.nextID
	c.mu.Unlock()
	h := Header{MsgLen: uint32(len(*buf) - HeaderSize), ID: id, Kind: KindCall, Proc: p}
	h.put(*buf)
	if err := c.s.sendLazy(outFrame{buf: buf}); err != nil {
		return c.notConnected(p)
	}
	return nil
}

func (c *ClientConn) recycle(cl *call) {
	c.pool.Put(cl.msg)
	*cl = call{done: cl.done, sent: cl.sent}
	c.calls.Put(cl)
}

func (c *ClientConn) notConnected(p Proc) error {
	c.mu.Lock()
	cause := c.err
	c.mu.Unlock()
	if cause == nil || errors.Is(cause, net.ErrClosed) {
		return fmt.Errorf("%s: %w", p, syscall.ENOTCONN)
	}
	return fmt.Errorf("%s: %w (%v)", p, syscall.ENOTCONN, cause)
}
