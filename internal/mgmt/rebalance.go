package mgmt

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/gluster-go/gluster-go/internal/dht"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/layers"
	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
	"github.com/gluster-go/gluster-go/internal/rebalance"
	"github.com/gluster-go/gluster-go/internal/volfile"
)

// Rebalance and remove-brick run inside glusterd, one job per volume on
// every node with bricks of it, rather than as a separate rebalance
// process: glusterd already follows the store where the operation is
// recorded, so a restarted glusterd sees the operation and resumes it
// from the progress file it left in the volume's directory, with nothing
// else to supervise. The job talks to the bricks through its own client
// graph, exactly as a mount does, so clients and the mover follow the same
// migration protocol (internal/dht).

// rebalancers runs this node's rebalance jobs.
type rebalancers struct {
	g *Glusterd

	mu  sync.Mutex
	run map[string]*rebalanceRun // by volume name
}

// rebalanceRun is one volume's running job.
type rebalanceRun struct {
	task
	id      string
	version uint64
	job     *rebalance.Job // nil while the graph comes up
}

func newRebalancers(g *Glusterd) *rebalancers {
	return &rebalancers{g: g, run: map[string]*rebalanceRun{}}
}

// stateFile is where this node keeps v's rebalance progress.
func (r *rebalancers) stateFile(vol string) string {
	return filepath.Join(r.g.bricks.volDir(vol), "rebalance.json")
}

// follow keeps the jobs in line with the store until ctx ends.
func (r *rebalancers) follow(ctx context.Context) {
	defer stopAll(&r.mu, &r.run)
	r.g.follow(ctx, "rebalance", rebalanceRecheck, r.reconcile)
}

// rebalanceRecheck is how often the jobs are checked against the store
// without a change.
const rebalanceRecheck = 2 * time.Second

// wants reports whether this node should be running v's rebalance.
func (r *rebalancers) wants(v *store.Volume) bool {
	if v.Rebalance == nil || v.Rebalance.Stopped || v.Status != store.StatusStarted || len(r.g.bricks.local(v)) == 0 {
		return false
	}
	c, ok := rebalance.ReadCounters(r.stateFile(v.Name), v.Rebalance.ID)
	if !ok {
		return true
	}
	switch c.Status {
	case rebalance.Completed, rebalance.FixLayoutCompleted, rebalance.Failed, rebalance.FixLayoutFailed:
		return false
	}
	return true
}

