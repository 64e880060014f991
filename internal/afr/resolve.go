package afr

import (
	"context"
	"errors"
	"slices"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Policy names how the CLI resolves a split-brain
// (`gluster volume heal VOL split-brain POLICY ...`).
type Policy string

// Policies of split-brain resolution, GlusterFS's words.
const (
	BiggerFile  Policy = "bigger-file"
	LatestMtime Policy = "latest-mtime"
	SourceBrick Policy = "source-brick"
)

// Why a resolution was refused, in GlusterFS's words (afr-self-heal.h):
// the CLI prints them after "Healing FILE failed: ".
var (
	ErrNotSplitBrain   = errors.New("File not in split-brain")
	ErrNoBiggerFile    = errors.New("No bigger file")
	ErrNoMtimeDiff     = errors.New("No difference in mtime")
	ErrMetadataNeedsSB = errors.New("Use source-brick option to heal metadata split-brain")
	ErrBrickNotUp      = errors.New("Brick is not up")
	ErrNotAllUp        = errors.New("Failed to obtain replies from all bricks of the replica (are they up?). Cannot resolve split-brain.")
	ErrDirBiggerFile   = errors.New("'bigger-file' not a valid option for directories")
	ErrArbiterSource   = errors.New("The arbiter brick holds no data: choose a data brick as the source")
)

// State is what the changelog says of one object across the replicas
// that answered: what heal info reports.
type State struct {
	Dir bool
	// Pending is set while any counter (dirty or accusation) is set.
	Pending bool
	// SplitBrain names the types (data, metadata, entry) no replica is
	// trusted for.
	SplitBrain []string
}

// Inspect reads the changelog of g on every replica that is up, without
// locks or changes: heal info's view of an object. It fails with ENOENT
// when no replica that is up has g.
func (r *AFR) Inspect(ctx context.Context, g fop.GFID) (State, error) {
	ictx := internalCtx(ctx, newOwner())
	attrs, xs, ok, err := r.lookupAll(ictx, &fop.Loc{GFID: g}, r.upSet())
	if err != nil {
		return State{}, err
	}
	mx := r.readMatrix(xs, ok)
	st := State{Dir: attrs[firstTrue(ok)].IsDir(), Pending: mx.anyPending()}
	st.SplitBrain = r.splitTypes(mx, st.Dir)
	return st, nil
}

// splitTypes lists the types that need heal and have no source.
func (r *AFR) splitTypes(mx *matrix, dir bool) []string {
	var out []string
	ts := []txnType{dataTxn, metadataTxn}
	if dir {
		ts = []txnType{metadataTxn, entryTxn}
	}
	for _, t := range ts {
		if mx.needsHeal(t) && count(r.sourcesFor(mx, t)) == 0 {
			out = append(out, t.String())
		}
	}
	return out
}

// Resolve heals a split-brain of g choosing the source as policy says:
// the biggest file, the latest mtime, or replica source (SourceBrick).
// Every replica must be up. It returns the replica it healed from.
func (r *AFR) Resolve(ctx context.Context, g fop.GFID, policy Policy, source int) (int, error) {
	up := r.upSet()
	if count(up) != len(r.children) {
		if policy == SourceBrick && source >= 0 && source < len(up) && !up[source] {
			return -1, ErrBrickNotUp
		}
		return -1, ErrNotAllUp
	}
	ictx := internalCtx(ctx, newOwner())
	attrs, xs, ok, err := r.lookupAll(ictx, &fop.Loc{GFID: g}, up)
	if err != nil {
		return -1, err
	}
	if count(ok) != len(r.children) {
		return -1, ErrNotAllUp
	}
	mx := r.readMatrix(xs, ok)
	dir := attrs[0].IsDir()
	split := r.splitTypes(mx, dir)
	if len(split) == 0 {
		return -1, ErrNotSplitBrain
	}
	switch policy {
	case SourceBrick:
		if source < 0 || source >= len(r.children) {
			return -1, errors.New("Invalid brick name")
		}
		if r.isArbiter(source) && slices.Contains(split, dataTxn.String()) {
			return -1, ErrArbiterSource
		}
	case BiggerFile, LatestMtime:
		if dir && policy == BiggerFile {
			return -1, ErrDirBiggerFile
		}
		if len(split) == 1 && split[0] == metadataTxn.String() {
			return -1, ErrMetadataNeedsSB
		}
		data := attrs
		if r.arbiter >= 0 {
			data = attrs[:r.arbiter] // the arbiter is last and has no data
		}
		if source = pickUnique(data, policy); source < 0 {
			if policy == BiggerFile {
				return -1, ErrNoBiggerFile
			}
			return -1, ErrNoMtimeDiff
		}
	default:
		return -1, syscall.EINVAL
	}
	if err := r.heal(ctx, g, source); err != nil {
		return -1, err
	}
	return source, nil
}

// pickUnique returns the one replica with the biggest size or latest
// mtime, or -1 when the best is shared.
func pickUnique(attrs []fop.Attr, policy Policy) int {
	best, tie := 0, false
	for i := 1; i < len(attrs); i++ {
		var better, same bool
		if policy == BiggerFile {
			better, same = attrs[i].Size > attrs[best].Size, attrs[i].Size == attrs[best].Size
		} else {
			better, same = later(attrs[i].Mtime, attrs[best].Mtime), attrs[i].Mtime == attrs[best].Mtime
		}
		switch {
		case better:
			best, tie = i, false
		case same:
			tie = true
		}
	}
	if tie {
		return -1
	}
	return best
}

// ChildIndex returns the replica whose volfile name (VOL-client-N) is
// name, or -1.
func (r *AFR) ChildIndex(name string) int {
	for i, k := range r.keys {
		if k == keyPrefix+name {
			return i
		}
	}
	return -1
}

// Up reports which replicas are connected. Replicas that never reported
// (no protocol/client below) count as up.
func (r *AFR) Up() []bool { return r.upSet() }

// Settled reports whether every replica has reported up or down at least
// once since the graph started.
func (r *AFR) Settled() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rep := range r.reported {
		if !rep {
			return false
		}
	}
	return true
}

// OnChildUp registers fn to run (in its own goroutine) whenever a replica
// comes up: the self-heal daemon crawls then, as GlusterFS's does on
// CHILD_UP.
func (r *AFR) OnChildUp(fn func(child int)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.childUp = append(r.childUp, fn)
}
