package mgmt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/afr"
	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/layers"
	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
	"github.com/gluster-go/gluster-go/internal/shd"
	"github.com/gluster-go/gluster-go/internal/volopt"
)

// The self-heal daemon runs inside glusterd rather than as a separate
// glustershd process: glusterd already follows every volume change and
// supervises this node's bricks, heal info and split-brain resolution
// need the same graph, and one process fewer is one less thing to
// supervise. Each started replicated volume with bricks here gets its own
// graph (internal/shd), so volumes do not share failure.

// healDaemons runs this node's self-heal daemons, one per volume.
type healDaemons struct {
	g *Glusterd

	mu  sync.Mutex
	run map[string]*healRun // by volume name
}

// healRun is one volume's running daemon.
type healRun struct {
	task
	key    string      // what it was built from, see daemonKey
	healer *shd.Healer // nil while it opens
}

func newHealDaemons(g *Glusterd) *healDaemons {
	return &healDaemons{g: g, run: map[string]*healRun{}}
}

// follow keeps the daemons in line with the store until ctx ends.
func (d *healDaemons) follow(ctx context.Context) {
	defer stopAll(&d.mu, &d.run)
	d.g.follow(ctx, "self-heal daemons", 0, d.reconcile)
}

// wantsDaemon reports whether this node runs a self-heal daemon for v.
func (d *healDaemons) wantsDaemon(v *store.Volume) bool {
	return v.Status == store.StatusStarted && v.ReplicaCount > 1 &&
		len(d.g.bricks.local(v)) > 0 && optionOn(v, "cluster.self-heal-daemon")
}

func optionOn(v *store.Volume, key string) bool {
	b, err := volopt.ParseBool(optionValue(v, key))
	return err == nil && b
}

func optionValue(v *store.Volume, key string) string {
	set := map[string]string{}
	for _, o := range v.Options {
		set[o.Key] = o.Value
	}
	return volopt.Effective(set, key)
}

// daemonKey is what a volume's daemon depends on: its client graph and
// crawl interval. Other changes (a brick restarted by start force, an
// option of the bricks) leave a running daemon, and its crawl, alone.
func (d *healDaemons) daemonKey(v *store.Volume) string {
	vf, err := d.g.clientVolfile(v)
	if err != nil {
		vf = err.Error()
	}
	return vf + "\nheal-timeout " + optionValue(v, "cluster.heal-timeout")
}

func (d *healDaemons) reconcile(ctx context.Context, st *store.State) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, r := range d.run {
		v, ok := st.Volumes[name]
		if !ok || !d.wantsDaemon(v) || d.daemonKey(v) != r.key {
			r.cancel() // serve closes its graph on the way out
			delete(d.run, name)
		}
	}
	for _, name := range st.VolumeNames() {
		v := st.Volumes[name]
		if _, ok := d.run[name]; ok || !d.wantsDaemon(v) {
			continue
		}
		r := &healRun{key: d.daemonKey(v)}
		d.run[name] = r
		r.task = startTask(ctx, func(ctx context.Context) { d.serve(ctx, v, r) })
	}
}

// serve opens v's healer and runs it until ctx ends.
func (d *healDaemons) serve(ctx context.Context, v *store.Volume, r *healRun) {
	log := d.g.log.With("volume", v.Name, "component", "self-heal-daemon")
	h, err := d.g.openHealer(ctx, v, log)
	if err != nil {
		log.Error("self-heal daemon not started", "err", err)
		return
	}
	defer h.Close()
	if !h.Replicated() {
		return
	}
	d.mu.Lock()
	r.healer = h
	d.mu.Unlock()
	secs, err := volopt.ParseTime(optionValue(v, "cluster.heal-timeout"))
	if err != nil || secs <= 0 {
		secs = 600
	}
	log.Info("self-heal daemon started", "heal-timeout", secs)
	h.Run(ctx, time.Duration(secs)*time.Second)
	log.Info("self-heal daemon stopped")
}

// healer returns the running daemon's healer for v, if it serves v's
// current configuration.
func (d *healDaemons) healer(v *store.Volume) *shd.Healer {
	key := d.daemonKey(v)
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.run[v.Name]; ok && r.key == key {
		return r.healer
	}
	return nil
}

// openHealer builds a healer of v's client graph, crawling this node's
// bricks.
func (g *Glusterd) openHealer(ctx context.Context, v *store.Volume, log *slog.Logger) (*shd.Healer, error) {
	f, err := g.localClientVolfile(v)
	if err != nil {
		return nil, err
	}
	var local []shd.Brick
	for _, b := range g.bricks.local(v) {
		local = append(local, shd.Brick{Host: b.Host, Path: b.Path})
	}
	return shd.Open(ctx, shd.Config{Volfile: f, Registry: layers.Registry(), Local: local, Logger: log})
}

