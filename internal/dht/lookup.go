package dht

import (
	"context"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

var errChildDown error = syscall.ENOTCONN

// Lookup resolves a name through the parent's layout, or a GFID alone by
// asking every child.
func (d *DHT) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	a, x, err := d.lookup(ctx, loc, xreq)
	return hideMarkers(a), x, err
}

func (d *DHT) lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	if loc.Name == "" || loc.Parent.IsZero() {
		return d.lookupByGFID(ctx, loc, xreq)
	}
	l, err := d.layoutOf(ctx, loc.Parent)
	if err != nil {
		return fop.Attr{}, nil, err
	}
	h := l.Search(HashName(loc.Name))
	switch {
	case h < 0 && d.allUp():
		// A hole in a layout a rebalance is writing, or one made
		// for subvolumes this graph does not have yet.
		return d.lookupEverywhere(ctx, loc, xreq, -1, -1, nil)
	case h >= 0 && !d.isUp(h) && d.isDecommissioned(h):
		// A brick being removed holds nothing new; its files have
		// moved or are about to.
		return d.lookupEverywhere(ctx, loc, xreq, -1, -1, nil)
	case h < 0 || !d.isUp(h):
		return d.lookupEverywhere(ctx, loc, xreq, -1, -1, errChildDown)
	}
	// A miss on h is final under lookup-optimize when h still has the
	// range we hashed with: the brick checks that after the miss
	// (placementCheck) and answers ESTALE if not. A brick being removed
	// gets no linkto for files placed elsewhere (withNewFile), so a miss
	// there proves nothing.
	var check fop.Dict
	if d.lookupUnhashed != "off" && l.settled() && !d.isDecommissioned(h) {
		check = d.placementCheck(l, h)
	}
	a, x, err := d.children[h].Lookup(ctx, loc, withXdata(withKey(xreq, LinktoKey), check))
	switch {
	case err == nil && a.IsDir():
		loc2 := *loc
		loc2.GFID = a.GFID
		return d.lookupDir(ctx, &loc2, xreq)
	case err == nil && isLinkto(&a, x):
		if a2, x2, err2 := d.followLinkto(ctx, loc, h, a.GFID, linktoTarget(x), xreq); err2 == nil {
			return a2, x2, nil
		}
		// A migration may have just finished, turning this very
		// linkto into the data file: look again everywhere (which
		// points the linkto at the data if it names the wrong child).
		return d.lookupEverywhere(ctx, loc, xreq, -1, h, nil)
	case err == nil:
		d.inode(a.GFID).setCached(h)
		return a, strip(x, xreq, LinktoKey), nil
	case fop.Errno(err) == syscall.ENOENT:
		if d.lookupUnhashed == "off" || check != nil {
			return fop.Attr{}, nil, err
		}
		return d.lookupEverywhere(ctx, loc, xreq, h, h, err)
	case fop.Errno(err) == syscall.ESTALE && check != nil:
		// A rebalance has laid the directory out anew since we read
		// its layout: the file may have moved off h.
		if _, _, derr := d.lookupDir(ctx, &fop.Loc{GFID: loc.Parent}, nil); derr != nil {
			return fop.Attr{}, nil, derr
		}
		l2, lerr := d.layoutOf(ctx, loc.Parent)
		if lerr != nil {
			return fop.Attr{}, nil, lerr
		}
		return d.lookupEverywhere(ctx, loc, xreq, -1, l2.Search(HashName(loc.Name)), syscall.ENOENT)
	default:
		if d.isDecommissioned(h) {
			err = nil
		}
		return d.lookupEverywhere(ctx, loc, xreq, h, -1, err)
	}
}

// followLinkto looks the name up on the child a linkto file points at. A
// linkto whose target lacks the file is stale and is removed.
func (d *DHT) followLinkto(ctx context.Context, loc *fop.Loc, h int, gfid fop.GFID, target string, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	t := d.childIndex(target)
	if t < 0 || t == h {
		return fop.Attr{}, nil, syscall.ENOENT
	}
	a, x, err := d.children[t].Lookup(ctx, loc, withKey(xreq, LinktoKey))
	if err == nil && !isLinkto(&a, x) {
		d.inode(a.GFID).setCached(t)
		return a, strip(x, xreq, LinktoKey), nil
	}
	if fop.Errno(err) == syscall.ENOENT {
		d.removeStaleLinkto(ctx, loc, h, t, gfid)
	}
	if err == nil {
		err = syscall.ENOENT
	}
	return fop.Attr{}, nil, err
}

