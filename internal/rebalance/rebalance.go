// Package rebalance is the data mover behind `gluster volume rebalance`
// and `remove-brick start`: it crawls a volume through a client graph's
// distribute layer (internal/dht), gives every directory a layout over the
// current bricks (fix-layout) and migrates each file whose data sits on a
// local brick but hashes elsewhere, with dht's non-blocking migration
// protocol. glusterd runs one Job per node and volume; the Job records its
// progress in a file so that a restarted glusterd resumes it.
package rebalance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/dht"
	"github.com/gluster-go/gluster-go/internal/fop"
)

// Status values, as `rebalance status` prints them.
const (
	NotStarted          = "not started"
	InProgress          = "in progress"
	Completed           = "completed"
	Stopped             = "stopped"
	Failed              = "failed"
	FixLayoutInProgress = "fix-layout in progress"
	FixLayoutCompleted  = "fix-layout completed"
	FixLayoutStopped    = "fix-layout stopped"
	FixLayoutFailed     = "fix-layout failed"
)

// Counters is one node's progress, persisted and reported.
type Counters struct {
	Files    int64   `json:"files"`    // migrated
	Bytes    int64   `json:"bytes"`    // migrated
	Scanned  int64   `json:"scanned"`  // files looked at
	Failures int64   `json:"failures"` // files that could not be moved
	Skipped  int64   `json:"skipped"`  // files left on purpose
	Status   string  `json:"status"`
	Elapsed  float64 `json:"elapsed"` // seconds of run time
}

// progress is the persisted state of one run.
type progress struct {
	ID       string          `json:"id"`
	Counters Counters        `json:"counters"`
	Done     map[string]bool `json:"done"` // directories finished
}

// Job is one node's part of a rebalance.
type Job struct {
	ID  string
	DHT *dht.DHT
	// Local are the children whose files this node moves (its bricks'
	// subvolumes); every node fixes every directory's layout.
	Local     []int
	FixLayout bool // layouts only, no data movement
	Force     bool // move files even to bricks below min-free-disk
	// Drain repeats the crawl until a pass moves nothing (remove-brick:
	// clients that had not yet seen the decommissioning may have added
	// files behind the first pass).
	Drain  bool
	Commit uint32
	// Workers is how many files migrate at once (0 = 1); see Workers.
	Workers int
	// StateFile keeps progress across restarts ("" = not kept).
	StateFile string
	Log       *slog.Logger
	// UpWait bounds how long a directory waits for a down brick before
	// the job fails (0 = a minute).
	UpWait time.Duration

	mu    sync.Mutex
	prog  progress
	since time.Time
	base  float64 // elapsed seconds of earlier runs
}

// Load reads what an earlier run of the same ID did.
func (j *Job) Load() {
	j.prog = progress{ID: j.ID, Done: map[string]bool{}}
	if j.StateFile == "" {
		return
	}
	raw, err := os.ReadFile(j.StateFile)
	if err != nil {
		return
	}
	var p progress
	if json.Unmarshal(raw, &p) == nil && p.ID == j.ID && p.Done != nil {
		j.prog = p
		j.base = p.Counters.Elapsed
	}
}

// ReadCounters returns the counters a state file holds for run id.
func ReadCounters(stateFile, id string) (Counters, bool) {
	raw, err := os.ReadFile(stateFile)
	if err != nil {
		return Counters{}, false
	}
	var p progress
	if json.Unmarshal(raw, &p) != nil || p.ID != id {
		return Counters{}, false
	}
	return p.Counters, true
}

// Counters returns the progress so far.
func (j *Job) Counters() Counters {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := j.prog.Counters
	if !j.since.IsZero() {
		c.Elapsed = j.base + time.Since(j.since).Seconds()
	}
	return c
}

// Finished reports whether an earlier run already ended (so a restart
// does not run it again).
func (j *Job) Finished() bool {
	switch j.Counters().Status {
	case Completed, FixLayoutCompleted, Failed, FixLayoutFailed:
		return true
	}
	return false
}

func (j *Job) status(running, fixLayout string) {
	j.mu.Lock()
	if j.FixLayout {
		j.prog.Counters.Status = fixLayout
	} else {
		j.prog.Counters.Status = running
	}
	j.mu.Unlock()
}

func (j *Job) save() {
	if j.StateFile == "" {
		return
	}
	c := j.Counters()
	j.mu.Lock()
	p := j.prog
	p.Counters = c
	raw, err := json.Marshal(p)
	j.mu.Unlock()
	if err != nil {
		return
	}
	tmp := j.StateFile + ".tmp"
	if err := os.MkdirAll(filepath.Dir(j.StateFile), 0o755); err == nil {
		if err = os.WriteFile(tmp, raw, 0o644); err == nil {
			err = os.Rename(tmp, j.StateFile)
		}
		if err != nil {
			j.Log.Warn("rebalance: saving progress failed", "file", j.StateFile, "err", err)
		}
	}
}

