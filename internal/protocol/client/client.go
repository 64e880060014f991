// Package client is the protocol/client layer, the bottom of a client's
// graph: it forwards every file operation to one brick's protocol/server
// over internal/rpc. It connects in the background (asking glusterd's
// portmapper for the brick port unless remote-port is set), reports
// CHILD_UP/CHILD_DOWN to the cluster layers above, declares the brick dead
// after ping-timeout without an answer, and reconnects with backoff,
// reopening open fds on the new connection.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/rpc"
	"github.com/gluster-go/gluster-go/internal/volopt"
)

// Type is the volfile type of this layer.
const Type = "protocol/client"

// MgmtPort is where glusterd's portmapper listens, unless option
// remote-mgmt-port says otherwise (glusterd on a private port in tests).
const MgmtPort = 24007

const (
	defaultPingTimeout  = 42 * time.Second
	defaultFrameTimeout = 1800 * time.Second
	// connectWait is how long after Start calls wait for the first
	// connection (a fresh mount) before failing with ENOTCONN. Later, a
	// lost connection fails calls at once, as in GlusterFS, so that a
	// replica set goes on with the bricks that are up.
	connectWait  = 5 * time.Second
	dialTimeout  = 10 * time.Second
	backoffFirst = 100 * time.Millisecond
	backoffMax   = 3 * time.Second
)

// Client is the protocol/client layer.
type Client struct {
	name   string
	log    *slog.Logger
	emit   func(fop.Event)
	upcall func(*fop.Upcall)
	hello  rpc.Hello // Brick is filled in per connection from target
	target atomic.Pointer[target]
	pool   *rpc.BufPool
	http   *http.Client
	msgs   sync.Pool // *msg

	// locked holds the GFIDs of files this client sent POSIX lock
	// requests for (see Flush). It only grows, by one entry per file
	// ever locked.
	locked sync.Map // fop.GFID -> struct{}

	mu      sync.Mutex
	conn    *rpc.ClientConn
	gen     uint64        // counts connections; fds remember theirs
	upCh    chan struct{} // closed while connected
	emitted fop.Event     // the last event reported up
	started bool
	grace   time.Time // until when calls wait for the first connection
	stop    chan struct{}
	loopEnd chan struct{}
}

// target is where and how to connect, from the options.
type target struct {
	host   string
	port   int // 0: ask the portmapper
	mgmt   int // the portmapper's port
	brick  string
	source net.IP
	ping   time.Duration
	frame  time.Duration // call timeout
	window int           // socket buffer sizes, 0: the kernel's
	// lastPort is the port the portmapper gave for the last connection
	// made; a new target starts without one.
	lastPort atomic.Int32
	// noDirect drops O_DIRECT from opens (filter-O_DIRECT, what
	// network.remote-dio asks for).
	noDirect bool
}

// msg is a call's arguments and results, recycled between calls.
type msg struct {
	req  rpc.Request
	resp rpc.Response
}

var (
	_ fop.Layer          = (*Client)(nil)
	_ graph.Starter      = (*Client)(nil)
	_ graph.Reconfigurer = (*Client)(nil)
)

var clientSuffix = regexp.MustCompile(`-client-[0-9]+$`)

// New builds the layer from its volfile options.
func New(a *graph.Args) (fop.Layer, error) {
	t, err := parseTarget(a.Name, a.Options)
	if err != nil {
		return nil, err
	}
	c := &Client{
		name:   a.Name,
		log:    a.Logger,
		emit:   a.Emit,
		upcall: a.EmitUpcall,
		pool:   new(rpc.BufPool),
		http:   &http.Client{Timeout: dialTimeout},
		upCh:   make(chan struct{}),
		stop:   make(chan struct{}),
	}
	c.target.Store(t)
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.emit == nil {
		c.emit = func(fop.Event) {}
	}
	if c.upcall == nil {
		c.upcall = func(*fop.Upcall) {}
	}
	c.msgs.New = func() any { return new(msg) }
	host, _ := os.Hostname()
	c.hello = rpc.Hello{
		Version:  rpc.Version,
		Volume:   clientSuffix.ReplaceAllString(a.Name, ""),
		Process:  uuid.NewString(),
		Hostname: host,
		PID:      uint32(os.Getpid()),
	}
	if p := a.Options["process-uuid"]; p != "" {
		c.hello.Process = p
	}
	return c, nil
}