// lookupEverywhere asks every child but skip for the name: the file may
// sit elsewhere after a layout change or a failed rename. hashedErr is what
// the hashed child said, reported when nobody has the name. h, when not
// -1, is the hashed child, found to lack the name (h == skip) or to hold a
// linkto that led nowhere: a file found elsewhere gets a linkto there, so
// the next lookup takes one hop (GlusterFS's dht_lookup_everywhere_done).
func (d *DHT) lookupEverywhere(ctx context.Context, loc *fop.Loc, xreq fop.Dict, skip, h int, hashedErr error) (fop.Attr, fop.Dict, error) {
	return d.lookupAll(ctx, loc, xreq, skip, h, hashedErr, true)
}

func (d *DHT) lookupAll(ctx context.Context, loc *fop.Loc, xreq fop.Dict, skip, h int, hashedErr error, retry bool) (fop.Attr, fop.Dict, error) {
	attrs := make([]fop.Attr, len(d.children))
	xs := make([]fop.Dict, len(d.children))
	errs := d.fanout(func(i int, c fop.Layer) error {
		if i == skip {
			return syscall.ENOENT
		}
		if !d.isUp(i) {
			return errChildDown
		}
		var err error
		attrs[i], xs[i], err = c.Lookup(ctx, loc, withKey(xreq, LinktoKey))
		return err
	})
	linkto := -1
	for i, err := range errs {
		if err != nil {
			continue
		}
		if attrs[i].IsDir() {
			loc2 := *loc
			loc2.GFID = attrs[i].GFID
			return d.lookupDir(ctx, &loc2, xreq)
		}
		if isLinkto(&attrs[i], xs[i]) {
			linkto = i
			continue
		}
		d.inode(attrs[i].GFID).setCached(i)
		if h >= 0 && h != i {
			var old *fop.Attr
			if h != skip && errs[h] == nil {
				old = &attrs[h]
			}
			if h == skip || fop.Errno(errs[h]) == syscall.ENOENT || old != nil {
				d.linkHashed(ctx, loc, h, i, &attrs[i], old, xs[h])
			}
		}
		return attrs[i], strip(xs[i], xreq, LinktoKey), nil
	}
	if linkto >= 0 {
		if a, x, err := d.followLinkto(ctx, loc, linkto, attrs[linkto].GFID, linktoTarget(xs[linkto]), xreq); err == nil {
			return a, x, nil
		}
		if retry {
			// The migration the linkto belonged to may have just
			// finished: its destination now holds the data.
			return d.lookupAll(ctx, loc, xreq, skip, h, hashedErr, false)
		}
		d.removeDanglingLinktos(ctx, loc, attrs, xs, errs)
	}
	if hashedErr != nil && fop.Errno(hashedErr) != syscall.ENOENT {
		return fop.Attr{}, nil, hashedErr
	}
	// The hashed child said no: a brick that is down does not keep new
	// names hashing elsewhere from being created.
	hashedNo := fop.Errno(hashedErr) == syscall.ENOENT
	for i, err := range errs {
		e := fop.Errno(err)
		if err != nil && e != syscall.ENOENT && !d.isDecommissioned(i) && !(hashedNo && e == syscall.ENOTCONN) {
			return fop.Attr{}, nil, err
		}
	}
	if retry && skip >= 0 && d.rebalanced(loc.Parent) {
		// The file may have moved onto the skipped (hashed) child
		// after it was asked: a rebalance touched this directory.
		return d.lookupAll(ctx, loc, xreq, -1, h, hashedErr, false)
	}
	return fop.Attr{}, nil, syscall.ENOENT
}

// rebalanced reports whether dir's cached layout was written by a
// rebalance, so files in it may be moving.
func (d *DHT) rebalanced(dir fop.GFID) bool {
	if dir.IsZero() {
		return false
	}
	in := d.inode(dir)
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.layout != nil && in.layout.Committed()
}

// lookupByGFID resolves an object from its GFID alone.
func (d *DHT) lookupByGFID(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	in := d.inode(loc.GFID)
	if in.isDir() || loc.GFID == fop.RootGFID {
		return d.lookupDir(ctx, loc, xreq)
	}
	if c := in.cachedChild(); c >= 0 && d.isUp(c) {
		a, x, err := d.children[c].Lookup(ctx, loc, withKey(xreq, LinktoKey))
		if err == nil && !a.IsDir() && !isLinkto(&a, x) {
			return a, strip(x, xreq, LinktoKey), nil
		}
	}
	return d.lookupEverywhere(ctx, loc, xreq, -1, -1, nil)
}

