// Package mgmt is glusterd, the management daemon that runs on every
// server of the pool. It keeps the pool configuration in a raft-replicated
// store (internal/mgmt/store), answers the gluster CLI and its peers over
// HTTP (internal/mgmt/api), generates volfiles (internal/volgen), starts
// one glusterfsd per local brick and serves the portmapper and the client
// volfile. Data never passes through it: clients fetch the volfile here,
// look up brick ports here, then build their graph and talk to bricks.
package mgmt

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/gluster-go/gluster-go/internal/layers"
	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
	"github.com/gluster-go/gluster-go/internal/volgen"
)

// Config is glusterd's command line.
type Config struct {
	Address     string // IP to bind; "" means all
	Port        int    // management port (24007); raft uses Port+1
	WorkDir     string
	LogDir      string
	RunDir      string
	BrickBinary string // glusterfsd; default: next to this executable
	// LayerTypes are the layer types volfiles may use; nil means what
	// this build registers (internal/layers).
	LayerTypes map[string]bool
}

// Glusterd is one running management daemon.
type Glusterd struct {
	cfg      Config
	log      *slog.Logger
	uuid     string
	hostname string // how this node names itself in the pool
	store    *store.Raft
	bricks   *supervisor
	peers    *heartbeat
	heals    *healDaemons
	rebal    *rebalancers
	types    map[string]bool // layer types this build can construct
	srv      *http.Server
	ln       net.Listener

	// opMu serializes multi-step volume and peer operations on this node.
	opMu sync.Mutex
}

// New prepares glusterd: its UUID, store and listeners, without serving.
func New(cfg Config, log *slog.Logger) (*Glusterd, error) {
	if cfg.Port == 0 {
		cfg.Port = api.DefaultPort
	}
	for _, d := range []string{cfg.WorkDir, cfg.LogDir, cfg.RunDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("mkdir %s: %w", d, err)
		}
	}
	id, err := loadUUID(filepath.Join(cfg.WorkDir, "glusterd.info"))
	if err != nil {
		return nil, err
	}
	g := &Glusterd{cfg: cfg, log: log, uuid: id, types: cfg.LayerTypes}
	if g.types == nil {
		g.types = volgen.TypesOf(layers.Registry())
	}
	g.hostname = cfg.Address
	if g.hostname == "" || g.hostname == "0.0.0.0" {
		if g.hostname, err = os.Hostname(); err != nil {
			return nil, fmt.Errorf("hostname: %w", err)
		}
	}
	g.ln, err = net.Listen("tcp", net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("listen %s:%d: %w", cfg.Address, cfg.Port, err)
	}
	raftBind := net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port+1))
	raftAdv := net.JoinHostPort(g.advertiseIP(), strconv.Itoa(cfg.Port+1))
	g.store, err = store.Open(store.Config{
		ID:        id,
		Dir:       filepath.Join(cfg.WorkDir, "raft"),
		Bind:      raftBind,
		Advertise: raftAdv,
		Forward:   g.forward,
		LogOutput: &raftLog{log: log.With("component", "raft")},
	}, true)
	if err != nil {
		g.ln.Close()
		return nil, err
	}
	bin := cfg.BrickBinary
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("executable: %w", err)
		}
		bin = filepath.Join(filepath.Dir(exe), "glusterfsd")
	}
	g.bricks = newSupervisor(g, bin)
	g.peers = newHeartbeat(g)
	g.heals = newHealDaemons(g)
	g.rebal = newRebalancers(g)
	g.srv = &http.Server{Handler: g.routes(), ReadHeaderTimeout: 10 * time.Second}
	return g, nil
}

// advertiseIP is the address peers reach this node's raft port at.
func (g *Glusterd) advertiseIP() string {
	if a := g.cfg.Address; a != "" && a != "0.0.0.0" {
		return a
	}
	if ips, err := net.LookupIP(g.hostname); err == nil {
		for _, ip := range ips {
			if ip4 := ip.To4(); ip4 != nil && !ip4.IsLoopback() {
				return ip4.String()
			}
		}
	}
	return "127.0.0.1"
}

