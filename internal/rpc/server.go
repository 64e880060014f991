package rpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Handler decides whom a server accepts and serves their calls.
type Handler interface {
	// Accept checks a client's handshake and returns the session that
	// serves the connection. An error refuses the client; its text is the
	// reason sent back, its errno (fop.Errno) the status. The session may
	// close nc to drop the client later (its access was revoked).
	Accept(h *Hello, nc net.Conn) (Session, error)
}

// Session serves the calls of one connection.
type Session interface {
	// Serve runs one call. It fills c.Resp (and c.Data for a Read) or
	// returns the error whose errno the reply carries. Calls run
	// concurrently; ctx ends when the connection does.
	Serve(ctx context.Context, c *ServerCall) error
	// Close is called once the connection is gone and its last call has
	// returned.
	Close()
}

// ServerCall is one call as the server sees it.
type ServerCall struct {
	Proc    Proc
	Caller  fop.Caller
	Req     Request
	Payload []byte // the call's bulk data (Write)
	Resp    Response
	Data    []byte // the reply's bulk data (Read), see ReadBuf

	id      uint64
	noReply bool // FlagNoReply
	msg     *[]byte
	payBuf  *[]byte
	dataBuf *[]byte
	pool    *BufPool
	enc     encoder
	dec     decoder
}

// ReadBuf returns a pooled buffer of n bytes for the reply's bulk data; set
// Data to the part of it that was filled.
func (c *ServerCall) ReadBuf(n int) []byte {
	c.pool.Put(c.dataBuf)
	c.dataBuf = c.pool.Get(n)
	return *c.dataBuf
}

// A connection reads ahead of its workers at most queuedCalls calls and
// heldPayload bytes of write data, and queues at most heldPayload bytes of
// replies its client has not read yet.
const (
	queuedCalls = 256
	heldPayload = 64 << 20
)

// Server accepts connections and serves them with Handler.
type Server struct {
	Handler Handler
	Logger  *slog.Logger
	// Workers bounds the calls one connection runs at once (default 32).
	// Calls that may wait on other clients (blocking locks) do not count
	// against it but against BlockedCalls (default 1024).
	Workers      int
	BlockedCalls int
	// HelloTimeout bounds the handshake (default 10 s).
	HelloTimeout time.Duration
	Pool         *BufPool

	once  sync.Once
	mu    sync.Mutex
	lns   map[net.Listener]struct{}
	conns map[net.Conn]struct{}
	done  bool
	wg    sync.WaitGroup
}

func (s *Server) init() {
	s.once.Do(func() {
		if s.Logger == nil {
			s.Logger = slog.New(slog.DiscardHandler)
		}
		if s.Workers <= 0 {
			s.Workers = 32
		}
		if s.BlockedCalls <= 0 {
			s.BlockedCalls = 1024
		}
		if s.HelloTimeout <= 0 {
			s.HelloTimeout = 10 * time.Second
		}
		if s.Pool == nil {
			s.Pool = new(BufPool)
		}
		s.lns = map[net.Listener]struct{}{}
		s.conns = map[net.Conn]struct{}{}
	})
}

// Serve accepts connections on ln until ln or the server is closed.
func (s *Server) Serve(ln net.Listener) error {
	s.init()
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		ln.Close()
		return net.ErrClosed
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.lns, ln)
		s.mu.Unlock()
	}()
	for {
		nc, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		if !s.track(nc) {
			nc.Close()
			return net.ErrClosed
		}
		go func() {
			defer s.untrack(nc)
			s.ServeConn(nc)
		}()
	}
}

func (s *Server) track(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return false
	}
	s.conns[nc] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(nc net.Conn) {
	s.mu.Lock()
	delete(s.conns, nc)
	s.mu.Unlock()
	s.wg.Done()
}

