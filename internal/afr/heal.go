package afr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// healTimeout bounds one background heal.
const healTimeout = 10 * time.Minute

// errTooFewUp says a heal found fewer than two replicas to compare.
var errTooFewUp = fmt.Errorf("fewer than 2 replicas are up: %w", syscall.ENOTCONN)

// healBlock is the unit data heal compares by checksum and copies.
const healBlock = 128 << 10

// healLater heals g in the background unless a heal of it is running,
// at most background-self-heal-count at once (0: none; the self-heal
// daemon heals what is left).
func (r *AFR) healLater(g fop.GFID) { r.background(g, r.Heal) }

type createdKey struct{}

// WithCreated returns a context under which heals tell fn of every object
// they create on a replica and leave pending (its data or entries heal
// next), rather than healing it in the background. The self-heal daemon
// heals those itself: the pending mark sits on the source replica, whose
// index may be another node's, and that node's daemon may have finished
// its crawl and sleep until cluster.heal-timeout.
func WithCreated(ctx context.Context, fn func(fop.GFID)) context.Context {
	return context.WithValue(ctx, createdKey{}, fn)
}

// created hands g, just created and marked pending, to ctx's WithCreated
// function or else to a background heal.
func (r *AFR) created(ctx context.Context, g fop.GFID) {
	if fn, ok := ctx.Value(createdKey{}).(func(fop.GFID)); ok {
		fn(g)
		return
	}
	r.healLater(g)
}

// background runs heal(g) in the background, once at a time per object
// and at most background-self-heal-count at once.
func (r *AFR) background(g fop.GFID, heal func(context.Context, fop.GFID) error) {
	slots := r.o().bgHeals
	if cap(slots) == 0 {
		return
	}
	if _, busy := r.healing.LoadOrStore(g, struct{}{}); busy {
		return
	}
	go func() {
		defer r.healing.Delete(g)
		slots <- struct{}{}
		defer func() { <-slots }()
		ctx, cancel := context.WithTimeout(context.Background(), healTimeout)
		defer cancel()
		if err := heal(ctx, g); err != nil {
			level := slog.LevelWarn
			if errors.Is(err, errTooFewUp) {
				level = slog.LevelDebug // the daemon heals once a replica returns
			}
			r.log.Log(ctx, level, "self-heal failed", "gfid", g, "err", err)
		}
	}()
}

// Heal repairs object g on every replica that is up: metadata, then the
// data of a file or the entries of a directory, from the replicas the
// changelog says are good. It fails with EIO when there is no such
// replica (split-brain) and no favorite-child-policy picks one, and with
// ENOTCONN when fewer than two replicas that have g can be reached.
func (r *AFR) Heal(ctx context.Context, g fop.GFID) error {
	return r.heal(ctx, g, -1)
}

// heal is Heal where replica force, if not -1, is the source of every
// type in split-brain (the CLI's split-brain resolution).
func (r *AFR) heal(ctx context.Context, g fop.GFID, force int) error {
	up := r.upSet()
	if count(up) < 2 {
		return errTooFewUp
	}
	ictx := internalCtx(ctx, newOwner())
	loc := &fop.Loc{GFID: g}
	attrs, _, ok, err := r.lookupAll(ictx, loc, up)
	if err != nil {
		return err
	}
	dir := attrs[firstTrue(ok)].IsDir()
	var spec lockSpec
	if dir {
		spec = lockSpec{entries: []entryLock{{dir: loc, name: ""}}, domain: r.dataDomain()}
	} else {
		spec = lockSpec{inode: loc, domain: r.dataDomain()}
	}
	meta := lockSpec{inode: loc, domain: r.metaDomain()}
	locked := r.lock(ictx, spec, ok)
	defer r.unlock(ictx, spec, locked)
	mlocked := r.lock(ictx, meta, locked)
	defer r.unlock(ictx, meta, mlocked)
	if count(mlocked) < 2 {
		return errTooFewUp
	}
	// Read the changelog again: it may have changed before the locks.
	attrs, xs, ok, err := r.lookupAll(ictx, loc, mlocked)
	if err != nil {
		return err
	}
	mx := r.readMatrix(xs, ok)
	if !mx.anyPending() {
		// Healed meanwhile, or an index entry left behind: an update
		// of nothing lets the bricks' indices drop it.
		r.touchChangelog(ictx, loc, ok)
		return nil
	}
	var healed []txnType
	var splitBrain []string
	if mx.needsHeal(metadataTxn) {
		if err := r.healMetadata(ictx, loc, mx, attrs, ok, force); err != nil {
			if err == errSplitBrain {
				splitBrain = append(splitBrain, "metadata")
			} else {
				return err
			}
		} else {
			healed = append(healed, metadataTxn)
		}
	}
	t := dataTxn
	if dir {
		t = entryTxn
	}
	if mx.needsHeal(t) {
		var err error
		if dir {
			err = r.healEntries(ictx, loc, mx, attrs, ok, force)
		} else if attrs[firstTrue(ok)].Type() == syscall.S_IFREG {
			err = r.healData(ictx, loc, mx, attrs, ok, force)
		}
		switch {
		case err == errSplitBrain:
			splitBrain = append(splitBrain, t.String())
		case err != nil:
			return err
		default:
			healed = append(healed, t)
		}
	}
	r.resetChangelog(ictx, loc, mx, ok, healed)
	if len(splitBrain) > 0 {
		r.log.Error("split-brain: no replica can be trusted; resolve with gluster volume heal VOL split-brain",
			"gfid", g, "types", strings.Join(splitBrain, ","))
		return errSplitBrain
	}
	// What lookups judged readable is now stale in the good direction.
	in := r.inode(g)
	in.mu.Lock()
	in.readable, in.metaOK = nil, nil
	in.mu.Unlock()
	return nil
}