// Serve runs until ctx ends. ready is called once the API answers.
func (g *Glusterd) Serve(ctx context.Context, ready func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go g.ensureSelf(ctx)
	go g.peers.run(ctx)
	g.bricks.restoreLocal(ctx)
	// Requests wait in the listen backlog until the pool state is here,
	// so the first command after a (re)start sees it.
	g.waitSettled(ctx)
	go g.bricks.reconcileLoop(ctx)
	go g.heals.follow(ctx)
	go g.rebal.follow(ctx)
	errc := make(chan error, 1)
	go func() { errc <- g.srv.Serve(g.ln) }()
	g.log.Info("glusterd serving", "address", g.ln.Addr().String(), "uuid", g.uuid, "hostname", g.hostname)
	// The CLI finds a glusterd bound to one address here.
	addrFile := filepath.Join(g.cfg.RunDir, api.AddrFile)
	if err := writeFileAtomic(addrFile, []byte(net.JoinHostPort(g.bricks.dialHost(), strconv.Itoa(g.cfg.Port))+"\n")); err != nil {
		g.log.Warn("address file", "err", err)
	}
	defer os.Remove(addrFile)
	if ready != nil {
		ready()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	g.srv.Shutdown(sctx)
	return errors.Join(err, g.store.Close())
}

// settleMax bounds how long startup waits for the pool state; a node whose
// pool has no quorum serves its local view after that.
const settleMax = 10 * time.Second

// catchUp waits for the store to apply the log it held at start before
// what follows it (who) acts on the pool state; when that cannot happen
// (no quorum, or the node joined a pool meanwhile) it goes on with the
// local state. It reports false only when ctx ended.
func (g *Glusterd) catchUp(ctx context.Context, who string) bool {
	if err := g.store.WaitCaughtUp(ctx); err != nil {
		if ctx.Err() != nil {
			return false
		}
		g.log.Warn("pool state not caught up; going on with the local state", "for", who, "err", err)
	}
	return true
}

// waitSettled waits until the store holds the pool (this node recorded as
// a peer), so that the first CLI command after startup sees it.
func (g *Glusterd) waitSettled(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, settleMax)
	defer cancel()
	if g.store.WaitCaughtUp(ctx) != nil {
		return
	}
	for {
		ch := g.store.Updated()
		if _, ok := g.store.State().Peer(g.uuid); ok {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
	}
}

// ensureSelf records a freshly bootstrapped node as the pool's first peer.
func (g *Glusterd) ensureSelf(ctx context.Context) {
	for ctx.Err() == nil {
		st := g.store.State()
		if len(st.Peers) > 0 {
			// Joined or already recorded; watch for a reset (detach).
			select {
			case <-ctx.Done():
				return
			case <-g.store.Updated():
			case <-time.After(2 * time.Second):
			}
			continue
		}
		if g.store.IsLeader() {
			err := g.store.Apply(ctx, &store.Command{Op: store.OpAddPeer, Peer: &store.Peer{UUID: g.uuid, Hostname: g.hostname}})
			if err != nil {
				g.log.Warn("record self as peer", "err", err)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// loadUUID reads the node UUID from glusterd.info (UUID=...), creating it
// on first start as GlusterFS does.
func loadUUID(path string) (string, error) {
	f, err := os.Open(path)
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "UUID="); ok {
				if _, err := uuid.Parse(v); err != nil {
					return "", fmt.Errorf("read %s: bad UUID %q", path, v)
				}
				return v, nil
			}
		}
		return "", fmt.Errorf("read %s: no UUID line", path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	id := uuid.NewString()
	if err := writeFileAtomic(path, []byte("UUID="+id+"\noperating-version=100000\n")); err != nil {
		return "", err
	}
	return id, nil
}

// writeFileAtomic replaces path so that readers never see half a file
// (concurrent writers each use their own temporary file).
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mkdir %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	err = errors.Join(err, f.Chmod(0o644), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// peerClient returns a client of another node's glusterd.
func (g *Glusterd) peerClient(host string, timeout time.Duration) *api.Client {
	return api.NewClient(net.JoinHostPort(host, strconv.Itoa(g.cfg.Port)), timeout)
}

// forward sends a command to the leader's glusterd (same host as its raft
// address, management port).
func (g *Glusterd) forward(ctx context.Context, leaderRaft string, c *store.Command) (uint64, error) {
	host, _, err := net.SplitHostPort(leaderRaft)
	if err != nil {
		return 0, fmt.Errorf("leader address %s: %w", leaderRaft, err)
	}
	var r api.ApplyResponse
	if err := g.peerClient(host, 30*time.Second).Call(ctx, "POST", "/v1/internal/apply", c, &r); err != nil {
		return 0, err
	}
	return r.Index, nil
}

// onLeader runs a leader-only internal call: locally when this node leads,
// otherwise on the leader over HTTP.
func (g *Glusterd) onLeader(ctx context.Context, path string, in, out any, local func() error) error {
	if g.store.IsLeader() {
		return local()
	}
	addr, _, err := g.store.Leader(ctx)
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("leader address %s: %w", addr, err)
	}
	return g.peerClient(host, 60*time.Second).Call(ctx, "POST", path, in, out)
}

// readBarrier bounds how long a read waits to see the pool's last write;
// without a leader it serves the local copy after that.
const readBarrier = 2 * time.Second

// state returns the pool configuration including every change committed
// anywhere before the call (read-your-writes across nodes), or the local
// copy when the pool has no leader.
func (g *Glusterd) state(ctx context.Context) *store.State {
	ctx, cancel := context.WithTimeout(ctx, readBarrier)
	defer cancel()
	var r api.ApplyResponse
	err := g.onLeader(ctx, "/v1/internal/read-index", nil, &r, func() error {
		var err error
		r.Index, err = g.store.ReadIndex(ctx)
		return err
	})
	if err == nil {
		err = g.store.WaitApplied(ctx, r.Index)
	}
	if err != nil {
		g.log.Debug("serving the local state", "err", err)
	}
	return g.store.State()
}

// State returns this node's copy of the pool configuration.
func (g *Glusterd) State() *store.State { return g.store.State() }

// Statedump writes what this glusterd knows (identity, raft membership,
// pool state, brick ports) to RUNDIR/glusterdump.PID.dump.TIMESTAMP, as SIGUSR1 asks.
func (g *Glusterd) Statedump() (string, error) {
	servers, err := g.store.Servers()
	if err != nil {
		return "", fmt.Errorf("statedump: %w", err)
	}
	dump := struct {
		UUID     string          `json:"uuid"`
		Hostname string          `json:"hostname"`
		Leader   bool            `json:"leader"`
		Servers  map[string]bool `json:"raftServers"` // UUID -> voter
		Ports    map[string]int  `json:"ports"`
		State    *store.State    `json:"state"`
	}{g.uuid, g.hostname, g.store.IsLeader(), servers, g.bricks.portmap(), g.store.State()}
	b, err := json.MarshalIndent(dump, "", "  ")
	if err != nil {
		return "", fmt.Errorf("statedump: %w", err)
	}
	path := filepath.Join(g.cfg.RunDir, fmt.Sprintf("glusterdump.%d.dump.%d", os.Getpid(), time.Now().Unix()))
	return path, writeFileAtomic(path, b)
}