// lookupDir looks a directory up on every child, recreates it where it is
// missing (a brick that was down, a new brick), and repairs its layout
// when the ranges leave holes or overlap.
func (d *DHT) lookupDir(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	attrs := make([]fop.Attr, len(d.children))
	xs := make([]fop.Dict, len(d.children))
	errs := d.fanout(func(i int, c fop.Layer) error {
		if !d.isUp(i) {
			return errChildDown
		}
		var err error
		attrs[i], xs[i], err = c.Lookup(ctx, loc, withKey(xreq, LayoutKey))
		return err
	})
	ref := -1
	for i, err := range errs {
		if err == nil && attrs[i].IsDir() {
			if ref < 0 {
				ref = i
			}
			mergeDirTimes(&attrs[ref], &attrs[i])
		}
	}
	if ref < 0 {
		return fop.Attr{}, nil, firstErr(errs)
	}
	a := attrs[ref]
	for i, err := range errs {
		if fop.Errno(err) == syscall.ENOENT {
			if d.healMissingDir(ctx, loc, &a, i) == nil {
				errs[i] = nil
				attrs[i] = a
				xs[i] = nil
			}
		}
	}
	l := &Layout{Ranges: make([]Range, len(d.children))}
	for i, err := range errs {
		if err != nil || xs[i] == nil {
			continue
		}
		if b, ok := xs[i][LayoutKey]; ok {
			r, user, derr := DecodeRange(b)
			if derr != nil {
				d.log.Warn("bad layout xattr", "path", loc.Path, "child", d.names[i], "err", derr)
				continue
			}
			l.Ranges[i] = r
			l.User = l.User || user
		}
	}
	holes, overlaps := l.Anomalies()
	switch {
	case l.User || !d.allUp():
	case (holes > 0 || overlaps > 0) && !l.Committed():
		l = d.fixLayout(ctx, loc, &a, errs)
	case l.partial() && d.missesRange(l):
		// Made while a brick was down, which is back: give it its
		// range, moving as little as possible.
		l = d.healPartial(ctx, loc, &a, l)
	}
	in := d.inode(a.GFID)
	in.mu.Lock()
	in.dir = true
	in.layout = l
	in.mu.Unlock()
	return a, strip(xs[ref], xreq, LayoutKey), nil
}

// healMissingDir recreates directory a on child i with the same GFID,
// mode and owner. Only a named lookup can do it.
func (d *DHT) healMissingDir(ctx context.Context, loc *fop.Loc, a *fop.Attr, i int) error {
	if loc.Name == "" || loc.Parent.IsZero() {
		if loc.GFID != fop.RootGFID {
			return syscall.ENOENT
		}
	}
	loc2 := *loc
	loc2.GFID = a.GFID
	if _, _, err := d.children[i].Mkdir(ctx, &loc2, a.Mode&07777, 0, nil); err != nil && fop.Errno(err) != syscall.EEXIST {
		d.log.Warn("dir heal: mkdir failed", "path", loc.Path, "child", d.names[i], "err", err)
		return err
	}
	set := &fop.SetAttr{Valid: fop.SetUID | fop.SetGID | fop.SetMode, UID: a.UID, GID: a.GID, Mode: a.Mode & 07777}
	if _, err := d.children[i].Setattr(ctx, &fop.Loc{GFID: a.GFID, Path: loc.Path}, set); err != nil {
		d.log.Warn("dir heal: setattr failed", "path", loc.Path, "child", d.names[i], "err", err)
	}
	d.log.Info("dir healed", "path", loc.Path, "child", d.names[i])
	return nil
}

// fixLayout gives the directory a fresh layout over the children that have
// it and writes each child its range. The layout is not settled, not even
// for a new volume's root (its bricks may hold files already, and GlusterFS
// writes DHT_LAYOUT_HASH_INVALID there too, so the bytes match).
func (d *DHT) fixLayout(ctx context.Context, loc *fop.Loc, a *fop.Attr, errs []error) *Layout {
	has := make([]bool, len(d.children))
	use := d.layoutUse()
	for i, err := range errs {
		has[i] = err == nil
		use[i] = use[i] && has[i]
	}
	d.refreshDU(ctx)
	path := loc.Path
	if loc.GFID == fop.RootGFID || a.GFID == fop.RootGFID {
		path = "/"
	}
	if path == "" {
		path = a.GFID.String()
	}
	l := NewLayout(path, d.names, use, d.chunksSnapshot(), d.weighted, commitHashInvalid)
	d.writeLayoutErrs(ctx, a.GFID, l, has)
	d.log.Info("layout fixed", "path", path)
	return l
}