func firstTrue(set []bool) int {
	for i, b := range set {
		if b {
			return i
		}
	}
	return -1
}

func (r *AFR) lookupAll(ctx context.Context, loc *fop.Loc, set []bool) ([]fop.Attr, []fop.Dict, []bool, error) {
	attrs := make([]fop.Attr, len(r.children))
	xs := make([]fop.Dict, len(r.children))
	errs := r.each(set, func(i int, c fop.Layer) error {
		var err error
		attrs[i], xs[i], err = c.Lookup(ctx, loc, r.changelogKeys(nil))
		return err
	})
	ok := make([]bool, len(set))
	for i := range set {
		ok[i] = set[i] && errs[i] == nil
	}
	if count(ok) == 0 {
		return nil, nil, nil, pickErr(errs, set)
	}
	return attrs, xs, ok, nil
}

// choose picks the source of a heal of type t and the sinks it repairs.
// In split-brain the source is force if it answered, else the
// favorite-child-policy's pick.
func (r *AFR) choose(mx *matrix, t txnType, attrs []fop.Attr, ok []bool, force int) (int, []bool, error) {
	srcs := r.sourcesFor(mx, t)
	if count(srcs) == 0 && force >= 0 && ok[force] && !(t == dataTxn && r.isArbiter(force)) {
		r.log.Info("split-brain resolved from the CLI", "type", t.String(), "source", force)
		srcs = make([]bool, len(ok))
		srcs[force] = true
	}
	if count(srcs) == 0 {
		cands := ok
		if t == dataTxn {
			cands = r.dataSet(ok)
		}
		fav := r.favoriteChild(attrs, cands)
		if fav < 0 {
			return -1, nil, errSplitBrain
		}
		r.log.Info("split-brain resolved by favorite-child-policy", "policy", r.o().favorite, "source", fav)
		srcs = make([]bool, len(ok))
		srcs[fav] = true
	}
	src := -1
	for i := range srcs {
		if !srcs[i] {
			continue
		}
		if src < 0 || attrs[i].Size > attrs[src].Size ||
			(attrs[i].Size == attrs[src].Size && later(attrs[i].Mtime, attrs[src].Mtime)) {
			src = i
		}
	}
	sinks := make([]bool, len(ok))
	for j := range ok {
		sinks[j] = ok[j] && !srcs[j]
	}
	if count(sinks) == 0 {
		// Only dirty marks (a client died mid-operation): make the
		// others like the chosen source; equal blocks are not copied.
		for j := range ok {
			sinks[j] = ok[j] && j != src
		}
	}
	return src, sinks, nil
}

func later(a, b fop.Timespec) bool {
	return a.Sec > b.Sec || (a.Sec == b.Sec && a.Nsec > b.Nsec)
}

