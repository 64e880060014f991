package dht

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// File migration (rebalance, remove-brick) moves a file's data from the
// child holding it (src) to its hashed child (dst) while clients keep
// reading and writing it. See docs/distribute.md for the whole protocol;
// in short:
//
//  1. dst gets a linkto file with the file's GFID (or keeps the one it
//     has); src gets the sticky bit (phase 1) and a linkto xattr naming
//     dst. A client whose write or truncate returns an attribute with
//     the sticky bit replays it on dst.
//  2. The data is copied in chunks, each under an inodelk on src in
//     migrateDomain; client replays take the same lock for their range,
//     so a chunk copied from an older src never overwrites a newer replay.
//  3. Under a lock on the whole file, src's mode becomes sticky+setgid
//     (phase 2: clients now send everything to dst), dst takes src's
//     owner, mode and times and drops its linkto xattr, and src's name
//     is removed. Replays waiting for the lock land on dst afterwards.

// migrateDomain is the inodelk domain of migration: copier chunks and
// client replays serialize on it.
const migrateDomain = "dht.migrate"

// Phase markers on src's mode.
const (
	phase1Bit  = syscall.S_ISVTX
	phase2Mode = syscall.S_ISVTX | syscall.S_ISGID
)

// modeKey keeps the source's mode while migration bits replace it, so
// that a switch interrupted after phase 2 can be finished.
const modeKey = "trusted.glusterfs.dht.migrate-mode"

// copyChunk is how much data one locked copy step moves.
const copyChunk = 1 << 20

// ErrSkip says a file is left where it is (hard links, special files that
// cannot be moved, a destination with too little room).
var ErrSkip = errors.New("file skipped")

// SettleLayout marks the ranges of directory loc on the given children
// settled (commit's odd form) once a rebalance with that commit has moved
// every file those children held in it to its hashed child: when every
// range is, lookup-optimize trusts a miss on the hashed child. A range
// that no longer carries the even form (another rebalance, or a node that
// laid the directory out again) is left alone.
func (d *DHT) SettleLayout(ctx context.Context, loc *fop.Loc, commit uint32, children []int) error {
	from, to := commit&^commitSettledBit, commit|commitSettledBit
	dir := &fop.Loc{GFID: loc.GFID, Path: loc.Path}
	if dir.GFID.IsZero() {
		a, _, err := d.lookupDir(ctx, loc, nil)
		if err != nil {
			return fmt.Errorf("settle layout %s: %w", loc.Path, err)
		}
		dir.GFID = a.GFID
	}
	for _, i := range children {
		x, err := d.children[i].Getxattr(ctx, dir, LayoutKey)
		if err != nil {
			return fmt.Errorf("settle layout %s on %s: %w", loc.Path, d.names[i], err)
		}
		r, user, err := DecodeRange(x[LayoutKey])
		if err != nil || user || !r.Set || r.Commit != from {
			continue
		}
		r.Commit = to
		if err := d.children[i].Setxattr(ctx, dir, fop.Dict{LayoutKey: EncodeRange(r)}, 0); err != nil {
			return fmt.Errorf("settle layout %s on %s: %w", loc.Path, d.names[i], err)
		}
	}
	return nil
}

// migrating reports whether a regular file's attributes carry a migration
// marker.
func migrating(a *fop.Attr) bool {
	return a.Type() == syscall.S_IFREG && a.Mode&phase1Bit != 0 && a.Mode&07777 != syscall.S_ISVTX
}

// inPhase2 reports whether a regular file is the source of a migration
// that has switched to its destination.
func inPhase2(a *fop.Attr) bool {
	return a.Type() == syscall.S_IFREG && a.Mode&07777 == phase2Mode
}

// redirected reports whether the result of a data change says the file
// may live elsewhere now: a migration marker, or linkto mode (the source
// of a hard-linked file turned into a linkto, see migrate_links.go).
func redirected(a *fop.Attr) bool {
	return migrating(a) || a.Type() == syscall.S_IFREG && a.Mode&07777 == syscall.S_ISVTX
}

