// Package shd is the self-heal daemon: on each server, for each started
// replicated volume with bricks there, glusterd keeps a Healer. It builds
// the volume's client graph (the same volfile mounts use, so it reaches
// every brick through protocol/client), and heals what the pending-heal
// index (internal/index) of its local bricks lists, through the
// cluster/replicate layer (internal/afr) the brick belongs to: at start,
// every cluster.heal-timeout, and whenever a brick comes back. The same
// Healer answers `gluster volume heal VOL info`, runs `heal VOL` and
// `heal VOL full` on demand and resolves split-brains from the CLI.
package shd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/afr"
	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/index"
	"github.com/gluster-go/gluster-go/internal/volfile"
)

// Brick names a brick as the CLI does: HOST:PATH.
type Brick struct {
	Host, Path string
}

func (b Brick) String() string { return b.Host + ":" + b.Path }

// Config is what a Healer is built from.
type Config struct {
	// Volfile is the volume's client volfile.
	Volfile *volfile.File
	// Registry constructs its layers.
	Registry graph.Registry
	// Local are the bricks whose index this Healer crawls (this node's).
	Local []Brick
	// Workers heal that many objects at once (default 8, GlusterFS's
	// background-self-heal-count).
	Workers int
	Logger  *slog.Logger
}

// brick is one brick of the volume as the graph reaches it.
type brick struct {
	Brick
	set   *afr.AFR // the replicate layer above it; nil if not replicated
	child int      // its index in set
	local bool
}

// Healer heals one volume.
type Healer struct {
	g       *graph.Graph
	bricks  []brick
	workers int
	log     *slog.Logger

	crawlMu sync.Mutex // one crawl at a time
}

// settleWait bounds how long Open waits for every brick to answer or
// fail, so that the first crawl and heal info see them.
const settleWait = 10 * time.Second