// missesRange reports whether a child that should take part has no range.
func (d *DHT) missesRange(l *Layout) bool {
	use := d.layoutUse()
	for i, r := range l.Ranges {
		if use[i] && !r.Set {
			return true
		}
	}
	return false
}

// healPartial relays out a directory over every child, keeping the ranges
// of those that had one where it can.
func (d *DHT) healPartial(ctx context.Context, loc *fop.Loc, a *fop.Attr, old *Layout) *Layout {
	path := loc.Path
	if a.GFID == fop.RootGFID {
		path = "/"
	}
	if path == "" {
		path = a.GFID.String()
	}
	d.refreshDU(ctx)
	// Ranges move, so files placed under the partial layout may sit off
	// their new hashed child: not a settled layout (see settled).
	l := NewLayout(path, d.names, d.layoutUse(), d.chunksSnapshot(), d.weighted, commitHashInvalid)
	maximizeOverlap(l, old, d.names)
	all := make([]bool, len(d.children))
	for i := range all {
		all[i] = true
	}
	if err := firstErr(d.writeLayoutErrs(ctx, a.GFID, l, all)); err != nil {
		return old
	}
	d.log.Info("layout healed for a returning brick", "path", path)
	return l
}

// writeLayoutErrs writes each child in use its range (a zero range for
// those without one) and returns each child's error.
func (d *DHT) writeLayoutErrs(ctx context.Context, g fop.GFID, l *Layout, use []bool) []error {
	return d.fanout(func(i int, c fop.Layer) error {
		if !use[i] {
			return nil
		}
		err := c.Setxattr(ctx, &fop.Loc{GFID: g}, fop.Dict{LayoutKey: EncodeRange(l.Ranges[i])}, 0)
		if err != nil {
			d.log.Warn("layout write failed", "gfid", g, "child", d.names[i], "err", err)
		}
		return err
	})
}

// layoutOf returns a directory's layout, looking the directory up if DHT
// has not seen it yet.
func (d *DHT) layoutOf(ctx context.Context, dir fop.GFID) (*Layout, error) {
	in := d.inode(dir)
	in.mu.Lock()
	l := in.layout
	in.mu.Unlock()
	if l != nil {
		return l, nil
	}
	if _, _, err := d.lookupDir(ctx, &fop.Loc{GFID: dir}, nil); err != nil {
		return nil, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.layout == nil {
		return nil, syscall.EIO
	}
	return in.layout, nil
}

// hashed returns the child a name in dir hashes to.
func (d *DHT) hashed(ctx context.Context, dir fop.GFID, name string) (int, error) {
	l, err := d.layoutOf(ctx, dir)
	if err != nil {
		return -1, err
	}
	hash := HashName(name)
	h := l.Search(hash)
	if h < 0 && !d.allUp() {
		return -1, syscall.ENOTCONN
	}
	if h < 0 {
		// See Lookup: the range before the hole takes the name; lookups
		// find it everywhere and the next rebalance moves it.
		if h = l.Preceding(hash); h < 0 {
			return -1, syscall.EIO
		}
	}
	return h, nil
}

func mergeDirTimes(dst, src *fop.Attr) {
	later := func(a, b fop.Timespec) fop.Timespec {
		if b.Sec > a.Sec || (b.Sec == a.Sec && b.Nsec > a.Nsec) {
			return b
		}
		return a
	}
	dst.Mtime = later(dst.Mtime, src.Mtime)
	dst.Ctime = later(dst.Ctime, src.Ctime)
	dst.Atime = later(dst.Atime, src.Atime)
}

// strip drops internal keys the caller did not ask for.
func strip(x, xreq fop.Dict, keys ...string) fop.Dict {
	for _, k := range keys {
		if _, asked := xreq[k]; !asked {
			delete(x, k)
		}
	}
	return x
}

func (in *inode) setCached(i int) {
	in.mu.Lock()
	in.cached = i
	in.dir = false
	in.mu.Unlock()
}

func (in *inode) cachedChild() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cached
}

func (in *inode) isDir() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.dir
}
