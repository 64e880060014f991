package mgmt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
)

// heartbeat pings every other peer each second; a peer is Connected while
// its last answer is recent.
type heartbeat struct {
	g    *Glusterd
	mu   sync.Mutex
	seen map[string]time.Time // peer UUID -> last answer
}

const (
	pingEvery   = time.Second
	connectedIn = 3 * time.Second
)

func newHeartbeat(g *Glusterd) *heartbeat { return &heartbeat{g: g, seen: map[string]time.Time{}} }

// strikesToLeave is how many heartbeat rounds in a row every answering
// peer must deny this node's membership before it leaves the pool.
const strikesToLeave = 5

func (h *heartbeat) run(ctx context.Context) {
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	strikes := 0
	for {
		st := h.g.store.State()
		answered, denied := h.pingAll(ctx, st.Peers, false)
		// A node detached (with force) while it was down still lists
		// itself; once every peer it reaches says it is not a member, it
		// becomes a pool of its own again, as a detached node does. A node
		// that is joining does not list itself yet.
		if _, listed := st.Peer(h.g.uuid); listed && answered > 0 && denied == answered {
			strikes++
		} else {
			strikes = 0
		}
		if strikes >= strikesToLeave {
			strikes = 0
			h.g.leaveStalePool()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pingAll pings the other peers in parallel (with stale, only those not
// seen recently) and returns when all have answered or timed out, with
// how many answered and how many of those deny this node's membership.
func (h *heartbeat) pingAll(ctx context.Context, peers []store.Peer, stale bool) (answered, denied int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, p := range peers {
		if p.UUID == h.g.uuid || stale && h.connected(p.UUID) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, member := h.ping(ctx, p)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				answered++
				if !member {
					denied++
				}
			}
		}()
	}
	wg.Wait()
	return answered, denied
}

func (h *heartbeat) ping(ctx context.Context, p store.Peer) (ok, member bool) {
	var r api.Ping
	if err := h.g.peerClient(p.Hostname, pingEvery).Call(ctx, "GET", "/v1/ping?from="+h.g.uuid, nil, &r); err != nil || r.UUID != p.UUID {
		return false, false
	}
	h.mu.Lock()
	h.seen[p.UUID] = time.Now()
	h.mu.Unlock()
	return true, r.Member
}

// connected reports whether the peer answered recently (this node always).
func (h *heartbeat) connected(uuid string) bool {
	if uuid == h.g.uuid {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return time.Since(h.seen[uuid]) < connectedIn
}

// isSelf reports whether host names this node.
func (g *Glusterd) isSelf(host string) bool {
	if host == "localhost" || host == g.hostname {
		return true
	}
	if g.cfg.Address == "" || g.cfg.Address == "0.0.0.0" {
		// Bound to every address: any local address is us.
		ips, err := net.LookupIP(host)
		if err != nil {
			return false
		}
		addrs, _ := net.InterfaceAddrs()
		for _, ip := range ips {
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
					return true
				}
			}
		}
		return false
	}
	return sameHost(host, g.cfg.Address)
}

// sameHost reports whether two names resolve to a common address.
func sameHost(a, b string) bool {
	if a == b {
		return true
	}
	ia, err := net.LookupIP(a)
	if err != nil {
		return false
	}
	ib, err := net.LookupIP(b)
	if err != nil {
		return false
	}
	for _, x := range ia {
		for _, y := range ib {
			if x.Equal(y) {
				return true
			}
		}
	}
	return false
}

// findPeer finds the pool member that host names.
func findPeer(st *store.State, host string) (store.Peer, bool) {
	if p, ok := st.PeerByHost(host); ok {
		return p, true
	}
	for _, p := range st.Peers {
		if sameHost(p.Hostname, host) {
			return p, true
		}
	}
	return store.Peer{}, false
}

// probe adds host's glusterd to the pool.
func (g *Glusterd) probe(ctx context.Context, host string) (string, error) {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	if g.isSelf(host) {
		return "Probe on localhost not needed", nil
	}
	st := g.state(ctx)
	if _, ok := findPeer(st, host); ok {
		return fmt.Sprintf("Host %s port %d already in peer list", host, g.cfg.Port), nil
	}
	c := g.peerClient(host, 60*time.Second)
	var info api.JoinInfo
	if err := c.Call(ctx, "POST", "/v1/internal/prepare-join", api.JoinInfo{UUID: g.uuid}, &info); err != nil {
		var oe *api.OpError
		if errors.As(err, &oe) {
			return "", err
		}
		g.log.Warn("probe", "host", host, "err", err)
		return "", api.Errorf("Probe returned with Transport endpoint is not connected")
	}
	if info.UUID == g.uuid {
		return "", api.Errorf("Peer uuid (host %s) is same as local uuid", host)
	}
	info.Hostname = host
	err := g.onLeader(ctx, "/v1/internal/join", info, nil, func() error { return g.join(ctx, info) })
	if err != nil {
		// Give the probed node its own pool back.
		if rerr := c.Call(ctx, "POST", "/v1/internal/reset", nil, nil); rerr != nil {
			g.log.Warn("reset after failed probe", "host", host, "err", rerr)
		}
		g.log.Error("probe", "host", host, "err", err)
		return "", api.Errorf("Failed to add peer information on %s", host)
	}
	return "", nil
}

// prepareJoin runs on the probed node: it refuses if it already belongs to
// a pool with other members or volumes, else drops its own one-node pool
// so that it can receive the prober's.
func (g *Glusterd) prepareJoin(from string) (api.JoinInfo, error) {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	st := g.store.State()
	others := false
	for _, p := range st.Peers {
		if p.UUID != g.uuid {
			others = true
		}
	}
	if from == g.uuid {
		return api.JoinInfo{UUID: g.uuid}, nil
	}
	if others || len(st.Volumes) > 0 {
		return api.JoinInfo{}, api.Errorf("%s is either already part of another cluster or having volumes configured", g.hostname)
	}
	if err := g.store.Reset(false); err != nil {
		return api.JoinInfo{}, err
	}
	g.log.Info("joining a pool", "prober", from)
	return api.JoinInfo{UUID: g.uuid, RaftAddr: net.JoinHostPort(g.advertiseIP(), fmt.Sprint(g.cfg.Port+1))}, nil
}

// join runs on the leader: the new node gets a raft replica, then a peer
// record.
func (g *Glusterd) join(ctx context.Context, info api.JoinInfo) error {
	if err := g.store.AddNode(info.UUID, info.RaftAddr); err != nil {
		return err
	}
	return g.store.Apply(ctx, &store.Command{Op: store.OpAddPeer, Peer: &store.Peer{UUID: info.UUID, Hostname: info.Hostname}})
}

// detach removes host from the pool.
func (g *Glusterd) detach(ctx context.Context, host string, force bool) error {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	if g.isSelf(host) {
		return api.Errorf("%s is localhost", host)
	}
	st := g.state(ctx)
	p, ok := findPeer(st, host)
	if !ok {
		return api.Errorf("%s is not part of cluster", host)
	}
	if len(st.BricksOf(p.UUID)) > 0 {
		return api.Errorf("Peer %s hosts one or more bricks. If the peer is in not recoverable state then use either replace-brick or remove-brick command with force to remove all bricks from the peer and attempt the peer detach again.", host)
	}
	if up, _ := g.peers.ping(ctx, p); !up && !force {
		return api.Errorf("One of the peers is probably down. Check with 'peer status'")
	}
	info := api.JoinInfo{UUID: p.UUID, Hostname: p.Hostname}
	if err := g.onLeader(ctx, "/v1/internal/leave", info, nil, func() error { return g.leave(ctx, info) }); err != nil {
		return err
	}
	// The detached node becomes a pool of its own again.
	if err := g.peerClient(p.Hostname, 30*time.Second).Call(ctx, "POST", "/v1/internal/reset", nil, nil); err != nil {
		g.log.Warn("reset detached peer", "host", host, "err", err)
	}
	return nil
}

// leave runs on the leader: drop the peer record, then its raft replica.
func (g *Glusterd) leave(ctx context.Context, info api.JoinInfo) error {
	if err := g.store.Apply(ctx, &store.Command{Op: store.OpRemovePeer, Name: info.UUID}); err != nil {
		return err
	}
	return g.store.RemoveNode(info.UUID)
}

// leaveStalePool makes this node a pool of its own after its peers dropped
// it (see heartbeat.run).
func (g *Glusterd) leaveStalePool() {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	g.log.Warn("the pool detached this node while it was down; starting a pool of our own")
	if err := g.store.Reset(true); err != nil {
		g.log.Error("leave the pool", "err", err)
	}
}

// peerList answers peer status and pool list.
func (g *Glusterd) peerList(ctx context.Context) []api.PeerInfo {
	var out []api.PeerInfo
	peers := g.state(ctx).Peers
	// A peer that just joined, or missed a beat, gets asked now.
	g.peers.pingAll(ctx, peers, true)
	for _, p := range peers {
		out = append(out, api.PeerInfo{UUID: p.UUID, Hostname: p.Hostname, Connected: g.peers.connected(p.UUID), Self: p.UUID == g.uuid})
	}
	return out
}