// favoriteChild applies cluster.favorite-child-policy to a split-brain.
func (r *AFR) favoriteChild(attrs []fop.Attr, ok []bool) int {
	best := -1
	policy := r.o().favorite
	for i := range ok {
		if !ok[i] {
			continue
		}
		switch policy {
		case "size":
			if best < 0 || attrs[i].Size > attrs[best].Size {
				best = i
			}
		case "mtime":
			if best < 0 || later(attrs[i].Mtime, attrs[best].Mtime) {
				best = i
			}
		case "ctime":
			if best < 0 || later(attrs[i].Ctime, attrs[best].Ctime) {
				best = i
			}
		default:
			return -1
		}
	}
	return best
}

// internalXattr reports whether an xattr is the cluster's own, which
// metadata heal must not copy between replicas.
func internalXattr(k string) bool {
	return k == "trusted.gfid" || strings.HasPrefix(k, keyPrefix) || strings.HasPrefix(k, "trusted.glusterfs.") || strings.HasPrefix(k, "trusted.ec.")
}

func (r *AFR) healMetadata(ctx context.Context, loc *fop.Loc, mx *matrix, attrs []fop.Attr, ok []bool, force int) error {
	src, sinks, err := r.choose(mx, metadataTxn, attrs, ok, force)
	if err != nil {
		return err
	}
	a := attrs[src]
	srcX, err := r.children[src].Getxattr(ctx, loc, "")
	if err != nil {
		return err
	}
	errs := r.each(sinks, func(i int, c fop.Layer) error {
		set := &fop.SetAttr{Valid: fop.SetMode | fop.SetUID | fop.SetGID | fop.SetAtime | fop.SetMtime,
			Mode: a.Mode & 07777, UID: a.UID, GID: a.GID, Atime: a.Atime, Mtime: a.Mtime}
		if a.Type() == syscall.S_IFLNK {
			set.Valid &^= fop.SetMode
		}
		if _, err := c.Setattr(ctx, loc, set); err != nil {
			return err
		}
		sinkX, err := c.Getxattr(ctx, loc, "")
		if err != nil {
			return err
		}
		for k, v := range srcX {
			if !internalXattr(k) && !bytes.Equal(sinkX[k], v) {
				if err := c.Setxattr(ctx, loc, fop.Dict{k: v}, 0); err != nil {
					return err
				}
			}
		}
		for k := range sinkX {
			if _, kept := srcX[k]; !kept && !internalXattr(k) {
				if err := c.Removexattr(ctx, loc, k); err != nil && fop.Errno(err) != syscall.ENODATA {
					return err
				}
			}
		}
		return nil
	})
	return firstError(errs, sinks)
}

func firstError(errs []error, set []bool) error {
	for i, err := range errs {
		if set[i] && err != nil {
			return err
		}
	}
	return nil
}

// healData copies to each sink the blocks whose checksums differ from the
// source's, then gives it the source's size.
func (r *AFR) healData(ctx context.Context, loc *fop.Loc, mx *matrix, attrs []fop.Attr, ok []bool, force int) error {
	src, sinks, err := r.choose(mx, dataTxn, attrs, ok, force)
	if err != nil {
		return err
	}
	size := int64(attrs[src].Size)
	sfd := fop.NewFD(loc.GFID, syscall.O_RDONLY)
	if err := r.children[src].Open(ctx, loc, syscall.O_RDONLY, sfd); err != nil {
		return err
	}
	defer r.children[src].Release(ctx, sfd)
	buf := make([]byte, healBlock)
	errs := r.each(sinks, func(i int, c fop.Layer) error {
		if r.isArbiter(i) {
			return nil // it keeps no data: its changelog is reset below
		}
		dfd := fop.NewFD(loc.GFID, syscall.O_RDWR)
		if err := c.Open(ctx, loc, syscall.O_RDWR, dfd); err != nil {
			return err
		}
		defer c.Release(ctx, dfd)
		own := buf
		if count(sinks) > 1 {
			own = make([]byte, healBlock)
		}
		for off := int64(0); off < size; off += healBlock {
			n := int64(healBlock)
			if size-off < n {
				n = size - off
			}
			if off+n <= int64(attrs[i].Size) {
				_, s1, err1 := r.children[src].Rchecksum(ctx, sfd, off, uint32(n))
				_, s2, err2 := c.Rchecksum(ctx, dfd, off, uint32(n))
				if err1 == nil && err2 == nil && bytes.Equal(s1, s2) {
					continue
				}
			}
			got, err := r.children[src].Read(ctx, sfd, own[:n], off)
			if err != nil {
				return err
			}
			if _, _, err := c.Write(ctx, dfd, own[:got], off); err != nil {
				return err
			}
		}
		if _, err := c.Ftruncate(ctx, dfd, uint64(size)); err != nil {
			return err
		}
		_, err := c.Fsync(ctx, dfd, true)
		return err
	})
	return firstError(errs, sinks)
}