// withHealer runs fn with the daemon's healer of v, or a short-lived one
// (daemon off, or this node has no brick of v).
func (g *Glusterd) withHealer(ctx context.Context, v *store.Volume, fn func(h *shd.Healer) error) error {
	if h := g.heals.healer(v); h != nil {
		return fn(h)
	}
	h, err := g.openHealer(ctx, v, g.log.With("volume", v.Name, "component", "heal"))
	if err != nil {
		return err
	}
	defer h.Close()
	return fn(h)
}

// healRoutes adds the heal endpoints.
func (g *Glusterd) healRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /v1/volume/heal", handle(func(ctx context.Context, req api.HealRequest) (any, error) {
		return g.heal(ctx, req)
	}))
	m.HandleFunc("POST /v1/internal/heal", handle(func(ctx context.Context, req api.HealRequest) (any, error) {
		return g.healLocal(ctx, req)
	}))
}

// heal runs `gluster volume heal`: crawls and info on every node with
// bricks, split-brain resolution here.
func (g *Glusterd) heal(ctx context.Context, req api.HealRequest) (api.HealResponse, error) {
	var resp api.HealResponse
	v, err := g.volume(ctx, req.Name)
	if err != nil {
		return resp, err
	}
	if v.Status != store.StatusStarted {
		return resp, api.Errorf("Volume %s is not started.", v.Name)
	}
	if v.ReplicaCount < 2 {
		if req.Op == api.HealIndex || req.Op == api.HealFull {
			return resp, api.Errorf("Volume %s is not of type replicate or disperse", v.Name)
		}
		return resp, api.Errorf("This command is supported for only volumes of replicate type. Volume %s is not of type replicate", v.Name)
	}
	switch req.Op {
	case api.HealIndex, api.HealFull:
		if !optionOn(v, "cluster.self-heal-daemon") {
			return resp, api.Errorf("Self-heal-daemon is disabled. Heal will not be triggered on volume %s", v.Name)
		}
		return resp, g.onBrickNodes(ctx, g.state(ctx), v, "/v1/internal/heal", api.HealRequest{Op: req.Op, Volume: v})
	case api.HealInfo, api.HealInfoSplitBrain, api.HealInfoSummary, api.HealCount:
		resp.Bricks = g.gatherHealInfo(ctx, v, req.Op)
		return resp, nil
	case api.HealSplitBrain:
		resp.Lines, err = g.resolveSplitBrain(ctx, v, req)
		return resp, err
	case api.HealEnable, api.HealDisable:
		on := map[string]string{api.HealEnable: "on", api.HealDisable: "off"}[req.Op]
		return resp, g.setOptions(ctx, api.SetRequest{Name: v.Name, Options: []store.Option{{Key: "cluster.self-heal-daemon", Value: on}}})
	}
	return resp, api.Errorf("Invalid heal-op")
}

// gatherHealInfo asks every node with bricks of v for their heal info
// and returns it in brick order; bricks whose node did not answer show as
// not connected.
func (g *Glusterd) gatherHealInfo(ctx context.Context, v *store.Volume, op string) []api.HealBrick {
	got := map[string]api.HealBrick{}
	for _, p := range brickPeers(g.state(ctx), v) {
		var r api.HealResponse
		err := g.peerClient(p.Hostname, 5*time.Minute).Call(ctx, "POST", "/v1/internal/heal", api.HealRequest{Op: op, Volume: v}, &r)
		if err != nil {
			g.log.Warn("heal info", "host", p.Hostname, "err", err)
			continue
		}
		for _, hb := range r.Bricks {
			got[hb.Host+":"+hb.Path] = hb
		}
	}
	var out []api.HealBrick
	for _, b := range v.Bricks {
		hb, ok := got[b.Name()]
		if !ok {
			hb = api.HealBrick{Host: b.Host, Path: b.Path}
		}
		out = append(out, hb)
	}
	return out
}