// hideMarkers removes migration bits from what callers see.
func hideMarkers(a fop.Attr) fop.Attr {
	if migrating(&a) {
		a.Mode &^= phase1Bit
		if a.Mode&07777&^syscall.S_ISGID == 0 {
			a.Mode &^= syscall.S_ISGID
		}
	}
	return a
}

// lockOwner makes each lock holder distinct: the locks layer lets one
// owner re-take its own ranges.
func lockOwner() uint64 { return rand.Uint64() | 1 }

// Children returns the subvolume names, in volfile order.
func (d *DHT) Children() []string { return append([]string(nil), d.names...) }

// Child returns the i-th subvolume, for callers (the rebalance crawler)
// that read a brick's own listing.
func (d *DHT) Child(i int) fop.Layer { return d.children[i] }

// IsLinkto reports whether attributes and xattrs describe a linkto file.
func IsLinkto(a *fop.Attr, x fop.Dict) bool { return isLinkto(a, x) }

// HashedChild returns the child that name in directory dir hashes to
// under the directory's current layout, read afresh (another node's
// fix-layout may have rewritten it). The fresh layout replaces the cached
// one without a moment of none, which concurrent callers would see.
func (d *DHT) HashedChild(ctx context.Context, dir fop.GFID, name string) (int, error) {
	if _, _, err := d.lookupDir(ctx, &fop.Loc{GFID: dir}, nil); err != nil {
		return -1, err
	}
	return d.hashed(ctx, dir, name)
}

// FixLayout gives directory loc a fresh layout over every child that is
// not decommissioned, stamped with commit (its even form: files are not
// settled yet, see SettleLayout), as a rebalance does: ranges move as
// little as GlusterFS moves them. It refuses while a child is down.
func (d *DHT) FixLayout(ctx context.Context, loc *fop.Loc, commit uint32) error {
	if !d.allUp() {
		return fmt.Errorf("fix-layout %s: %w", loc.Path, syscall.ENOTCONN)
	}
	a, _, err := d.lookupDir(ctx, loc, nil)
	if err != nil {
		return fmt.Errorf("fix-layout %s: %w", loc.Path, err)
	}
	if !a.IsDir() {
		return fmt.Errorf("fix-layout %s: %w", loc.Path, syscall.ENOTDIR)
	}
	old, err := d.layoutOf(ctx, a.GFID)
	if err != nil {
		return fmt.Errorf("fix-layout %s: %w", loc.Path, err)
	}
	if old.User {
		return nil
	}
	path := loc.Path
	if a.GFID == fop.RootGFID {
		path = "/"
	}
	d.refreshDU(ctx)
	l := NewLayout(path, d.names, d.layoutUse(), d.chunksSnapshot(), d.weighted, commit&^commitSettledBit)
	if d.equalSizes() || !d.weighted {
		maximizeOverlap(l, old, d.names)
	}
	// Only ranges that differ are written: every node lays each
	// directory out (the same result), and one that comes late must not
	// take back the settled mark another node's bricks already got.
	write := make([]bool, len(d.children))
	for i, r := range l.Ranges {
		o := old.Ranges[i]
		if o.Commit == commit|commitSettledBit && o.Set && r.Set && o.Start == r.Start && o.Stop == r.Stop {
			l.Ranges[i].Commit = o.Commit
		}
		write[i] = o != l.Ranges[i] || !o.Set
	}
	if err := firstErr(d.writeLayoutErrs(ctx, a.GFID, l, write)); err != nil {
		return fmt.Errorf("fix-layout %s: %w", loc.Path, err)
	}
	in := d.inode(a.GFID)
	in.mu.Lock()
	in.layout = l
	in.mu.Unlock()
	return nil
}