// saveEvery is how many files are scanned between progress saves within
// a directory.
const saveEvery = 64

// drainPasses bounds Drain's crawls.
const drainPasses = 5

// Run crawls the volume until done, stopped (ctx cancelled: status
// stopped) or failed.
func (j *Job) Run(ctx context.Context) error {
	if j.Log == nil {
		j.Log = slog.New(slog.DiscardHandler)
	}
	if j.prog.Done == nil {
		j.Load()
	}
	j.mu.Lock()
	j.since = time.Now()
	j.mu.Unlock()
	j.status(InProgress, FixLayoutInProgress)
	j.save()
	root := &fop.Loc{GFID: fop.RootGFID, Path: "/"}
	err := j.crawl(ctx, root)
	for pass := 1; err == nil && j.Drain && pass < drainPasses; pass++ {
		before := j.Counters().Files
		j.mu.Lock()
		j.prog.Done = map[string]bool{}
		j.mu.Unlock()
		if err = j.crawl(ctx, root); err == nil && j.Counters().Files == before {
			break
		}
	}
	switch {
	case err == nil:
		j.status(Completed, FixLayoutCompleted)
	case ctx.Err() != nil:
		j.status(Stopped, FixLayoutStopped)
		err = nil
	default:
		j.status(Failed, FixLayoutFailed)
	}
	j.save()
	c := j.Counters()
	j.Log.Info("rebalance ended", "id", j.ID, "status", c.Status, "files", c.Files, "bytes", c.Bytes,
		"scanned", c.Scanned, "failures", c.Failures, "skipped", c.Skipped, "err", err)
	return err
}