// Close stops the listeners, drops every connection and waits until their
// sessions are closed.
func (s *Server) Close() error {
	s.init()
	s.mu.Lock()
	s.done = true
	for ln := range s.lns {
		ln.Close()
	}
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// ServeConn runs the handshake on nc and then serves its calls until the
// connection ends. It closes nc.
func (s *Server) ServeConn(nc net.Conn) {
	s.init()
	defer nc.Close()
	log := s.Logger.With("remote", nc.RemoteAddr().String())
	sess, br, err := s.hello(nc)
	if err != nil {
		if errors.Is(err, io.EOF) {
			// A port probe (glusterd waiting for the brick) says nothing.
			log.Debug("connection closed before the handshake")
		} else {
			log.Info("client refused", "err", err)
		}
		return
	}
	sc := &serverConn{
		srv:     s,
		nc:      nc,
		br:      br,
		sess:    sess,
		log:     log,
		work:    make(chan *ServerCall, queuedCalls),
		held:    newBudget(heldPayload),
		unsent:  newBudget(heldPayload),
		waiting: map[uint64]context.CancelFunc{},
		blocked: make(chan struct{}, s.BlockedCalls),
	}
	sc.ctx, sc.cancel = context.WithCancel(context.Background())
	sc.s = newSender(nc, s.Pool, func(error) { nc.Close() })
	go sc.s.run()
	var nq *notifier
	if ns, ok := sess.(NotifySession); ok {
		nq = newNotifier(sc.s, s.Pool)
		go nq.run()
		ns.AttachNotify(nq.notify)
	}
	err = sc.readLoop()
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		log.Info("connection ended", "err", err)
	}
	// Nobody reads replies any more: closing also frees a writer stuck on
	// a client that stopped reading.
	nc.Close()
	sc.cancel()
	close(sc.work)
	sc.wg.Wait()
	sc.s.close()
	<-sc.s.done
	if nq != nil {
		nq.close()
	}
	sess.Close()
}

// hello reads the client's Hello and answers it.
func (s *Server) hello(nc net.Conn) (Session, *bufio.Reader, error) {
	nc.SetDeadline(time.Now().Add(s.HelloTimeout))
	br := bufio.NewReaderSize(nc, 64<<10)
	h, msg, err := readSmallFrame(br)
	if err != nil {
		return nil, nil, fmt.Errorf("handshake: %w", err)
	}
	if h.Kind != KindHello {
		return nil, nil, fmt.Errorf("handshake: got frame kind %d: %w", h.Kind, ErrMalformed)
	}
	var hello Hello
	var sess Session
	if err = decodeHello(msg, &hello); err == nil {
		if hello.Version != Version {
			err = fmt.Errorf("protocol version %d, server speaks %d: %w", hello.Version, Version, syscall.EPROTO)
		} else {
			sess, err = s.Handler.Accept(&hello, nc)
		}
	}
	reply := make([]byte, HeaderSize, HeaderSize+128)
	rh := Header{Kind: KindHelloReply}
	if err != nil {
		reply = append(reply, err.Error()...)
		rh.Status = uint32(fop.Errno(err))
		if len(reply)-HeaderSize > MaxName {
			reply = reply[:HeaderSize+MaxName]
		}
		rh.MsgLen = uint32(len(reply) - HeaderSize)
	}
	rh.put(reply)
	_, werr := nc.Write(reply)
	if err != nil {
		return nil, nil, err
	}
	if werr != nil {
		sess.Close()
		return nil, nil, fmt.Errorf("handshake: %w", werr)
	}
	nc.SetDeadline(time.Time{})
	return sess, br, nil
}

// serverConn is one accepted connection after its handshake.
type serverConn struct {
	srv     *Server
	nc      net.Conn
	br      *bufio.Reader
	s       *sender
	sess    Session
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
	work    chan *ServerCall
	workers int           // started; only the reader touches it
	idle    atomic.Int32  // workers waiting for a call
	held    *budget       // write payloads read but not yet answered
	unsent  *budget       // replies queued but not yet written
	blocked chan struct{} // a token per running blocking call
	mu      sync.Mutex
	waiting map[uint64]context.CancelFunc // blocking calls, by request id
	wg      sync.WaitGroup
	calls   sync.Pool
}

func (c *serverConn) readLoop() error {
	pool := c.srv.Pool
	var hb [HeaderSize]byte
	for {
		if _, err := io.ReadFull(c.br, hb[:]); err != nil {
			return err
		}
		h, err := ParseHeader(hb[:])
		if err != nil {
			return err
		}
		switch h.Kind {
		case KindPing:
			if _, err := c.br.Discard(int(h.MsgLen)); err != nil {
				return err
			}
			b := pool.Get(HeaderSize)
			ph := Header{ID: h.ID, Kind: KindPong}
			ph.put(*b)
			if err := c.s.send(outFrame{buf: b}); err != nil {
				return err
			}
			continue
		case KindPong:
			if _, err := c.br.Discard(int(h.MsgLen)); err != nil {
				return err
			}
			continue
		case KindCancel:
			if _, err := c.br.Discard(int(h.MsgLen)); err != nil {
				return err
			}
			c.mu.Lock()
			if cancel := c.waiting[h.ID]; cancel != nil {
				cancel()
			}
			c.mu.Unlock()
			continue
		case KindCall:
		default:
			return fmt.Errorf("server got frame kind %d: %w", h.Kind, ErrMalformed)
		}

		call, _ := c.calls.Get().(*ServerCall)
		if call == nil {
			call = new(ServerCall)
		}
		call.pool, call.id, call.Proc = pool, h.ID, h.Proc
		call.noReply = h.Status&FlagNoReply != 0
		call.msg = pool.Get(int(h.MsgLen))
		if _, err := io.ReadFull(c.br, *call.msg); err != nil {
			c.recycle(call)
			return err
		}
		if h.PayloadLen > 0 {
			c.held.acquire(int(h.PayloadLen))
			call.payBuf = pool.Get(int(h.PayloadLen))
			if _, err := io.ReadFull(c.br, *call.payBuf); err != nil {
				c.recycle(call)
				return err
			}
			call.Payload = *call.payBuf
		}
		if !h.Proc.Valid() {
			c.reply(call, fmt.Errorf("procedure %d: %w", h.Proc, syscall.ENOSYS))
			continue
		}
		call.dec = decoder{b: *call.msg}
		if err := decodeRequest(&call.dec, call.Proc, &call.Caller, &call.Req); err != nil {
			c.recycle(call)
			return err
		}
		c.dispatch(call)
	}
}