// equalSizes reports whether every child has the same size, when GlusterFS
// keeps as much of the old ranges as it can.
func (d *DHT) equalSizes() bool {
	c := d.chunksSnapshot()
	for i := range c {
		if c[i] != c[0] {
			return false
		}
	}
	return true
}

// maximizeOverlap swaps ranges between children so that each keeps as much
// of its old range as it can, as GlusterFS's
// dht_selfheal_layout_maximize_overlap does (same order, same choices):
// fewer files move.
func maximizeOverlap(l, old *Layout, names []string) {
	n := len(l.Ranges)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return names[order[a]] < names[order[b]] })
	overlap := func(a, b Range) uint64 {
		if !a.Set || !b.Set || a.Stop < b.Start || b.Stop < a.Start {
			return 0
		}
		return uint64(min(a.Stop, b.Stop)) - uint64(max(a.Start, b.Start)) + 1
	}
	// ov[i][j]: overlap of the new range of order[i] with the old one of order[j].
	ov := make([][]uint64, n)
	for i := range ov {
		ov[i] = make([]uint64, n)
		for j := range ov[i] {
			ov[i][j] = overlap(l.Ranges[order[i]], old.Ranges[order[j]])
		}
	}
	for i := 0; i < n; i++ {
		if !l.Ranges[order[i]].Set {
			continue
		}
		var best uint64
		bestIdx := i
		for j := i + 1; j < n; j++ {
			if !l.Ranges[order[j]].Set {
				continue
			}
			cur := ov[i][i] + ov[j][j]
			if swapped := ov[i][j] + ov[j][i]; swapped > cur && swapped-cur > best {
				best, bestIdx = swapped-cur, j
			}
		}
		if bestIdx != i {
			ri, rj := &l.Ranges[order[i]], &l.Ranges[order[bestIdx]]
			ri.Start, rj.Start = rj.Start, ri.Start
			ri.Stop, rj.Stop = rj.Stop, ri.Stop
			ov[i], ov[bestIdx] = ov[bestIdx], ov[i]
		}
	}
}

// Migrate moves the file name in directory dir from child src to the
// child it hashes to. moved is false when the file already is where it
// belongs (or is a linkto or directory there). force moves it even to a
// child below min-free-disk.
func (d *DHT) Migrate(ctx context.Context, dir fop.GFID, dirPath, name string, src int, force bool) (moved bool, n int64, err error) {
	path := joinPath(dirPath, name)
	dst, err := d.HashedChild(ctx, dir, name)
	if err != nil {
		return false, 0, fmt.Errorf("migrate %s: %w", path, err)
	}
	if dst == src {
		return false, 0, nil
	}
	if !d.isUp(src) || !d.isUp(dst) {
		return false, 0, fmt.Errorf("migrate %s: %w", path, syscall.ENOTCONN)
	}
	loc := &fop.Loc{Parent: dir, Name: name, Path: path}
	sa, sx, err := d.children[src].Lookup(ctx, loc, fop.Dict{LinktoKey: nil})
	if err != nil {
		return false, 0, fmt.Errorf("migrate %s: lookup on %s: %w", path, d.names[src], err)
	}
	if inPhase2(&sa) {
		// An interrupted switch: dst (where src's linkto xattr
		// points) has every write since phase 2; finish it rather
		// than copy src's older data again.
		if t := d.childIndex(linktoTarget(sx)); t >= 0 && t != src {
			dst = t
		}
		if err := d.finishSwitch(ctx, loc, &sa, src, dst); err != nil || sa.Nlink <= 1 {
			return false, 0, err
		}
		return false, 0, d.sourceToLinkto(ctx, &fop.Loc{GFID: sa.GFID, Path: path}, src, dst)
	}
	switch {
	case isLinkto(&sa, sx) || sa.IsDir():
		return false, 0, nil
	case sa.Type() != syscall.S_IFREG:
		return false, 0, fmt.Errorf("migrate %s: not a regular file: %w", path, ErrSkip)
	case sa.Nlink > 1 && d.removing():
		return d.migrateLinked(ctx, loc, src, dst, force)
	case sa.Nlink > 1:
		return false, 0, fmt.Errorf("migrate %s: %d hard links: %w", path, sa.Nlink, ErrSkip)
	}
	d.refreshDU(ctx)
	if !force && d.overFull(dst) {
		return false, 0, fmt.Errorf("migrate %s: %s is below min-free-disk: %w", path, d.names[dst], ErrSkip)
	}
	m := &migration{d: d, loc: loc, gfid: sa.GFID, src: src, dst: dst, orig: sa}
	n, err = m.run(ctx)
	return err == nil, n, err
}