func (r *rebalancers) reconcile(ctx context.Context, st *store.State) {
	r.mu.Lock()
	var stale []*rebalanceRun
	for name, run := range r.run {
		v, ok := st.Volumes[name]
		// A new volfile (remove-brick start, an option) needs a new
		// graph; the job resumes from its progress file.
		if !ok || v.Rebalance == nil || v.Rebalance.ID != run.id || v.Rebalance.Stopped || v.Version != run.version || v.Status != store.StatusStarted {
			stale = append(stale, run)
			delete(r.run, name)
		}
	}
	r.mu.Unlock()
	// Wait outside the lock: a job that is starting takes it.
	for _, run := range stale {
		run.stop()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, run := range r.run {
		select {
		case <-run.done:
			delete(r.run, name)
		default:
		}
	}
	for _, name := range st.VolumeNames() {
		v := st.Volumes[name]
		if _, ok := r.run[name]; ok || !r.wants(v) {
			continue
		}
		run := &rebalanceRun{id: v.Rebalance.ID, version: v.Version}
		r.run[name] = run
		run.task = startTask(ctx, func(ctx context.Context) { r.serve(ctx, v, run) })
	}
}

// serve builds v's client graph and runs this node's part of the job.
func (r *rebalancers) serve(ctx context.Context, v *store.Volume, run *rebalanceRun) {
	op := v.Rebalance
	log := r.g.log.With("volume", v.Name, "component", "rebalance", "id", op.ID)
	job := &rebalance.Job{
		ID:        op.ID,
		FixLayout: op.Kind == store.RebalanceFixLayout,
		Drain:     op.Kind == store.RebalanceRemove,
		Force:     op.Force,
		Commit:    op.Commit,
		Workers:   rebalance.Throttle(optionValue(v, "cluster.rebal-throttle"), runtime.NumCPU()),
		StateFile: r.stateFile(v.Name),
		Log:       log,
	}
	job.Load()
	r.mu.Lock()
	run.job = job
	r.mu.Unlock()
	g, d, err := r.g.clientGraph(ctx, v, log)
	if err != nil {
		log.Error("rebalance not started", "err", err)
		return
	}
	defer g.Close()
	if d == nil {
		log.Info("nothing to rebalance: the volume has a single subvolume")
		return
	}
	job.DHT = d
	job.Local = localSubvols(v, r.g.uuid)
	log.Info("rebalance started", "kind", op.Kind, "local-subvolumes", job.Local)
	if err := job.Run(ctx); err != nil {
		log.Error("rebalance failed", "err", err)
	}
}

// localSubvols are the distribute children whose files this node moves:
// those whose first brick it hosts, so that exactly one node moves each
// replica set's files.
func localSubvols(v *store.Volume, self string) []int {
	var out []int
	sc := v.SubvolCount()
	for i := 0; i+sc <= len(v.Bricks); i += sc {
		if v.Bricks[i].PeerID == self {
			out = append(out, i/sc)
		}
	}
	return out
}

// localClientVolfile is v's client volfile for a graph inside glusterd:
// its protocol/clients ask this glusterd for brick ports, wherever it
// listens.
func (g *Glusterd) localClientVolfile(v *store.Volume) (*volfile.File, error) {
	text, err := g.clientVolfile(v)
	if err != nil {
		return nil, err
	}
	f, err := volfile.Parse(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("volfile of %s: %w", v.Name, err)
	}
	if g.cfg.Port != api.DefaultPort {
		for _, vol := range f.Volumes {
			if vol.Type == "protocol/client" {
				vol.SetOption("remote-mgmt-port", strconv.Itoa(g.cfg.Port))
			}
		}
	}
	return f, nil
}

// clientGraph builds and starts a client graph of v and returns its
// distribute layer (nil for a volume without one).
func (g *Glusterd) clientGraph(ctx context.Context, v *store.Volume, log *slog.Logger) (*graph.Graph, *dht.DHT, error) {
	f, err := g.localClientVolfile(v)
	if err != nil {
		return nil, nil, err
	}
	gr, err := graph.Build(f, layers.Registry(), graph.Options{Logger: log})
	if err != nil {
		return nil, nil, err
	}
	if err := gr.Start(ctx); err != nil {
		gr.Close()
		return nil, nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := gr.WaitUp(wctx); err != nil {
		gr.Close()
		return nil, nil, fmt.Errorf("volume %s: bricks not reachable: %w", v.Name, err)
	}
	d, _ := gr.Layer(v.Name + "-dht").(*dht.DHT)
	return gr, d, nil
}

// local returns this node's part of v's current operation.
func (r *rebalancers) local(v *store.Volume) api.RebalanceNode {
	n := api.RebalanceNode{Node: r.g.hostname, UUID: r.g.uuid, Status: rebalance.NotStarted}
	if v.Rebalance == nil || len(r.g.bricks.local(v)) == 0 {
		return n
	}
	var c rebalance.Counters
	r.mu.Lock()
	run, ok := r.run[v.Name]
	r.mu.Unlock()
	if ok && run.id == v.Rebalance.ID && run.job != nil {
		c = run.job.Counters()
	} else if saved, ok := rebalance.ReadCounters(r.stateFile(v.Name), v.Rebalance.ID); ok {
		c = saved
		if v.Rebalance.Stopped && (c.Status == rebalance.InProgress || c.Status == rebalance.FixLayoutInProgress) {
			c.Status = rebalance.Stopped
		}
	} else {
		return n
	}
	if c.Status == "" {
		c.Status = rebalance.InProgress
	}
	return api.RebalanceNode{Node: r.g.hostname, UUID: r.g.uuid, Files: c.Files, Bytes: c.Bytes, Scanned: c.Scanned,
		Failures: c.Failures, Skipped: c.Skipped, Status: c.Status, Elapsed: c.Elapsed}
}

// distributeRoutes adds the add-brick, remove-brick, replace-brick and
// rebalance endpoints.
func (g *Glusterd) distributeRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /v1/volume/add-brick", handle(func(ctx context.Context, req api.AddBrickRequest) (any, error) {
		return nil, g.addBrick(ctx, req)
	}))
	m.HandleFunc("POST /v1/volume/rebalance", handle(func(ctx context.Context, req api.RebalanceRequest) (any, error) {
		return g.rebalanceOp(ctx, req)
	}))
	m.HandleFunc("POST /v1/volume/remove-brick", handle(func(ctx context.Context, req api.RemoveBrickRequest) (any, error) {
		return g.removeBrick(ctx, req)
	}))
	m.HandleFunc("POST /v1/volume/replace-brick", handle(func(ctx context.Context, req api.ReplaceBrickRequest) (any, error) {
		return nil, g.replaceBrick(ctx, req)
	}))
	m.HandleFunc("POST /v1/internal/rebalance-status", handle(func(ctx context.Context, req api.RebalanceLocalRequest) (any, error) {
		if req.Volume == nil {
			return nil, api.Errorf("bad request: no volume")
		}
		return g.rebal.local(req.Volume), nil
	}))
}