// Open builds and starts the graph and waits (up to settleWait) until
// every brick has connected or failed to.
func Open(ctx context.Context, cfg Config) (*Healer, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g, err := graph.Build(daemonGraph(cfg.Volfile), cfg.Registry, graph.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	h := &Healer{g: g, workers: cfg.Workers, log: log}
	if h.workers <= 0 {
		h.workers = 8
	}
	local := map[Brick]bool{}
	for _, b := range cfg.Local {
		local[b] = true
	}
	for _, v := range cfg.Volfile.Volumes {
		if v.Type != "protocol/client" {
			continue
		}
		host, _ := v.Option("remote-host")
		path, _ := v.Option("remote-subvolume")
		b := brick{Brick: Brick{host, path}, child: -1}
		b.local = local[b.Brick]
		if parent := parentOf(cfg.Volfile, v.Name); parent != nil && parent.Type == afr.Type {
			b.set, _ = g.Layer(parent.Name).(*afr.AFR)
			if b.set != nil {
				b.child = b.set.ChildIndex(v.Name)
			}
		}
		h.bricks = append(h.bricks, b)
	}
	if err := g.Start(ctx); err != nil {
		g.Close()
		return nil, err
	}
	h.settle(ctx)
	return h, nil
}

// daemonGraph is a copy of the client volfile whose replicate layers
// start no heals of their own: the daemon heals what its crawl finds
// itself, and entry heals index what they create for the next pass,
// rather than racing with background heals of the same objects.
func daemonGraph(f *volfile.File) *volfile.File {
	out := &volfile.File{}
	for _, v := range f.Volumes {
		c := *v
		c.Options = slices.Clone(v.Options)
		if c.Type == afr.Type {
			c.SetOption("background-self-heal-count", "0")
		}
		out.Volumes = append(out.Volumes, &c)
	}
	return out
}

func parentOf(f *volfile.File, name string) *volfile.Volume {
	for _, v := range f.Volumes {
		for _, s := range v.Subvolumes {
			if s == name {
				return v
			}
		}
	}
	return nil
}

// settle waits until every replica set knows the state of its bricks.
func (h *Healer) settle(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, settleWait)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		done := true
		for _, s := range h.sets() {
			done = done && s.Settled()
		}
		if done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Close disconnects from the bricks.
func (h *Healer) Close() error { return h.g.Close() }

// sets lists the distinct replicate layers, in volfile order.
func (h *Healer) sets() []*afr.AFR {
	var out []*afr.AFR
	seen := map[*afr.AFR]bool{}
	for _, b := range h.bricks {
		if b.set != nil && !seen[b.set] {
			seen[b.set] = true
			out = append(out, b.set)
		}
	}
	return out
}

// Replicated reports whether any local brick belongs to a replica set:
// only then is there anything for the daemon to do.
func (h *Healer) Replicated() bool {
	for _, b := range h.bricks {
		if b.local && b.set != nil {
			return true
		}
	}
	return false
}

// Result counts what a crawl did.
type Result struct {
	Healed, Failed, SplitBrain int
}

func (r *Result) add(err error) {
	switch {
	case err == nil:
		r.Healed++
	case fop.Errno(err) == syscall.EIO:
		r.SplitBrain++
	default:
		r.Failed++
	}
}

// maxPasses bounds the index crawls of one HealIndex: healing a
// directory indexes the entries it creates (subdirectories too), which
// the next pass heals, one level of a new tree per pass.
const maxPasses = 64

// HealIndex heals every object the local bricks' indices list, crawling
// again while that makes progress.
func (h *Healer) HealIndex(ctx context.Context) (Result, error) {
	h.crawlMu.Lock()
	defer h.crawlMu.Unlock()
	var total Result
	fresh := &created{}
	for pass := 0; pass < maxPasses; pass++ {
		// Directories first: their entry heals create the files the
		// other replicas miss, then listed again and healed in this pass
		// rather than found absent.
		var healed int
		for _, dirs := range []bool{true, false} {
			jobs, err := h.indexed(dirs)
			if err != nil {
				return total, err
			}
			jobs = appendNew(jobs, fresh.take(dirs))
			r := h.run(ctx, jobs, fresh)
			healed += r.Healed
			total.Healed += r.Healed
			total.Failed += r.Failed
			total.SplitBrain += r.SplitBrain
			if ctx.Err() != nil {
				return total, ctx.Err()
			}
		}
		if healed == 0 && fresh.empty() {
			break // what is left cannot be healed now
		}
	}
	if total.Healed+total.Failed+total.SplitBrain > 0 {
		h.log.Info("index heal done", "healed", total.Healed, "failed", total.Failed, "split-brain", total.SplitBrain)
	}
	return total, nil
}

// job is one object to heal, listed by a local brick's index.
type job struct {
	b *brick
	g fop.GFID
}

// indexed lists the local indices' directories (dirs) or other objects.
func (h *Healer) indexed(dirs bool) ([]job, error) {
	var out []job
	for i := range h.bricks {
		b := &h.bricks[i]
		if !b.local || b.set == nil {
			continue
		}
		gs, err := index.Pending(index.Base(b.Path))
		if err != nil {
			return nil, fmt.Errorf("heal index of %s: %w", b, err)
		}
		for _, g := range gs {
			if isDirHandle(b.Path, g) == dirs {
				out = append(out, job{b, g})
			}
		}
	}
	// Bricks of one set list the same objects: heal each once.
	return appendNew(nil, out), nil
}

// created collects the objects a crawl's heals created on a replica and
// marked pending, for the crawl's next round: the marks sit on the source
// replica, whose index may be another node's (see afr.WithCreated).
type created struct {
	mu   sync.Mutex
	jobs []job
}

func (c *created) add(j job) {
	c.mu.Lock()
	c.jobs = append(c.jobs, j)
	c.mu.Unlock()
}

func (c *created) empty() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.jobs) == 0
}

// take removes and returns the directories (dirs) or the other objects.
func (c *created) take(dirs bool) []job {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out, kept []job
	for _, j := range c.jobs {
		if isDirHandle(j.b.Path, j.g) == dirs {
			out = append(out, j)
		} else {
			kept = append(kept, j)
		}
	}
	c.jobs = kept
	return out
}

// appendNew appends to jobs those of more not already there.
func appendNew(jobs, more []job) []job {
	type key struct {
		set *afr.AFR
		g   fop.GFID
	}
	seen := map[key]bool{}
	for _, j := range jobs {
		seen[key{j.b.set, j.g}] = true
	}
	for _, j := range more {
		if k := (key{j.b.set, j.g}); !seen[k] {
			seen[k] = true
			jobs = append(jobs, j)
		}
	}
	return jobs
}