func joinPath(dir, name string) string {
	if dir == "" || dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// migration is one file's move.
type migration struct {
	d        *DHT
	loc      *fop.Loc
	gfid     fop.GFID
	src, dst int
	orig     fop.Attr
	owner    uint64
	sfd, dfd *fop.FD
}

func (m *migration) run(ctx context.Context) (n int64, err error) {
	d := m.d
	m.owner = lockOwner()
	gloc := &fop.Loc{GFID: m.gfid, Path: m.loc.Path}
	if err := m.prepareDst(ctx); err != nil {
		return 0, err
	}
	m.sfd = fop.NewFD(m.gfid, syscall.O_RDWR)
	if err := d.children[m.src].Open(ctx, gloc, syscall.O_RDWR, m.sfd); err != nil {
		return 0, fmt.Errorf("migrate %s: open on %s: %w", m.loc.Path, d.names[m.src], err)
	}
	defer d.children[m.src].Release(context.WithoutCancel(ctx), m.sfd)
	m.dfd = fop.NewFD(m.gfid, syscall.O_RDWR)
	if err := d.children[m.dst].Open(ctx, gloc, syscall.O_RDWR, m.dfd); err != nil {
		return 0, fmt.Errorf("migrate %s: open on %s: %w", m.loc.Path, d.names[m.dst], err)
	}
	defer d.children[m.dst].Release(context.WithoutCancel(ctx), m.dfd)

	// Phase 1: mark src; from here on clients replay their writes on dst.
	mode := binary.BigEndian.AppendUint32(nil, m.orig.Mode&07777&^phase1Bit)
	if err := d.children[m.src].Fsetxattr(ctx, m.sfd, fop.Dict{LinktoKey: append([]byte(d.names[m.dst]), 0), modeKey: mode}, 0); err != nil {
		return 0, fmt.Errorf("migrate %s: mark: %w", m.loc.Path, err)
	}
	// (An earlier, interrupted migration may have left the marker.)
	if _, err := d.children[m.src].Fsetattr(ctx, m.sfd, &fop.SetAttr{Valid: fop.SetMode, Mode: m.orig.Mode&07777 | phase1Bit}); err != nil {
		return 0, fmt.Errorf("migrate %s: mark: %w", m.loc.Path, err)
	}
	done := false
	defer func() {
		if !done {
			m.abort(context.WithoutCancel(ctx))
		}
	}()
	if n, err = m.copy(ctx); err != nil {
		return n, err
	}
	// Past phase 2 there is no going back to src (clients write to dst
	// only): a failure is left for the next crawl to finish.
	done, err = m.switchOver(ctx)
	return n, err
}

// prepareDst makes sure dst has a linkto file with the file's GFID: a new
// one, or the linkto a rename or min-free-disk left there.
func (m *migration) prepareDst(ctx context.Context) error {
	d := m.d
	x := fop.Dict{LinktoKey: append([]byte(d.names[m.src]), 0)}
	loc := *m.loc
	loc.GFID = m.gfid
	_, _, err := d.children[m.dst].Mknod(ctx, &loc, linktoMode, 0, 0, x)
	if fop.Errno(err) != syscall.EEXIST {
		if err != nil {
			return fmt.Errorf("migrate %s: create on %s: %w", m.loc.Path, d.names[m.dst], err)
		}
		return nil
	}
	a, ax, lerr := d.children[m.dst].Lookup(ctx, m.loc, fop.Dict{LinktoKey: nil})
	if lerr != nil {
		return fmt.Errorf("migrate %s: lookup on %s: %w", m.loc.Path, d.names[m.dst], lerr)
	}
	if a.GFID != m.gfid && isLinkto(&a, ax) && a.Size == 0 {
		// A linkto of another file by this name (a stale one, or one a
		// lookup stamped with a GFID of its own while it was being
		// created): replace it.
		if _, err := d.children[m.dst].Unlink(ctx, m.loc); err != nil && fop.Errno(err) != syscall.ENOENT {
			return fmt.Errorf("migrate %s: replace stale linkto on %s: %w", m.loc.Path, d.names[m.dst], err)
		}
		if _, _, err := d.children[m.dst].Mknod(ctx, &loc, linktoMode, 0, 0, x); err != nil {
			return fmt.Errorf("migrate %s: create on %s: %w", m.loc.Path, d.names[m.dst], err)
		}
		return nil
	}
	if a.GFID != m.gfid || !isLinkto(&a, ax) || d.childIndex(linktoTarget(ax)) != m.src {
		// Another file by that name: leave both for an administrator.
		return fmt.Errorf("migrate %s: %s holds another file by that name: %w", m.loc.Path, d.names[m.dst], ErrSkip)
	}
	return nil
}

// lock takes (or, with unlock, releases) the migration lock on src over
// [off, off+n); n 0 is the whole file.
func lockRange(ctx context.Context, c fop.Layer, fd *fop.FD, owner uint64, off, n int64, unlock bool) error {
	typ := int16(syscall.F_WRLCK)
	if unlock {
		typ = syscall.F_UNLCK
	}
	return c.Finodelk(ctx, migrateDomain, fd, fop.SetLkW, &fop.Flock{Type: typ, Start: off, Len: n, Owner: owner})
}

// copy moves the data in chunks, each under the migration lock, up to
// src's size as it was when phase 1 began; later growth reaches dst
// through client replays.
func (m *migration) copy(ctx context.Context) (int64, error) {
	d := m.d
	sc, dc := d.children[m.src], d.children[m.dst]
	// Size dst under the whole-file lock, so that no replayed write or
	// truncate falls between reading src's size and applying it.
	if err := lockRange(ctx, sc, m.sfd, m.owner, 0, 0, false); err != nil {
		return 0, fmt.Errorf("migrate %s: lock: %w", m.loc.Path, err)
	}
	st, err := sc.Fstat(ctx, m.sfd)
	if err == nil {
		_, err = dc.Ftruncate(ctx, m.dfd, st.Size)
	}
	if uerr := lockRange(context.WithoutCancel(ctx), sc, m.sfd, m.owner, 0, 0, true); err == nil {
		err = uerr
	}
	if err != nil {
		return 0, fmt.Errorf("migrate %s: size dst: %w", m.loc.Path, err)
	}
	buf := make([]byte, copyChunk)
	var moved int64
	for off := int64(0); off < int64(st.Size); off += copyChunk {
		if err := ctx.Err(); err != nil {
			return moved, err
		}
		if err := lockRange(ctx, sc, m.sfd, m.owner, off, copyChunk, false); err != nil {
			return moved, fmt.Errorf("migrate %s: lock: %w", m.loc.Path, err)
		}
		n, rerr := sc.Read(ctx, m.sfd, buf, off)
		var werr error
		if rerr == nil && n > 0 {
			_, _, werr = dc.Write(ctx, m.dfd, buf[:n], off)
		}
		uerr := lockRange(context.WithoutCancel(ctx), sc, m.sfd, m.owner, off, copyChunk, true)
		if err := errors.Join(rerr, werr, uerr); err != nil {
			return moved, fmt.Errorf("migrate %s at %d: %w", m.loc.Path, off, err)
		}
		moved += int64(n)
		if n < copyChunk {
			break
		}
	}
	return moved, nil
}

// switchOver makes dst the data file and removes src, under a lock on the
// whole file so no replay is in flight.
func (m *migration) switchOver(ctx context.Context) (committed bool, err error) {
	d := m.d
	sc := d.children[m.src]
	if err := lockRange(ctx, sc, m.sfd, m.owner, 0, 0, false); err != nil {
		return false, fmt.Errorf("migrate %s: lock: %w", m.loc.Path, err)
	}
	defer lockRange(context.WithoutCancel(ctx), sc, m.sfd, m.owner, 0, 0, true)
	st, err := sc.Fstat(ctx, m.sfd)
	if err != nil {
		return false, fmt.Errorf("migrate %s: stat: %w", m.loc.Path, err)
	}
	if _, err := sc.Fsetattr(ctx, m.sfd, &fop.SetAttr{Valid: fop.SetMode, Mode: phase2Mode}); err != nil {
		return false, fmt.Errorf("migrate %s: phase 2: %w", m.loc.Path, err)
	}
	st.Mode &^= phase1Bit
	return true, d.makeData(ctx, m.loc, m.gfid, &st, m.src, m.dst, m.dfd)
}

// makeData turns dst's linkto into the data file, with the attributes of
// the source st (open as dfd on dst when the caller has it), and removes
// the source's name.
func (d *DHT) makeData(ctx context.Context, loc *fop.Loc, g fop.GFID, st *fop.Attr, src, dst int, dfd *fop.FD) error {
	dc := d.children[dst]
	set := &fop.SetAttr{Valid: fop.SetMode | fop.SetUID | fop.SetGID | fop.SetAtime | fop.SetMtime,
		Mode: st.Mode & 07777, UID: st.UID, GID: st.GID, Atime: st.Atime, Mtime: st.Mtime}
	gloc := &fop.Loc{GFID: g, Path: loc.Path}
	var err error
	if dfd != nil {
		_, err = dc.Fsetattr(ctx, dfd, set)
	} else {
		_, err = dc.Setattr(ctx, gloc, set)
	}
	if err != nil {
		return fmt.Errorf("migrate %s: attributes on dst: %w", loc.Path, err)
	}
	if err := dc.Removexattr(ctx, gloc, LinktoKey); err != nil && fop.Errno(err) != syscall.ENODATA {
		return fmt.Errorf("migrate %s: unmark dst: %w", loc.Path, err)
	}
	d.inode(g).setCached(dst)
	if _, err := d.children[src].Unlink(ctx, loc); err != nil && fop.Errno(err) != syscall.ENOENT {
		d.log.Warn("migrate: removing the source failed; the next crawl finishes it", "path", loc.Path, "child", d.names[src], "err", err)
	}
	return nil
}

// finishSwitch completes a migration that stopped after phase 2: the
// source's saved mode and its owner and times go to dst.
func (d *DHT) finishSwitch(ctx context.Context, loc *fop.Loc, sa *fop.Attr, src, dst int) error {
	da, dx, err := d.children[dst].Lookup(ctx, loc, fop.Dict{LinktoKey: nil})
	if err != nil || da.GFID != sa.GFID {
		return fmt.Errorf("migrate %s: source in phase 2 without its destination: %w", loc.Path, ErrSkip)
	}
	if !isLinkto(&da, dx) {
		// Already the data file: only the source's name is left.
		if _, err := d.children[src].Unlink(ctx, loc); err != nil && fop.Errno(err) != syscall.ENOENT {
			return fmt.Errorf("migrate %s: remove source: %w", loc.Path, err)
		}
		return nil
	}
	st := *sa
	st.Mode = st.Mode&^07777 | 0o644
	if x, err := d.children[src].Getxattr(ctx, &fop.Loc{GFID: sa.GFID, Path: loc.Path}, modeKey); err == nil && len(x[modeKey]) == 4 {
		st.Mode = st.Mode&^07777 | binary.BigEndian.Uint32(x[modeKey])&07777
	}
	return d.makeData(ctx, loc, sa.GFID, &st, src, dst, nil)
}

// abort puts src back as it was after a failed copy; dst keeps its linkto
// file, which lookups follow back to src.
func (m *migration) abort(ctx context.Context) {
	d := m.d
	sc := d.children[m.src]
	if _, err := sc.Fsetattr(ctx, m.sfd, &fop.SetAttr{Valid: fop.SetMode, Mode: m.orig.Mode & 07777 &^ phase1Bit}); err != nil {
		d.log.Warn("migrate: unmarking the source failed", "path", m.loc.Path, "err", err)
	}
	for _, k := range []string{LinktoKey, modeKey} {
		if err := sc.Fremovexattr(ctx, m.sfd, k); err != nil {
			d.log.Warn("migrate: unmarking the source failed", "path", m.loc.Path, "err", err)
		}
	}
}

// fileFD is DHT's state for an open file: the child it was opened on and,
// once a migration was seen, the destination it was also opened on.
type fileFD struct {
	mu     sync.Mutex
	child  int
	opened []int // other children the FD is open on
}

func newFileFD(child int) *fileFD { return &fileFD{child: child} }

func (f *fileFD) current() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.child
}

