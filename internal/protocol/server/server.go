// Package server is the protocol/server layer, the top of a brick's graph:
// it accepts protocol/client connections (internal/rpc) on the brick port,
// admits clients by source address (auth.addr.BRICK.allow/reject, as
// GlusterFS's server translator), and runs their calls on the child layer
// named by the client's remote-subvolume, as the calling user. Each
// connection has its own table of open fds; when it goes, its fds are
// released and the graph below forgets the client (its locks go).
package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/rpc"
	"github.com/gluster-go/gluster-go/internal/volopt"
)

// Type is the volfile type of this layer.
const Type = "protocol/server"

// Options this layer reads.
const (
	optListenPort  = "transport.socket.listen-port"
	optListenPort2 = "listen-port"
	optBindAddr    = "transport.socket.bind-address"
	optRootSquash  = "root-squash"
	optAnonUID     = "anonuid"
	optAnonGID     = "anongid"
	optOutstanding = "rpc.outstanding-rpc-limit"
	optUserTimeout = "transport.tcp-user-timeout"
	optWindow      = "tcp-window-size"
)

// Dead clients are noticed by TCP: keep-alive probes as GlusterFS's
// defaults (20 s idle, 9 probes 2 s apart) and a user timeout (default 42 s,
// the ping timeout) for data the client stopped acknowledging. Their locks
// and fds are then released.
const defaultUserTimeout = 42 * time.Second

// Server is the protocol/server layer. Its own fop methods pass to the
// first child (Base); clients reach every child by name.
type Server struct {
	fop.Base
	name   string
	log    *slog.Logger
	bricks map[string]fop.Layer
	rpc    *rpc.Server
	conf   atomic.Pointer[config]
	seq    atomic.Uint64

	mu       sync.Mutex
	lns      []net.Listener
	started  bool
	sessions map[string]*session // by id
}

// config is the part of the options that can change live.
type config struct {
	opts        map[string]string
	rootSquash  bool
	anonUID     uint32
	anonGID     uint32
	userTimeout time.Duration
	window      int // socket buffer sizes, 0: the kernel's
}

var (
	_ fop.Layer          = (*Server)(nil)
	_ graph.Starter      = (*Server)(nil)
	_ graph.Reconfigurer = (*Server)(nil)
)

// New builds the layer from its volfile options.
func New(a *graph.Args) (fop.Layer, error) {
	if len(a.Children) == 0 {
		return nil, fmt.Errorf("%s: no subvolumes to serve", a.Name)
	}
	log := a.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		Base:     fop.Base{Next: a.Children[0]},
		name:     a.Name,
		log:      log,
		bricks:   map[string]fop.Layer{},
		sessions: map[string]*session{},
	}
	for i, c := range a.Children {
		s.bricks[a.ChildNames[i]] = c
	}
	if err := s.Reconfigure(a.Options); err != nil {
		return nil, err
	}
	workers := 0
	if v, ok := a.Options[optOutstanding]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: option %s %q: not a count", a.Name, optOutstanding, v)
		}
		workers = n
	}
	s.rpc = &rpc.Server{Handler: s, Logger: log, Workers: workers, Pool: new(rpc.BufPool)}
	return s, nil
}

// Reconfigure takes new auth, squash and timeout options. They apply to
// connections made from now on, and connected clients that auth no longer
// admits are dropped.
func (s *Server) Reconfigure(opts map[string]string) error {
	c := &config{opts: opts, anonUID: 65534, anonGID: 65534, userTimeout: defaultUserTimeout}
	if v, ok := opts[optUserTimeout]; ok {
		n, err := strconv.ParseUint(v, 10, 31)
		if err != nil {
			return fmt.Errorf("%s: option %s %q: want seconds", s.name, optUserTimeout, v)
		}
		c.userTimeout = time.Duration(n) * time.Second
	}
	if v, ok := opts[optWindow]; ok {
		n, err := volopt.ParseSize(v)
		if err != nil || n > 1<<30 {
			return fmt.Errorf("%s: option %s %q: want a size up to 1GB", s.name, optWindow, v)
		}
		c.window = int(n)
	}
	if v, ok := opts[optRootSquash]; ok {
		b, err := volopt.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s: option %s: %w", s.name, optRootSquash, err)
		}
		c.rootSquash = b
	}
	for key, dst := range map[string]*uint32{optAnonUID: &c.anonUID, optAnonGID: &c.anonGID} {
		if v, ok := opts[key]; ok {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return fmt.Errorf("%s: option %s %q: %w", s.name, key, v, err)
			}
			*dst = uint32(n)
		}
	}
	s.conf.Store(c)
	// As GlusterFS does, drop connected clients that may no longer connect.
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range s.sessions {
		if !allowed(opts, sess.brickName, sess.ip) {
			s.log.Warn("access revoked, disconnecting client", "client", sess.id, "addr", sess.ip)
			sess.nc.Close()
		}
	}
	return nil
}