func parseTarget(name string, opts map[string]string) (*target, error) {
	opt := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := opts[k]; ok {
				return v
			}
		}
		return ""
	}
	port := func(key, v string) (int, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 65535 {
			return 0, fmt.Errorf("%s: %s %q: not a port", name, key, v)
		}
		return n, nil
	}
	t := &target{host: opt("remote-host"), brick: opt("remote-subvolume"), mgmt: MgmtPort,
		ping: defaultPingTimeout, frame: defaultFrameTimeout}
	if t.host == "" || t.brick == "" {
		return nil, fmt.Errorf("%s: options remote-host and remote-subvolume are required", name)
	}
	if tt := opt("transport-type"); tt != "" && tt != "tcp" && tt != "socket" {
		return nil, fmt.Errorf("%s: transport-type %q: only tcp is supported", name, tt)
	}
	var err error
	if p := opt("remote-port", "transport.remote-port"); p != "" {
		if t.port, err = port("remote-port", p); err != nil {
			return nil, err
		}
	}
	if p := opt("remote-mgmt-port"); p != "" {
		if t.mgmt, err = port("remote-mgmt-port", p); err != nil {
			return nil, err
		}
	}
	if s := opt("transport.socket.source-addr", "client-bind-address"); s != "" {
		if t.source = net.ParseIP(s); t.source == nil {
			return nil, fmt.Errorf("%s: source address %q: not an IP address", name, s)
		}
	}
	seconds := func(dst *time.Duration, keys ...string) error {
		v := opt(keys...)
		if v == "" {
			return nil
		}
		n, err := strconv.ParseUint(v, 10, 31)
		if err != nil {
			return fmt.Errorf("%s: %s %q: want seconds", name, keys[0], v)
		}
		*dst = time.Duration(n) * time.Second
		return nil
	}
	if err := seconds(&t.ping, "ping-timeout", "network.ping-timeout"); err != nil {
		return nil, err
	}
	if err := seconds(&t.frame, "frame-timeout", "network.frame-timeout"); err != nil {
		return nil, err
	}
	if v := opt("tcp-window-size"); v != "" {
		n, err := volopt.ParseSize(v)
		if err != nil || n > 1<<30 {
			return nil, fmt.Errorf("%s: tcp-window-size %q: want a size up to 1GB", name, v)
		}
		t.window = int(n)
	}
	if v := opt("filter-O_DIRECT"); v != "" {
		if t.noDirect, err = volopt.ParseBool(v); err != nil {
			return nil, fmt.Errorf("%s: filter-O_DIRECT: %w", name, err)
		}
	}
	return t, nil
}

// Reconfigure takes changed options live. A new ping timeout applies from
// the next connection; a new brick address (replace-brick) drops the
// current connection so that the client reconnects there.
func (c *Client) Reconfigure(opts map[string]string) error {
	t, err := parseTarget(c.name, opts)
	if err != nil {
		return err
	}
	// Under mu, so that loop either sees the new target before it
	// publishes a connection to the old one, or we see that connection.
	c.mu.Lock()
	old := c.target.Load()
	same := sameEndpoint(old, t)
	if same {
		t.lastPort.Store(old.lastPort.Load())
	}
	c.target.Store(t)
	conn := c.conn
	c.mu.Unlock()
	if !same && conn != nil {
		c.log.Info("brick address changed, reconnecting", "host", t.host, "brick", t.brick)
		conn.Close()
	}
	return nil
}

// sameEndpoint reports whether a and b lead to the same brick the same way.
func sameEndpoint(a, b *target) bool {
	return a.host == b.host && a.port == b.port && a.mgmt == b.mgmt && a.brick == b.brick && a.source.Equal(b.source)
}

// Start connects in the background; it does not wait for the brick.
func (c *Client) Start(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return nil
	}
	c.started = true
	c.grace = time.Now().Add(connectWait)
	c.loopEnd = make(chan struct{})
	go c.loop()
	return nil
}

// Close disconnects for good; calls in flight fail with ENOTCONN.
func (c *Client) Close() error {
	c.mu.Lock()
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	end := c.loopEnd
	c.mu.Unlock()
	if end != nil {
		<-end
	}
	return nil
}

// loop keeps one connection up, reconnecting with backoff.
func (c *Client) loop() {
	defer close(c.loopEnd)
	backoff := backoffFirst
	for {
		t := c.target.Load()
		conn, err := c.connect(t)
		if err != nil {
			c.log.Debug("connect failed", "err", err)
			c.report(fop.ChildDown)
			select {
			case <-c.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, backoffMax)
			continue
		}
		backoff = backoffFirst
		c.mu.Lock()
		if !sameEndpoint(t, c.target.Load()) {
			// The brick moved while we connected (Reconfigure).
			c.mu.Unlock()
			conn.Close()
			continue
		}
		c.conn = conn
		c.gen++
		close(c.upCh)
		c.mu.Unlock()
		c.log.Info("connected to brick", "host", t.host, "brick", t.brick)
		c.upcall(&fop.Upcall{Flags: fop.UpcallReset})
		c.report(fop.ChildUp)

		select {
		case <-c.stop:
		case <-conn.Done():
		}
		c.mu.Lock()
		c.conn = nil
		c.upCh = make(chan struct{})
		c.mu.Unlock()
		conn.Close()
		select {
		case <-c.stop:
			return
		default:
		}
		c.log.Warn("disconnected from brick", "host", t.host, "brick", t.brick, "err", conn.Err())
		// Invalidations sent meanwhile are lost.
		c.upcall(&fop.Upcall{Flags: fop.UpcallReset})
		c.report(fop.ChildDown)
	}
}