// openOn makes sure fd is open on child c too.
func (f *fileFD) openOn(ctx context.Context, d *DHT, fd *fop.FD, c int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c == f.child || slices.Contains(f.opened, c) {
		return nil
	}
	flags := fd.Flags &^ (syscall.O_CREAT | syscall.O_EXCL | syscall.O_TRUNC | syscall.O_APPEND)
	if flags&syscall.O_ACCMODE == syscall.O_WRONLY {
		flags = flags&^syscall.O_ACCMODE | syscall.O_RDWR
	}
	if err := d.children[c].Open(ctx, &fop.Loc{GFID: fd.GFID}, flags, fd); err != nil {
		return err
	}
	f.opened = append(f.opened, c)
	return nil
}

// moveTo makes child c the one the FD's operations go to (the file has
// been migrated there).
func (f *fileFD) moveTo(c int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c == f.child {
		return
	}
	f.opened = slices.DeleteFunc(f.opened, func(o int) bool { return o == c })
	f.opened = append(f.opened, f.child)
	f.child = c
}

func (f *fileFD) releaseOthers(ctx context.Context, d *DHT, fd *fop.FD, except int) {
	f.mu.Lock()
	others := f.opened
	f.opened = nil
	f.mu.Unlock()
	for _, c := range others {
		if c != except {
			_ = d.children[c].Release(ctx, fd)
		}
	}
}