// resetChangelog subtracts the counters read before the heal for the
// types healed: what came in meanwhile stays, and so do accusations of
// replicas that took no part in the heal (down), which still miss it.
func (r *AFR) resetChangelog(ctx context.Context, loc *fop.Loc, mx *matrix, ok []bool, healed []txnType) {
	if len(healed) == 0 {
		return
	}
	r.each(ok, func(i int, c fop.Layer) error {
		// All keys go in (see postOp) so the brick's index can drop the
		// object once everything is zero.
		var d counters
		for _, t := range healed {
			d[t] = -mx.dirty[i][t]
		}
		x := fop.Dict{DirtyKey: d.encode()}
		for j, key := range r.keys {
			var p counters
			for _, t := range healed {
				if ok[j] {
					p[t] = -mx.m[i][j][t]
				}
			}
			x[key] = p.encode()
		}
		_, err := c.Xattrop(ctx, loc, fop.XattropAddArray32, x)
		if err != nil {
			r.log.Warn("changelog reset failed", "gfid", loc.GFID, "child", i, "err", err)
		}
		return err
	})
}

// touchChangelog adds zero to every counter of loc on the replicas in set.
func (r *AFR) touchChangelog(ctx context.Context, loc *fop.Loc, set []bool) {
	x := fop.Dict{DirtyKey: delta(dataTxn, 0)}
	for _, key := range r.keys {
		x[key] = delta(dataTxn, 0)
	}
	r.each(set, func(i int, c fop.Layer) error {
		_, err := c.Xattrop(ctx, loc, fop.XattropAddArray32, x)
		return err
	})
}

// listDir reads a whole directory of one replica with attributes.
func listDir(ctx context.Context, c fop.Layer, dir fop.GFID) (map[string]fop.DirEntry, error) {
	fd := fop.NewFD(dir, syscall.O_RDONLY)
	if err := c.Opendir(ctx, &fop.Loc{GFID: dir}, fd); err != nil {
		return nil, err
	}
	defer c.Releasedir(ctx, fd)
	out := map[string]fop.DirEntry{}
	var off uint64
	for {
		ents, err := c.Readdir(ctx, fd, off, 512, true, nil)
		if err != nil {
			return nil, err
		}
		if len(ents) == 0 {
			return out, nil
		}
		for _, e := range ents {
			off = e.Off
			if e.Name != "." && e.Name != ".." && e.Attr != nil {
				out[e.Name] = e
			}
		}
	}
}

// healEntries makes each sink's directory hold the source's names: names
// missing on a sink are created there with the same GFID (their contents
// healed next), names only on the sink are removed.
func (r *AFR) healEntries(ctx context.Context, loc *fop.Loc, mx *matrix, attrs []fop.Attr, ok []bool, force int) error {
	src, sinks, err := r.choose(mx, entryTxn, attrs, ok, force)
	if err != nil {
		return err
	}
	want, err := listDir(ctx, r.children[src], loc.GFID)
	if err != nil {
		return err
	}
	errs := r.each(sinks, func(i int, c fop.Layer) error {
		have, err := listDir(ctx, c, loc.GFID)
		if err != nil {
			return err
		}
		var missing []string
		unhealed := 0
		for name, e := range want {
			h, exists := have[name]
			switch {
			case !exists:
				missing = append(missing, name)
			case h.Attr.GFID != e.Attr.GFID:
				r.log.Error("entry heal: gfid mismatch (split-brain of the entry); left alone",
					"dir", loc.GFID, "name", name, "source", e.Attr.GFID, "sink", h.Attr.GFID)
				unhealed++
			}
		}
		unhealed += r.recreateAll(ctx, src, i, loc.GFID, missing, want)
		// Removals last: a name renamed meanwhile is linked under its
		// new name above before its old one goes.
		for name, h := range have {
			if _, kept := want[name]; !kept {
				if err := removeTree(ctx, c, loc.GFID, name, h.Attr); err != nil {
					r.log.Warn("entry heal: removal failed", "dir", loc.GFID, "name", name, "child", i, "err", err)
					unhealed++
				}
			}
		}
		if unhealed > 0 {
			// The directory stays pending (and indexed) for another try.
			return fmt.Errorf("entry heal of %s: %d names not healed on replica %d", loc.GFID, unhealed, i)
		}
		return nil
	})
	return firstError(errs, sinks)
}