// crawl handles one directory, then its subdirectories, depth first.
func (j *Job) crawl(ctx context.Context, dir *fop.Loc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.mu.Lock()
	done := j.prog.Done[dir.Path]
	j.mu.Unlock()
	if !done {
		if err := j.retryDown(ctx, dir.Path, func() error { return j.DHT.FixLayout(ctx, dir, j.Commit) }); err != nil {
			return err
		}
		if !j.FixLayout {
			before := j.Counters()
			for _, c := range j.Local {
				if err := j.retryDown(ctx, dir.Path, func() error { return j.migrateFrom(ctx, dir, c) }); err != nil {
					return err
				}
			}
			// Every file of our children now sits on its hashed child:
			// say so in their ranges, for lookup-optimize. Not while
			// draining (clients that have not yet seen the removal may
			// still add files behind the crawl) nor after a file was
			// skipped or failed (it stays where it is, with no linkto).
			after := j.Counters()
			if !j.Drain && after.Failures == before.Failures && after.Skipped == before.Skipped {
				if err := j.retryDown(ctx, dir.Path, func() error { return j.DHT.SettleLayout(ctx, dir, j.Commit, j.Local) }); err != nil {
					return err
				}
			}
		}
		j.mu.Lock()
		j.prog.Done[dir.Path] = true
		j.mu.Unlock()
		j.save()
	}
	subdirs, err := j.subdirs(ctx, dir)
	if err != nil {
		return err
	}
	for _, s := range subdirs {
		if err := j.crawl(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// retryDown runs step, and while it fails because a brick is down, waits
// for the brick to return and runs it again: a brick restarted in the
// middle of a rebalance does not fail it.
func (j *Job) retryDown(ctx context.Context, path string, step func() error) error {
	wait := j.UpWait
	if wait == 0 {
		wait = time.Minute
	}
	deadline := time.Now().Add(wait)
	for {
		err := step()
		if err == nil || fop.Errno(err) != syscall.ENOTCONN || ctx.Err() != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("rebalance %s: brick down for %v: %w", path, wait, err)
		}
		j.Log.Warn("rebalance: a brick is down; waiting for it", "dir", path, "err", err)
		for !j.DHT.AllUp() && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// Throttle is the number of files migrated in parallel for a
// cluster.rebal-throttle value, as GlusterFS sizes its migrator threads:
// lazy one, normal half the cores (at least two), aggressive every core
// (at least four). Unknown values mean normal.
func Throttle(value string, cores int) int {
	switch value {
	case "lazy":
		return 1
	case "aggressive":
		return max(4, cores)
	}
	return max(2, cores/2)
}

// migrateFrom moves the files child c holds in dir to where they hash,
// Workers at a time.
func (j *Job) migrateFrom(ctx context.Context, dir *fop.Loc, c int) error {
	ents, err := listChild(ctx, j.DHT.Child(c), dir)
	if err != nil {
		return fmt.Errorf("rebalance %s: list %s: %w", dir.Path, j.DHT.Children()[c], err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan string)
	var wg sync.WaitGroup
	for range max(j.Workers, 1) {
		wg.Go(func() {
			for name := range work {
				if err := j.migrateOne(ctx, dir, c, name); err != nil {
					cancel(err) // a brick went away: the crawl waits for it
				}
			}
		})
	}
feed:
	for _, e := range ents {
		if e.Type == syscall.S_IFDIR || e.Attr == nil || dht.IsLinkto(e.Attr, e.Xattrs) {
			continue
		}
		select {
		case work <- e.Name:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// migrateOne moves one file and counts the outcome; only a brick that
// went away (ENOTCONN) is returned, so the crawl can wait for it.
func (j *Job) migrateOne(ctx context.Context, dir *fop.Loc, c int, name string) error {
	if j.add(func(k *Counters) { k.Scanned++ })%saveEvery == 0 {
		// A large directory: keep the counters of a run that is
		// killed in its middle.
		j.save()
	}
	moved, n, err := j.DHT.Migrate(ctx, dir.GFID, dir.Path, name, c, j.Force)
	switch {
	case errors.Is(err, dht.ErrSkip):
		j.Log.Info("rebalance: file skipped", "dir", dir.Path, "name", name, "why", err)
		j.add(func(k *Counters) { k.Skipped++ })
	case fop.Errno(err) == syscall.ENOTCONN:
		return err
	case fop.Errno(err) == syscall.ENOENT:
		// Removed or renamed meanwhile.
	case err != nil && ctx.Err() != nil:
		// Stopped, or another worker met a down brick.
	case err != nil:
		j.Log.Warn("rebalance: migration failed", "dir", dir.Path, "name", name, "err", err)
		j.add(func(k *Counters) { k.Failures++ })
	case moved:
		j.add(func(k *Counters) { k.Files++; k.Bytes += n })
	}
	return nil
}

// add updates the counters and returns the scanned count.
func (j *Job) add(f func(*Counters)) int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	f(&j.prog.Counters)
	return j.prog.Counters.Scanned
}

// listChild reads a whole directory on one brick, with attributes and
// the linkto xattr.
func listChild(ctx context.Context, c fop.Layer, dir *fop.Loc) ([]fop.DirEntry, error) {
	fd := fop.NewFD(dir.GFID, syscall.O_RDONLY)
	if err := c.Opendir(ctx, &fop.Loc{GFID: dir.GFID, Path: dir.Path}, fd); err != nil {
		return nil, err
	}
	defer c.Releasedir(context.WithoutCancel(ctx), fd)
	var out []fop.DirEntry
	var off uint64
	for {
		ents, err := c.Readdir(ctx, fd, off, 512, true, fop.Dict{dht.LinktoKey: nil})
		if err != nil {
			return nil, err
		}
		if len(ents) == 0 {
			return out, nil
		}
		for _, e := range ents {
			off = e.Off
			if e.Name != "." && e.Name != ".." {
				out = append(out, e)
			}
		}
	}
}

// subdirs lists dir's subdirectories through distribute, sorted so that
// every node and every resumed run walks them in the same order.
func (j *Job) subdirs(ctx context.Context, dir *fop.Loc) ([]*fop.Loc, error) {
	fd := fop.NewFD(dir.GFID, syscall.O_RDONLY)
	if err := j.DHT.Opendir(ctx, &fop.Loc{GFID: dir.GFID, Path: dir.Path}, fd); err != nil {
		return nil, fmt.Errorf("rebalance %s: opendir: %w", dir.Path, err)
	}
	defer j.DHT.Releasedir(context.WithoutCancel(ctx), fd)
	var out []*fop.Loc
	var off uint64
	for {
		ents, err := j.DHT.Readdir(ctx, fd, off, 512, true, nil)
		if err != nil {
			return nil, fmt.Errorf("rebalance %s: readdir: %w", dir.Path, err)
		}
		if len(ents) == 0 {
			break
		}
		for _, e := range ents {
			off = e.Off
			if e.Type != syscall.S_IFDIR || e.Name == "." || e.Name == ".." || e.Attr == nil {
				continue
			}
			if dir.GFID == fop.RootGFID && e.Name == ".glusterfs" {
				continue
			}
			out = append(out, &fop.Loc{GFID: e.Attr.GFID, Parent: dir.GFID, Name: e.Name, Path: joinPath(dir.Path, e.Name)})
		}
	}
	slices.SortFunc(out, func(a, b *fop.Loc) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out, nil
}

func joinPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