// isDirHandle tells directories by their handle on the brick, a symlink
// (a symbolic link's handle is one too: it merely heals early).
func isDirHandle(brick string, g fop.GFID) bool {
	fi, err := os.Lstat(handlePath(brick, g))
	return err == nil && fi.Mode()&os.ModeSymlink != 0
}

// run heals jobs with h.workers at once; fresh collects what the heals
// create.
func (h *Healer) run(ctx context.Context, jobs []job, fresh *created) Result {
	var mu sync.Mutex
	var res Result
	ch := make(chan job)
	var wg sync.WaitGroup
	for range min(h.workers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				hctx := afr.WithCreated(ctx, func(g fop.GFID) { fresh.add(job{j.b, g}) })
				err := j.b.set.Heal(hctx, j.g)
				if fop.Errno(err) == syscall.ENOENT {
					// Gone from every replica: the index entry is stale.
					h.dropIndex(j.g)
					continue
				}
				if err != nil {
					h.log.Debug("heal failed", "gfid", j.g, "brick", j.b.String(), "err", err)
				}
				mu.Lock()
				res.add(err)
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		ch <- j
	}
	close(ch)
	wg.Wait()
	return res
}

// dropIndex removes g from the local bricks' indices.
func (h *Healer) dropIndex(g fop.GFID) {
	for _, b := range h.bricks {
		if b.local {
			for _, d := range []string{index.XattropDir, index.DirtyDir} {
				os.Remove(filepath.Join(index.Base(b.Path), d, g.String()))
			}
		}
	}
}

// HealFull crawls the whole tree of every replica set with a local
// brick, healing whatever differs (`gluster volume heal VOL full`).
func (h *Healer) HealFull(ctx context.Context) (Result, error) {
	h.crawlMu.Lock()
	defer h.crawlMu.Unlock()
	var res Result
	done := map[*afr.AFR]bool{}
	var errs []error
	for _, b := range h.bricks {
		if !b.local || b.set == nil || done[b.set] {
			continue
		}
		done[b.set] = true
		err := b.set.HealFull(ctx, fop.RootGFID, func(g fop.GFID, err error) { res.add(err) })
		if err != nil {
			errs = append(errs, fmt.Errorf("full heal from %s: %w", b, err))
		}
	}
	h.log.Info("full heal done", "objects", res.Healed, "failed", res.Failed, "split-brain", res.SplitBrain)
	return res, errors.Join(errs...)
}

// Run is the daemon: it heals the index now, every interval, and
// whenever a brick of a local replica set comes back, until ctx ends.
func (h *Healer) Run(ctx context.Context, interval time.Duration) {
	kick := make(chan struct{}, 1)
	for _, s := range h.sets() {
		s.OnChildUp(func(int) {
			select {
			case kick <- struct{}{}:
			default:
			}
		})
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := h.HealIndex(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("index heal", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-kick:
		}
	}
}

// findBrick returns the brick HOST:PATH of the volume.
func (h *Healer) findBrick(b Brick) *brick {
	for i := range h.bricks {
		if h.bricks[i].Brick == b {
			return &h.bricks[i]
		}
	}
	return nil
}

// parseGFIDArg reads a FILE argument that names an object by GFID
// ("gfid:UUID", as GlusterFS's CLI accepts).
func parseGFIDArg(file string) (fop.GFID, bool) {
	s, ok := strings.CutPrefix(file, "gfid:")
	if !ok {
		return fop.GFID{}, false
	}
	g, err := fop.ParseGFID(s)
	return g, err == nil
}

// MarkNew records, on the root of each replica set that gained bricks,
// that the new bricks miss everything: the daemons' index crawls then
// copy each set's tree to them (add-brick VOL replica N).
func (h *Healer) MarkNew(ctx context.Context, added []Brick) error {
	missing := map[*afr.AFR][]bool{}
	for _, nb := range added {
		b := h.findBrick(nb)
		if b == nil || b.set == nil {
			return fmt.Errorf("mark new brick %s: %w", nb, ErrNoSuchBrick)
		}
		if missing[b.set] == nil {
			missing[b.set] = make([]bool, len(b.set.Up()))
		}
		missing[b.set][b.child] = true
	}
	var errs []error
	for set, m := range missing {
		if err := set.AccuseMissing(ctx, fop.RootGFID, m); err != nil {
			errs = append(errs, fmt.Errorf("mark new bricks: %w", err))
		}
	}
	return errors.Join(errs...)
}