// dataOp runs a data change through fd and replays it on the migration
// destination when the result says the file is being migrated.
func (d *DHT) dataOp(ctx context.Context, fd *fop.FD, off, n int64, op func(c fop.Layer) (fop.Attr, error)) (fop.Attr, error) {
	a, err := viaFD(d, fd, false, op)
	if err != nil || !redirected(&a) {
		return hideMarkers(a), err
	}
	return d.replay(ctx, fd, a, off, n, op)
}

// replay repeats a data change on the destination of src's migration,
// under the migration lock for its range (n 0: the whole file), so that
// it is ordered with the copier's chunks. In phase 2 the FD moves to the
// destination for good.
func (d *DHT) replay(ctx context.Context, fd *fop.FD, post fop.Attr, off, n int64, op func(c fop.Layer) (fop.Attr, error)) (fop.Attr, error) {
	v, _ := fd.Ctx(d)
	f, ok := v.(*fileFD)
	if !ok {
		return hideMarkers(post), nil
	}
	src := f.current()
	x, err := d.children[src].Fgetxattr(ctx, fd, LinktoKey)
	if fop.Errno(err) == syscall.ENODATA {
		return hideMarkers(post), nil // a sticky bit of the user's own
	}
	if err != nil {
		return fop.Attr{}, fmt.Errorf("write during migration: %w", err)
	}
	dst := d.childIndex(linktoTarget(x))
	if dst < 0 || dst == src {
		return hideMarkers(post), nil
	}
	if err := f.openOn(ctx, d, fd, dst); err != nil {
		return fop.Attr{}, fmt.Errorf("write during migration: open on %s: %w", d.names[dst], err)
	}
	owner := lockOwner()
	sc := d.children[src]
	if err := lockRange(ctx, sc, fd, owner, off, n, false); err != nil {
		return fop.Attr{}, fmt.Errorf("write during migration: lock: %w", err)
	}
	a, err := op(d.children[dst])
	if uerr := lockRange(context.WithoutCancel(ctx), sc, fd, owner, off, n, true); err == nil {
		err = uerr
	}
	if post.Mode&07777 == phase2Mode || post.Mode&07777 == syscall.S_ISVTX {
		f.moveTo(dst)
		return hideMarkers(a), err
	}
	// In phase 1 src is the file; dst may not have its full size yet.
	return hideMarkers(post), err
}