// gatherRebalance asks every node with bricks of v for its part; this
// node is "localhost", as GlusterFS prints it.
func (g *Glusterd) gatherRebalance(ctx context.Context, v *store.Volume) api.RebalanceResponse {
	resp := api.RebalanceResponse{}
	if v.Rebalance != nil {
		resp.ID, resp.Kind = v.Rebalance.ID, v.Rebalance.Kind
	}
	for _, p := range brickPeers(g.state(ctx), v) {
		var n api.RebalanceNode
		if err := g.peerClient(p.Hostname, 30*time.Second).Call(ctx, "POST", "/v1/internal/rebalance-status", api.RebalanceLocalRequest{Volume: v}, &n); err != nil {
			g.log.Warn("rebalance status", "host", p.Hostname, "err", err)
			continue
		}
		if p.UUID == g.uuid {
			n.Node = "localhost"
		}
		resp.Nodes = append(resp.Nodes, n)
	}
	return resp
}

// newRebalance records a new operation of kind on v.
func (g *Glusterd) newRebalance(ctx context.Context, v *store.Volume, kind string, force bool) (string, error) {
	op := &store.Rebalance{ID: uuid.NewString(), Kind: kind, Force: force, Commit: rand.Uint32() | 4}
	if err := g.store.Apply(ctx, &store.Command{Op: store.OpSetRebalance, Name: v.Name, Rebalance: op}); err != nil {
		return "", err
	}
	return op.ID, nil
}

// running reports whether v's current operation still runs on some node.
func (g *Glusterd) rebalanceRunning(ctx context.Context, v *store.Volume) bool {
	if v.Rebalance == nil || v.Rebalance.Stopped {
		return false
	}
	for _, n := range g.gatherRebalance(ctx, v).Nodes {
		if n.Status == rebalance.InProgress || n.Status == rebalance.FixLayoutInProgress {
			return true
		}
	}
	return false
}

// rebalanceOp runs `volume rebalance VOL ...`.
func (g *Glusterd) rebalanceOp(ctx context.Context, req api.RebalanceRequest) (api.RebalanceResponse, error) {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	var resp api.RebalanceResponse
	v, err := g.volume(ctx, req.Name)
	if err != nil {
		return resp, err
	}
	switch req.Op {
	case api.RebalanceStart, api.RebalanceFixLayout:
		if v.Status != store.StatusStarted {
			return resp, api.Errorf("Volume %s needs to be started to perform rebalance", v.Name)
		}
		if v.DistCount() < 2 {
			return resp, api.Errorf("Volume %s is not a distribute volume or contains only 1 brick.\nNot performing rebalance", v.Name)
		}
		if g.rebalanceRunning(ctx, v) {
			if v.Rebalance.Kind == store.RebalanceRemove {
				return resp, api.Errorf("A remove-brick task on volume %s is not yet committed. Either commit or stop the remove-brick task.", v.Name)
			}
			return resp, api.Errorf("Rebalance on %s is already started", v.Name)
		}
		if v.Rebalance != nil && v.Rebalance.Kind == store.RebalanceRemove && !v.Rebalance.Stopped {
			return resp, api.Errorf("A remove-brick task on volume %s is not yet committed. Either commit or stop the remove-brick task.", v.Name)
		}
		kind := store.RebalanceMigrate
		if req.Op == api.RebalanceFixLayout {
			kind = store.RebalanceFixLayout
		}
		resp.ID, err = g.newRebalance(ctx, v, kind, req.Force)
		return resp, err
	case api.RebalanceStop:
		if v.Rebalance == nil || v.Rebalance.Kind == store.RebalanceRemove {
			return resp, api.Errorf("Rebalance not started for volume %s.", v.Name)
		}
		op := *v.Rebalance
		op.Stopped = true
		if err := g.store.Apply(ctx, &store.Command{Op: store.OpSetRebalance, Name: v.Name, Rebalance: &op}); err != nil {
			return resp, err
		}
		v.Rebalance = &op
		return g.gatherRebalance(ctx, v), nil
	case api.RebalanceStatus:
		if v.Rebalance == nil || v.Rebalance.Kind == store.RebalanceRemove {
			return resp, api.Errorf("Rebalance not started for volume %s.", v.Name)
		}
		return g.gatherRebalance(ctx, v), nil
	}
	return resp, api.Errorf("Invalid rebalance command %q", req.Op)
}