// Listen serves clients on ln (the brick port glusterfsd opened) in the
// background until Close. Clients are accepted once the graph has started
// (Start), so that no call reaches a layer before it is ready; the port
// is bound at once, so clients that come early wait in the backlog.
func (s *Server) Listen(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lns = append(s.lns, ln)
	if s.started {
		s.serve(ln)
	}
}

func (s *Server) serve(ln net.Listener) {
	go func() {
		if err := s.rpc.Serve(ln); err != nil {
			s.log.Debug("listener closed", "addr", ln.Addr().String(), "err", err)
		}
	}()
}

// Addr returns the address of the first listener, or nil.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lns) == 0 {
		return nil
	}
	return s.lns[0].Addr()
}

// Start accepts clients on the listeners handed in with Listen, or else
// listens on the listen-port option.
func (s *Server) Start(ctx context.Context) error {
	if s.Addr() == nil {
		opts := s.conf.Load().opts
		port, ok := opts[optListenPort]
		if !ok {
			port, ok = opts[optListenPort2]
		}
		if !ok {
			return fmt.Errorf("%s: no listener: set option %s or run under glusterfsd", s.name, optListenPort)
		}
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(opts[optBindAddr], port))
		if err != nil {
			return fmt.Errorf("%s: listen: %w", s.name, err)
		}
		s.Listen(ln)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.started = true
		for _, ln := range s.lns {
			s.serve(ln)
		}
	}
	return nil
}

// Close stops listening and drops every client, releasing their fds.
func (s *Server) Close() error {
	s.mu.Lock()
	for _, ln := range s.lns {
		ln.Close()
	}
	s.mu.Unlock()
	return s.rpc.Close()
}

// refusal is a handshake error whose text is exactly what the client sees.
type refusal struct {
	reason string
	errno  syscall.Errno
}

func (r *refusal) Error() string { return r.reason }
func (r *refusal) Unwrap() error { return r.errno }

// Accept admits a client to the brick it names, if its address may.
func (s *Server) Accept(h *rpc.Hello, nc net.Conn) (rpc.Session, error) {
	brick, ok := s.bricks[h.Brick]
	if !ok {
		return nil, &refusal{fmt.Sprintf("unknown brick %q", h.Brick), syscall.ENOENT}
	}
	remote := nc.RemoteAddr()
	ip := remote.String()
	if ta, ok := remote.(*net.TCPAddr); ok {
		ip = ta.IP.String()
	}
	conf := s.conf.Load()
	if !allowed(conf.opts, h.Brick, ip) {
		s.log.Warn("authentication failed", "client", ip, "brick", h.Brick, "host", h.Hostname)
		return nil, &refusal{"authentication failed", syscall.EACCES}
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		setupTCP(tc, conf, s.log)
	}
	sess := &session{
		srv:       s,
		brick:     brick,
		brickName: h.Brick,
		id:        fmt.Sprintf("%s-%d-%s-%s-%d", h.Hostname, h.PID, h.Process, h.Brick, s.seq.Add(1)),
		ip:        ip,
		nc:        nc,
		conf:      conf,
		log:       s.log,
		fds:       map[uint64]openFD{},
	}
	s.mu.Lock()
	s.sessions[sess.id] = sess
	s.mu.Unlock()
	s.log.Info("accepted client", "client", sess.id, "addr", remote.String())
	return sess, nil
}

// allowed applies GlusterFS's addr auth: a reject match refuses, then an
// allow match admits (allow defaults to everyone), else refuse.
func allowed(opts map[string]string, brick, ip string) bool {
	if rej, ok := opts["auth.addr."+brick+".reject"]; ok && volopt.MatchAddr(rej, ip) {
		return false
	}
	allow, ok := opts["auth.addr."+brick+".allow"]
	if !ok {
		allow = "*"
	}
	return volopt.MatchAddr(allow, ip)
}

// setupTCP sizes a client connection's buffers and turns on dead-peer
// detection.
func setupTCP(tc *net.TCPConn, conf *config, log *slog.Logger) {
	if conf.window > 0 {
		tc.SetReadBuffer(conf.window)
		tc.SetWriteBuffer(conf.window)
	}
	ka := net.KeepAliveConfig{Enable: true, Idle: 20 * time.Second, Interval: 2 * time.Second, Count: 9}
	if err := tc.SetKeepAliveConfig(ka); err != nil {
		log.Debug("keep-alive", "err", err)
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	raw.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(conf.userTimeout/time.Millisecond))
	})
	if err != nil {
		log.Debug("tcp user timeout", "err", err)
	}
}

// Statedump lists the connected clients (brickd's SIGUSR1 dump).
func (s *Server) Statedump(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(w, "connected-clients=%d\n", len(s.sessions))
	i := 0
	for _, sess := range s.sessions {
		sess.mu.Lock()
		fmt.Fprintf(w, "client.%d.id=%s\nclient.%d.addr=%s\nclient.%d.brick=%s\nclient.%d.open-fds=%d\n",
			i, sess.id, i, sess.nc.RemoteAddr(), i, sess.brickName, i, len(sess.fds))
		sess.mu.Unlock()
		i++
	}
}