// keepMarkers adapts a chmod of a regular file on child c: while the file
// is being migrated its mode must keep the phase bit (clients rely on it)
// and the saved mode must follow the change.
func (d *DHT) keepMarkers(ctx context.Context, c fop.Layer, g fop.GFID, set *fop.SetAttr) *fop.SetAttr {
	if set.Valid&fop.SetMode == 0 || d.inode(g).isDir() {
		return set
	}
	gloc := &fop.Loc{GFID: g}
	x, err := c.Getxattr(ctx, gloc, modeKey)
	if err != nil || len(x[modeKey]) != 4 {
		return set
	}
	if err := c.Setxattr(ctx, gloc, fop.Dict{modeKey: binary.BigEndian.AppendUint32(nil, set.Mode&07777)}, 0); err != nil {
		d.log.Warn("chmod during migration: saving the mode failed", "gfid", g, "err", err)
	}
	s := *set
	s.Mode |= phase1Bit
	return &s
}

// AllUp reports whether every child is up.
func (d *DHT) AllUp() bool { return d.allUp() }

// removeStaleLinkto removes the linkto for loc on child h whose target t
// no longer has the file. It holds the migration lock of the file on t,
// which a migration holds while it turns its destination's linkto into the
// data file, and checks again under it: a linkto that just became data is
// never removed.
func (d *DHT) removeStaleLinkto(ctx context.Context, loc *fop.Loc, h, t int, gfid fop.GFID) {
	tc := d.children[t]
	lk := &fop.Loc{GFID: gfid, Path: loc.Path}
	owner := lockOwner()
	lock := func(typ int16) error {
		return tc.Inodelk(ctx, migrateDomain, lk, fop.SetLkW, &fop.Flock{Type: typ, Owner: owner})
	}
	if err := lock(syscall.F_WRLCK); err != nil {
		return
	}
	defer lock(syscall.F_UNLCK)
	a, x, err := d.children[h].Lookup(ctx, loc, fop.Dict{LinktoKey: nil})
	if err != nil || !isLinkto(&a, x) || a.GFID != gfid || d.childIndex(linktoTarget(x)) != t {
		return
	}
	if _, _, err := tc.Lookup(ctx, lk, nil); fop.Errno(err) != syscall.ENOENT {
		return
	}
	d.log.Info("removing stale linkto", "path", loc.Path, "on", d.names[h], "to", d.names[t])
	if _, err := d.children[h].Unlink(ctx, loc); err != nil && fop.Errno(err) != syscall.ENOENT {
		d.log.Warn("removing stale linkto failed", "path", loc.Path, "on", d.names[h], "err", err)
	}
}