// healLocal is a node's part of a heal operation, on its own bricks.
func (g *Glusterd) healLocal(ctx context.Context, req api.HealRequest) (api.HealResponse, error) {
	var resp api.HealResponse
	v := req.Volume
	if v == nil {
		return resp, api.Errorf("bad request: no volume")
	}
	if len(g.bricks.local(v)) == 0 {
		return resp, nil
	}
	switch req.Op {
	case api.HealIndex, api.HealFull:
		// Launched, as in GlusterFS: heal info shows the progress.
		go func() {
			hctx := context.WithoutCancel(ctx)
			err := g.withHealer(hctx, v, func(h *shd.Healer) error {
				var err error
				if req.Op == api.HealFull {
					_, err = h.HealFull(hctx)
				} else {
					_, err = h.HealIndex(hctx)
				}
				return err
			})
			if err != nil {
				g.log.Warn("heal", "volume", v.Name, "op", req.Op, "err", err)
			}
		}()
		return resp, nil
	case api.HealInfo, api.HealInfoSplitBrain, api.HealInfoSummary, api.HealCount:
		err := g.withHealer(ctx, v, func(h *shd.Healer) error {
			info, err := h.Info(ctx, req.Op == api.HealInfoSplitBrain)
			for _, bi := range info {
				hb := api.HealBrick{Host: bi.Host, Path: bi.Path, Connected: bi.Connected}
				for _, e := range bi.Entries {
					hb.Entries = append(hb.Entries, api.HealEntry{Name: e.Name(), GFID: e.GFID.String(), SplitBrain: e.SplitBrain})
				}
				resp.Bricks = append(resp.Bricks, hb)
			}
			return err
		})
		return resp, err
	}
	return resp, api.Errorf("Invalid heal-op")
}

// resolveSplitBrain runs `heal VOL split-brain POLICY [FILE]` and returns
// the lines GlusterFS's glfsheal prints.
func (g *Glusterd) resolveSplitBrain(ctx context.Context, v *store.Volume, req api.HealRequest) ([]string, error) {
	policy := afr.Policy(req.Policy)
	var source *shd.Brick
	switch policy {
	case afr.BiggerFile, afr.LatestMtime:
		if req.File == "" {
			return nil, api.Errorf("Usage: volume heal <VOLNAME> split-brain {bigger-file <FILE> | latest-mtime <FILE> | source-brick <HOSTNAME:BRICKNAME> [<FILE>]}")
		}
	case afr.SourceBrick:
		host, path, err := api.ParseBrick(req.Source)
		if err != nil {
			return nil, err
		}
		source = &shd.Brick{Host: host, Path: path}
	default:
		return nil, api.Errorf("Invalid heal-op")
	}
	var lines []string
	var failed error
	err := g.withHealer(ctx, v, func(h *shd.Healer) error {
		if req.File != "" {
			gfid, err := h.Lookup(ctx, req.File)
			if err != nil {
				return api.Errorf("Lookup failed on %s:%s", req.File, errnoText(err))
			}
			if err := h.Resolve(ctx, gfid, policy, source); err != nil {
				return api.Errorf("Healing %s failed: %s.", req.File, resolveText(err, source))
			}
			lines = append(lines, "Healed "+req.File+".")
			return nil
		}
		// Every file in split-brain on the source brick's replica set.
		set := setOf(v, *source)
		if set < 0 {
			return api.Errorf("%q- No such brick available in the volume.", req.Source)
		}
		healed := 0
		seen := map[fop.GFID]bool{} // every brick of the set lists it
		for i, hb := range g.gatherHealInfo(ctx, v, api.HealInfoSplitBrain) {
			if i/v.SubvolCount() != set {
				continue
			}
			for _, e := range hb.Entries {
				gfid, err := fop.ParseGFID(e.GFID)
				if err != nil || seen[gfid] {
					continue
				}
				seen[gfid] = true
				if err := h.Resolve(ctx, gfid, policy, source); err != nil {
					lines = append(lines, fmt.Sprintf("Healing gfid:%s failed: %s.", e.GFID, resolveText(err, source)))
					failed = api.Errorf("Some entries could not be healed")
					continue
				}
				healed++
				lines = append(lines, fmt.Sprintf("Healed gfid:%s.", e.GFID))
			}
		}
		lines = append(lines, fmt.Sprintf("Number of healed entries: %d", healed))
		return nil
	})
	if err == nil {
		err = failed
	}
	if err != nil && len(lines) > 0 {
		return lines, api.Errorf("%s", strings.Join(append(lines, err.Error()), "\n"))
	}
	return lines, err
}

// setOf returns the replica set of brick b in v, or -1.
func setOf(v *store.Volume, b shd.Brick) int {
	for i, x := range v.Bricks {
		if x.Host == b.Host && x.Path == b.Path {
			return i / v.SubvolCount()
		}
	}
	return -1
}

func resolveText(err error, source *shd.Brick) string {
	if errors.Is(err, shd.ErrNoSuchBrick) && source != nil {
		return fmt.Sprintf("%q- %v", source.String(), err)
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

func errnoText(err error) string { return fop.Errno(err).Error() }