// entryWorkers is how many names of a directory an entry heal creates
// at once.
const entryWorkers = 8

// recreateAll creates names (missing on replica sink) from replica src
// and returns how many failed. Names of objects with one name are
// created in parallel; hard links one after another, so that the first
// name creates the object and the others link to it.
func (r *AFR) recreateAll(ctx context.Context, src, sink int, dir fop.GFID, names []string, want map[string]fop.DirEntry) int {
	perObject := map[fop.GFID]int{}
	for _, n := range names {
		perObject[want[n].Attr.GFID]++
	}
	var single, linked []string
	for _, n := range names {
		if perObject[want[n].Attr.GFID] > 1 {
			linked = append(linked, n)
		} else {
			single = append(single, n)
		}
	}
	var failed atomic.Int64
	create := func(n string) {
		if err := r.recreate(ctx, src, sink, dir, n, want[n].Attr); err != nil {
			r.log.Warn("entry heal: create failed", "dir", dir, "name", n, "child", sink, "err", err)
			failed.Add(1)
		}
	}
	ch := make(chan string)
	var wg sync.WaitGroup
	for range min(entryWorkers, len(single)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range ch {
				create(n)
			}
		}()
	}
	for _, n := range single {
		ch <- n
	}
	close(ch)
	wg.Wait()
	for _, n := range linked {
		create(n)
	}
	return int(failed.Load())
}

// recreate makes name on replica sink like it is on replica src, and
// marks the source's object as pending for the sink so that its data
// (or, for a directory, its entries) heal next.
func (r *AFR) recreate(ctx context.Context, src, sink int, dir fop.GFID, name string, a *fop.Attr) error {
	c := r.children[sink]
	loc := &fop.Loc{Parent: dir, Name: name, GFID: a.GFID}
	perm := a.Mode & 07777
	var err error
	var pending counters
	switch a.Type() {
	case syscall.S_IFDIR:
		_, _, err = c.Mkdir(ctx, loc, perm, 0, nil)
		pending = counters{0, 1, 1}
	case syscall.S_IFLNK:
		var target string
		if target, err = r.children[src].Readlink(ctx, &fop.Loc{GFID: a.GFID}); err == nil {
			_, _, err = c.Symlink(ctx, loc, target, 0, nil)
		}
		pending = counters{0, 1, 0}
	case syscall.S_IFREG:
		if _, _, lerr := c.Lookup(ctx, &fop.Loc{GFID: a.GFID}, nil); lerr == nil {
			// Another name of the same file exists there: a hard link.
			_, _, err = c.Link(ctx, &fop.Loc{GFID: a.GFID}, loc)
			return err
		}
		_, _, err = c.Mknod(ctx, loc, a.Type()|perm, 0, 0, nil)
		pending = counters{1, 1, 0}
	default:
		_, _, err = c.Mknod(ctx, loc, a.Mode, 0, a.Rdev, nil)
		pending = counters{0, 1, 0}
	}
	if err != nil {
		return err
	}
	if _, err := r.children[src].Xattrop(ctx, &fop.Loc{GFID: a.GFID}, fop.XattropAddArray32, fop.Dict{r.keys[sink]: pending.encode()}); err != nil {
		return err
	}
	r.created(ctx, a.GFID)
	return nil
}

// removeTree deletes name in dir on one replica, with everything under it.
func removeTree(ctx context.Context, c fop.Layer, dir fop.GFID, name string, a *fop.Attr) error {
	loc := &fop.Loc{Parent: dir, Name: name, GFID: a.GFID}
	if a.Type() != syscall.S_IFDIR {
		_, err := c.Unlink(ctx, loc)
		return err
	}
	ents, err := listDir(ctx, c, a.GFID)
	if err != nil {
		return err
	}
	for n, e := range ents {
		if err := removeTree(ctx, c, a.GFID, n, e.Attr); err != nil {
			return err
		}
	}
	_, err = c.Rmdir(ctx, loc)
	return err
}