// dispatch hands call to a worker, starting one if none is idle and the
// limit allows; calls that may block get a goroutine of their own. Calls
// queue (up to queuedCalls) while the workers are busy, so the reader goes
// on reading, and answering pings, through bursts; past that it waits,
// which pushes back on the client.
func (c *serverConn) dispatch(call *ServerCall) {
	if call.Req.MayBlock(call.Proc) {
		c.blocked <- struct{}{}
		ctx, cancel := context.WithCancel(c.ctx)
		id := call.id
		c.mu.Lock()
		c.waiting[id] = cancel
		c.mu.Unlock()
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.run(ctx, call)
			c.mu.Lock()
			delete(c.waiting, id)
			c.mu.Unlock()
			cancel()
			<-c.blocked
		}()
		return
	}
	if c.idle.Load() == 0 && c.workers < c.srv.Workers {
		c.workers++
		c.wg.Add(1)
		go c.worker()
	}
	c.work <- call
}

func (c *serverConn) worker() {
	defer c.wg.Done()
	for {
		c.idle.Add(1)
		call, ok := <-c.work
		c.idle.Add(-1)
		if !ok {
			return
		}
		c.run(c.ctx, call)
	}
}

func (c *serverConn) run(ctx context.Context, call *ServerCall) {
	err := c.sess.Serve(ctx, call)
	c.reply(call, err)
}

// reply sends call's result, unless its client asked for none, and
// recycles it.
func (c *serverConn) reply(call *ServerCall, err error) {
	if call.noReply {
		c.recycle(call)
		return
	}
	pool := c.srv.Pool
	b := pool.Get(HeaderSize)
	h := Header{ID: call.id, Kind: KindReply, Proc: call.Proc}
	var data []byte
	if err == nil && call.Proc == ProcReaddir {
		// A listing may stop early: the client goes on from the last
		// entry's cookie.
		call.Resp.Entries = call.Resp.Entries[:entriesFitting(call.Resp.Entries, MaxMessage)]
	}
	if err == nil {
		call.enc = encoder{b: *b}
		err = appendResponse(&call.enc, call.Proc, &call.Resp)
		*b = call.enc.b
		if err == nil && len(*b)-HeaderSize > MaxMessage {
			err = fmt.Errorf("%s reply of %d bytes: %w", call.Proc, len(*b)-HeaderSize, syscall.E2BIG)
		}
		data = call.Data
	}
	if err != nil {
		*b = (*b)[:HeaderSize]
		data = nil
		h.Status = uint32(fop.Errno(err))
		if h.Status == 0 {
			h.Status = uint32(syscall.EIO)
		}
	}
	h.MsgLen = uint32(len(*b) - HeaderSize)
	h.PayloadLen = uint32(len(data))
	h.put(*b)
	f := outFrame{buf: b, payload: data, unsent: c.unsent, size: len(*b) + len(data)}
	if data != nil {
		f.payBuf = call.dataBuf
		call.dataBuf = nil
	}
	// Replies that a client does not read hold the worker once they
	// exceed the budget: its calls stop, then the reader, and TCP pushes
	// back on the client, instead of replies piling up in memory.
	c.unsent.acquire(f.size)
	c.s.send(f) // a failed send means the connection is going away
	c.recycle(call)
}

func (c *serverConn) recycle(call *ServerCall) {
	pool := c.srv.Pool
	pool.Put(call.msg)
	if call.payBuf != nil {
		c.held.release(len(*call.payBuf))
		pool.Put(call.payBuf)
	}
	pool.Put(call.dataBuf)
	*call = ServerCall{}
	c.calls.Put(call)
}