// notified passes a cache invalidation from the brick up the graph.
func (c *Client) notified(n *rpc.Notification) {
	c.upcall(&fop.Upcall{GFID: n.GFID, Flags: fop.UpcallFlags(n.Flags), Name: n.Name})
}

// report emits ev unless it is what the layers above already know.
func (c *Client) report(ev fop.Event) {
	c.mu.Lock()
	same := c.emitted == ev
	c.emitted = ev
	c.mu.Unlock()
	if !same {
		c.emit(ev)
	}
}

// connect dials the brick t names and shakes hands.
func (c *Client) connect(t *target) (*rpc.ClientConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	port := t.port
	if port == 0 {
		var err error
		if port, err = c.portmap(ctx, t); err != nil {
			// With glusterd down on the brick's node the brick may still
			// serve where it did: try the port it had.
			if port = int(t.lastPort.Load()); port == 0 {
				return nil, err
			}
			c.log.Debug("portmapper unavailable, trying the last known port", "port", port, "err", err)
		}
	}
	d := net.Dialer{}
	if t.source != nil {
		d.LocalAddr = &net.TCPAddr{IP: t.source}
	}
	addr := net.JoinHostPort(t.host, strconv.Itoa(port))
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok && t.window > 0 {
		tc.SetReadBuffer(t.window)
		tc.SetWriteBuffer(t.window)
	}
	hello := c.hello
	hello.Brick = t.brick
	conn, err := rpc.Handshake(ctx, nc, &hello, rpc.ClientOptions{PingTimeout: t.ping, CallTimeout: t.frame, Pool: c.pool, OnNotify: c.notified})
	if err == nil && t.port == 0 {
		t.lastPort.Store(int32(port))
	}
	if err != nil {
		var he *rpc.HelloError
		if errors.As(err, &he) {
			c.log.Warn("brick refused connection", "addr", addr, "brick", t.brick, "reason", he.Reason)
		}
		return nil, fmt.Errorf("connect %s (%s): %w", addr, t.brick, err)
	}
	return conn, nil
}

// portmap asks glusterd on the brick's host for the brick's port.
func (c *Client) portmap(ctx context.Context, t *target) (int, error) {
	u := fmt.Sprintf("http://%s/v1/portmap?brick=%s",
		net.JoinHostPort(t.host, strconv.Itoa(t.mgmt)), url.QueryEscape(t.brick))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("portmap %s: %w", t.brick, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("portmap %s on %s: %s", t.brick, t.host, resp.Status)
	}
	var body struct {
		Port int `json:"port"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 4096)).Decode(&body); err != nil {
		return 0, fmt.Errorf("portmap %s: %w", t.brick, err)
	}
	if body.Port <= 0 || body.Port > 65535 {
		return 0, fmt.Errorf("portmap %s: port %d", t.brick, body.Port)
	}
	return body.Port, nil
}

// connection returns the current connection and its generation. Before
// the first connection, it waits for one until the grace period ends.
func (c *Client) connection(ctx context.Context) (*rpc.ClientConn, uint64, error) {
	c.mu.Lock()
	conn, gen, up, grace := c.conn, c.gen, c.upCh, c.grace
	c.mu.Unlock()
	if conn != nil {
		return conn, gen, nil
	}
	wait := time.Until(grace)
	if gen > 0 || wait <= 0 {
		return nil, 0, syscall.ENOTCONN
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-up:
		c.mu.Lock()
		conn, gen = c.conn, c.gen
		c.mu.Unlock()
		if conn != nil {
			return conn, gen, nil
		}
	case <-timer.C:
	case <-c.stop:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	return nil, 0, syscall.ENOTCONN
}

// Statedump says where the client connects and how the connection is
// (for a process's SIGUSR1 state dump; see brickd.Dumper).
func (c *Client) Statedump(w io.Writer) {
	t := c.target.Load()
	c.mu.Lock()
	conn, gen := c.conn, c.gen
	c.mu.Unlock()
	fmt.Fprintf(w, "remote-host=%s\nremote-subvolume=%s\nconnected=%d\nconnections=%d\nping-timeout=%d\n",
		t.host, t.brick, boolInt(conn != nil), gen, int(t.ping/time.Second))
	if conn != nil {
		fmt.Fprintf(w, "remote-addr=%s\npending-calls=%d\n", conn.RemoteAddr(), conn.Pending())
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
