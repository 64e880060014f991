package rpc

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// testHandler accepts everyone (or no one) and serves calls with serve.
type testHandler struct {
	refuse error
	serve  func(ctx context.Context, c *ServerCall) error
	closed chan struct{} // told when a session closes
}

type testSession struct{ h *testHandler }

func (h *testHandler) Accept(hello *Hello, nc net.Conn) (Session, error) {
	if h.refuse != nil {
		return nil, h.refuse
	}
	return testSession{h}, nil
}

func (s testSession) Serve(ctx context.Context, c *ServerCall) error { return s.h.serve(ctx, c) }

func (s testSession) Close() {
	if s.h.closed != nil {
		s.h.closed <- struct{}{}
	}
}

func startServer(t testing.TB, h Handler) (string, *Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), srv
}

func dial(t *testing.T, addr string, o ClientOptions) *ClientConn {
	t.Helper()
	c, err := dialErr(addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func dialErr(addr string, o ClientOptions) (*ClientConn, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return Handshake(ctx, nc, &Hello{Version: Version, Volume: "v", Brick: "/b"}, o)
}

var root fop.Caller

func stat(c *ClientConn, ctx context.Context, name string) (fop.Attr, error) {
	req := Request{Loc: fop.Loc{Name: name, GFID: fop.NewGFID()}}
	var resp Response
	_, err := c.Call(ctx, ProcStat, &root, &req, nil, &resp, nil)
	if err == nil && resp.Attr.GFID != req.Loc.GFID {
		return resp.Attr, fmt.Errorf("reply for %s came back to the caller of %s", resp.Attr.GFID, req.Loc.GFID)
	}
	return resp.Attr, err
}

// echo answers Stat with the GFID it was asked about.
func echo(ctx context.Context, c *ServerCall) error {
	c.Resp.Attr.GFID = c.Req.Loc.GFID
	return nil
}

func TestPipelinedCalls(t *testing.T) {
	addr, _ := startServer(t, &testHandler{serve: echo})
	c := dial(t, addr, ClientOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := stat(c, context.Background(), fmt.Sprint(g, "-", i)); err != nil {
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
}

func TestRepliesOutOfOrder(t *testing.T) {
	firstArrived, release := make(chan struct{}), make(chan struct{})
	addr, _ := startServer(t, &testHandler{serve: func(ctx context.Context, c *ServerCall) error {
		if c.Req.Loc.Name == "first" {
			close(firstArrived)
			<-release
		}
		return echo(ctx, c)
	}})
	c := dial(t, addr, ClientOptions{})
	firstDone := make(chan error, 1)
	go func() {
		_, err := stat(c, context.Background(), "first")
		firstDone <- err
	}()
	<-firstArrived
	// The second call is answered while the first is still being served.
	if _, err := stat(c, context.Background(), "second"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-firstDone:
		t.Fatalf("first call returned before it was answered: %v", err)
	default:
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
}

func TestBulkData(t *testing.T) {
	var mu sync.Mutex
	store := map[uint64][]byte{}
	addr, _ := startServer(t, &testHandler{serve: func(ctx context.Context, c *ServerCall) error {
		mu.Lock()
		defer mu.Unlock()
		switch c.Proc {
		case ProcWrite:
			store[c.Req.FD] = append([]byte{}, c.Payload...)
			c.Resp.N = uint64(len(c.Payload))
		case ProcRead:
			buf := c.ReadBuf(int(c.Req.Size))
			c.Data = buf[:copy(buf, store[c.Req.FD][c.Req.Off:])]
		}
		return nil
	}})
	c := dial(t, addr, ClientOptions{})
	for _, size := range []int{0, 1, 4096, 128 << 10, 3<<20 + 5} {
		data := make([]byte, size)
		rand.Read(data)
		fd := uint64(size)
		var resp Response
		if _, err := c.Call(context.Background(), ProcWrite, &root, &Request{FD: fd}, data, &resp, nil); err != nil {
			t.Fatal(err)
		}
		if resp.N != uint64(size) {
			t.Fatalf("wrote %d of %d", resp.N, size)
		}
		// Ask for more than there is: a short read.
		buf := make([]byte, size+100)
		n, err := c.Call(context.Background(), ProcRead, &root, &Request{FD: fd, Size: uint64(len(buf))}, nil, &resp, buf)
		if err != nil {
			t.Fatal(err)
		}
		if n != size || !bytes.Equal(buf[:n], data) {
			t.Fatalf("read back %d bytes, want %d, equal %v", n, size, bytes.Equal(buf[:n], data))
		}
	}
}

func TestErrnoAndIdentity(t *testing.T) {
	seen := make(chan fop.Caller, 1)
	addr, _ := startServer(t, &testHandler{serve: func(ctx context.Context, c *ServerCall) error {
		seen <- c.Caller
		return fmt.Errorf("stat %s: %w", c.Req.Loc.Name, syscall.ENOENT)
	}})
	c := dial(t, addr, ClientOptions{})
	caller := fop.Caller{UID: 1000, GID: 1000, Groups: []uint32{10, 20}, PID: 77, LkOwner: 99}
	_, err := c.Call(context.Background(), ProcStat, &caller, &Request{}, nil, &Response{}, nil)
	if !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("got %v, want ENOENT", err)
	}
	got := <-seen
	if got.UID != 1000 || got.GID != 1000 || got.PID != 77 || got.LkOwner != 99 || len(got.Groups) != 2 || got.Groups[1] != 20 {
		t.Fatalf("server saw caller %+v", got)
	}
}

func TestHandshakeRefused(t *testing.T) {
	addr, _ := startServer(t, &testHandler{refuse: fmt.Errorf("authentication failed: %w", syscall.EACCES)})
	_, err := dialErr(addr, ClientOptions{})
	var he *HelloError
	if !errors.As(err, &he) || !errors.Is(err, syscall.EACCES) || he.Reason != "authentication failed: permission denied" {
		t.Fatalf("got %v", err)
	}
}

// rawHello connects and shakes hands by hand.
func rawHello(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	b := appendHello(make([]byte, HeaderSize), &Hello{Version: Version, Brick: "/b"})
	h := Header{MsgLen: uint32(len(b) - HeaderSize), Kind: KindHello}
	h.put(b)
	if _, err := nc.Write(b); err != nil {
		t.Fatal(err)
	}
	rh, _, err := readSmallFrame(nc)
	if err != nil || rh.Status != 0 {
		t.Fatalf("hello: %+v %v", rh, err)
	}
	return nc
}

func TestBadFramesCloseConnection(t *testing.T) {
	for name, frame := range map[string]func() []byte{
		"oversized": func() []byte {
			b := make([]byte, HeaderSize)
			h := Header{MsgLen: MaxMessage + 1, Kind: KindCall, Proc: ProcStat}
			h.put(b)
			return b
		},
		"garbage message": func() []byte {
			b := append(make([]byte, HeaderSize), 1, 2, 3)
			h := Header{MsgLen: 3, Kind: KindCall, Proc: ProcStat}
			h.put(b)
			return b
		},
		"reply from a client": func() []byte {
			b := make([]byte, HeaderSize)
			h := Header{Kind: KindReply}
			h.put(b)
			return b
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := &testHandler{serve: echo, closed: make(chan struct{}, 1)}
			addr, _ := startServer(t, h)
			nc := rawHello(t, addr)
			if _, err := nc.Write(frame()); err != nil {
				t.Fatal(err)
			}
			if n, err := nc.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("server answered a bad frame: %d bytes, %v", n, err)
			}
			<-h.closed
		})
	}
}

func TestTruncatedFrame(t *testing.T) {
	h := &testHandler{serve: echo, closed: make(chan struct{}, 1)}
	addr, _ := startServer(t, h)
	nc := rawHello(t, addr)
	b := append(make([]byte, HeaderSize), 1, 2)
	hd := Header{MsgLen: 100, Kind: KindCall, Proc: ProcStat}
	hd.put(b)
	nc.Write(b)
	nc.(*net.TCPConn).CloseWrite()
	<-h.closed // the server gave up on the connection
}

func TestUnknownProcedure(t *testing.T) {
	addr, _ := startServer(t, &testHandler{serve: echo})
	c := dial(t, addr, ClientOptions{})
	if _, err := c.Call(context.Background(), procEnd, &root, &Request{}, nil, nil, nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("client sent an unknown procedure: %v", err)
	}
	// A newer client's procedure gets ENOSYS and the connection goes on.
	nc := rawHello(t, addr)
	b := append(make([]byte, HeaderSize), 1, 2, 3)
	h := Header{MsgLen: 3, PayloadLen: 5, ID: 9, Kind: KindCall, Proc: procEnd + 10}
	h.put(b)
	nc.Write(append(b, "12345"...))
	rh, _, err := readSmallFrame(nc)
	if err != nil || rh.Kind != KindReply || rh.ID != 9 || syscall.Errno(rh.Status) != syscall.ENOSYS {
		t.Fatalf("got %+v, %v", rh, err)
	}
	b = make([]byte, HeaderSize)
	h = Header{ID: 10, Kind: KindPing}
	h.put(b)
	nc.Write(b)
	if rh, _, err = readSmallFrame(nc); err != nil || rh.Kind != KindPong || rh.ID != 10 {
		t.Fatalf("ping after an unknown procedure: %+v, %v", rh, err)
	}
}

// A server that answers the handshake and then neither reads nor answers
// is declared dead after the ping timeout; calls in flight fail.
func TestPingTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		t.Cleanup(func() { nc.Close() })
		if _, _, err := readSmallFrame(nc); err != nil {
			return
		}
		b := make([]byte, HeaderSize)
		h := Header{Kind: KindHelloReply}
		h.put(b)
		nc.Write(b)
		// and never read again
	}()
	c := dial(t, ln.Addr().String(), ClientOptions{PingTimeout: 300 * time.Millisecond})
	_, err = stat(c, context.Background(), "x")
	if !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("call on a dead server: %v", err)
	}
	<-c.Done()
	if !strings.Contains(c.Err().Error(), "ping timeout") {
		t.Fatalf("connection ended with %v", c.Err())
	}
	if _, err := stat(c, context.Background(), "y"); !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("call after death: %v", err)
	}
}

// Pings keep an idle but healthy connection alive.
func TestPingsKeepAlive(t *testing.T) {
	block := make(chan struct{})
	addr, _ := startServer(t, &testHandler{serve: func(ctx context.Context, c *ServerCall) error {
		if c.Req.Loc.Name == "slow" {
			<-block
		}
		return echo(ctx, c)
	}})
	c := dial(t, addr, ClientOptions{PingTimeout: time.Second})
	done := make(chan error, 1)
	go func() {
		_, err := stat(c, context.Background(), "slow")
		done <- err
	}()
	// Wait through more than a ping timeout, measured by pongs not
	// clocks: the connection must still be up.
	for range 6 {
		before := c.lastRecv.Load()
		for c.lastRecv.Load() == before {
			select {
			case <-c.Done():
				t.Fatalf("healthy connection declared dead: %v", c.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestCancelAndServerLoss(t *testing.T) {
	release := make(chan struct{}, 1)
	arrived := make(chan struct{}, 10)
	h := &testHandler{closed: make(chan struct{}, 1), serve: func(ctx context.Context, c *ServerCall) error {
		if c.Req.Loc.Name == "block" {
			arrived <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return echo(ctx, c)
	}}
	addr, srv := startServer(t, h)
	c := dial(t, addr, ClientOptions{})

	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	if _, err := stat(c, ctx, "block"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	release <- struct{}{} // its late reply is dropped
	if _, err := stat(c, context.Background(), "after"); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := stat(c, context.Background(), "block")
		done <- err
	}()
	<-arrived
	srv.Close()
	if err := <-done; !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("call in flight when the server went: %v", err)
	}
	<-h.closed
}

// A listing too big for one reply comes back shorter, not as an error.
func TestLongListingTrimmed(t *testing.T) {
	big := bytes.Repeat([]byte{'x'}, MaxXattrValue)
	addr, _ := startServer(t, &testHandler{serve: func(ctx context.Context, c *ServerCall) error {
		for i := range MaxDirEntries {
			c.Resp.Entries = append(c.Resp.Entries, fop.DirEntry{Name: fmt.Sprint(i), Off: uint64(i + 1), Xattrs: fop.Dict{"user.big": big}})
		}
		return nil
	}})
	c := dial(t, addr, ClientOptions{})
	var resp Response
	if _, err := c.Call(context.Background(), ProcReaddir, &root, &Request{Max: MaxDirEntries, Plus: true}, nil, &resp, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(resp.Entries); n == 0 || n >= MaxDirEntries || resp.Entries[n-1].Off != uint64(n) {
		t.Fatalf("got %d entries", n)
	}
}

// Cancelling a blocking lock wait reaches the server, and the client takes
// the server's answer: a lock granted meanwhile is not lost.
func TestCancelBlockingCall(t *testing.T) {
	arrived := make(chan struct{}, 1)
	grant := make(chan bool, 1)
	addr, _ := startServer(t, &testHandler{serve: func(ctx context.Context, c *ServerCall) error {
		arrived <- struct{}{}
		<-ctx.Done() // only the client's cancel ends this wait
		if <-grant {
			return nil
		}
		return ctx.Err()
	}})
	c := dial(t, addr, ClientOptions{})
	for _, granted := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-arrived; cancel() }()
		grant <- granted
		_, err := c.Call(ctx, ProcInodelk, &root, &Request{Cmd: fop.SetLkW}, nil, &Response{}, nil)
		if granted && err != nil {
			t.Errorf("lock granted as the wait was cancelled: %v", err)
		}
		if !granted && !errors.Is(err, syscall.EINTR) {
			t.Errorf("cancelled lock wait: %v, want EINTR", err)
		}
	}
}

// A call not answered within the call timeout fails with ETIMEDOUT; the
// connection goes on.
func TestCallTimeout(t *testing.T) {
	release := make(chan struct{})
	addr, _ := startServer(t, &testHandler{serve: func(ctx context.Context, c *ServerCall) error {
		if c.Req.Loc.Name == "stuck" {
			<-release
		}
		return echo(ctx, c)
	}})
	c := dial(t, addr, ClientOptions{CallTimeout: 100 * time.Millisecond})
	defer close(release)
	if _, err := stat(c, context.Background(), "stuck"); !errors.Is(err, syscall.ETIMEDOUT) {
		t.Fatalf("stuck call: %v", err)
	}
	if err := c.Err(); err != nil {
		t.Fatalf("connection ended after a call timed out: %v", err)
	}
}

// Values beyond the wire limits fail their own call, on either side, and
// the connection goes on.
func TestOverLimitValues(t *testing.T) {
	addr, _ := startServer(t, &testHandler{serve: func(ctx context.Context, c *ServerCall) error {
		if c.Req.Loc.Name == "big-reply" {
			c.Resp.Dict = fop.Dict{"user.big": make([]byte, MaxXattrValue+1)}
		}
		return echo(ctx, c)
	}})
	c := dial(t, addr, ClientOptions{})
	long := Request{Loc: fop.Loc{Name: strings.Repeat("n", MaxName+1)}}
	if _, err := c.Call(context.Background(), ProcLookup, &root, &long, nil, &Response{}, nil); !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Fatalf("over-long name: %v", err)
	}
	big := Request{Dict: fop.Dict{"user.big": make([]byte, MaxXattrValue+1)}}
	if _, err := c.Call(context.Background(), ProcSetxattr, &root, &big, nil, &Response{}, nil); !errors.Is(err, syscall.E2BIG) {
		t.Fatalf("over-long xattr value: %v", err)
	}
	if _, err := c.Call(context.Background(), ProcGetxattr, &root, &Request{Loc: fop.Loc{Name: "big-reply"}}, nil, &Response{}, nil); !errors.Is(err, syscall.E2BIG) {
		t.Fatalf("over-long reply: %v", err)
	}
	if _, err := stat(c, context.Background(), "fine"); err != nil {
		t.Fatalf("connection after refused values: %v", err)
	}
}
