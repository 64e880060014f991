package dht

import (
	"context"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// linktoMode is a linkto file's mode: a regular file with only the sticky
// bit, as GlusterFS's DHT_LINKFILE_MODE.
const linktoMode = syscall.S_IFREG | syscall.S_ISVTX

// placeNew picks where a new file's data goes: its hashed child, or the
// roomiest child when the hashed one is below min-free-disk.
func (d *DHT) placeNew(ctx context.Context, loc *fop.Loc) (target, hashed int, err error) {
	h, err := d.hashed(ctx, loc.Parent, loc.Name)
	if err != nil {
		return -1, -1, err
	}
	if !d.isUp(h) {
		return -1, -1, syscall.ENOTCONN
	}
	d.refreshDU(ctx)
	if d.isDecommissioned(h) {
		// A layout from before remove-brick start: never add data to
		// a brick being emptied.
		if r := d.roomiest(); r >= 0 {
			return r, h, nil
		}
		return -1, -1, syscall.ENOSPC
	}
	if d.overFull(h) {
		if r := d.roomiest(); r >= 0 && r != h && !d.overFull(r) {
			return r, h, nil
		}
	}
	return h, h, nil
}

// makeLinkto creates on child h a linkto file for loc pointing at child
// target, with the placement check check (see withNewFile).
func (d *DHT) makeLinkto(ctx context.Context, h int, loc *fop.Loc, target int, check fop.Dict) error {
	x := fop.Dict{LinktoKey: append([]byte(d.names[target]), 0)}
	_, _, err := d.children[h].Mknod(ctx, loc, linktoMode, 0, 0, withXdata(x, check))
	if fop.Errno(err) == syscall.EEXIST {
		// A linkto already there (a retried rename): point it anew.
		err = d.children[h].Setxattr(ctx, loc, x, 0)
	}
	return err
}

// withNewFile runs create on the chosen child, with a linkto on the
// hashed child when the data goes elsewhere. Under lookup-optimize the
// call that makes the name on the hashed child (the file or its linkto)
// carries our copy of that child's layout range for the brick to check
// (placementCheck): a rebalance that laid the directory out anew since we
// read it makes the brick refuse with ESTALE before creating anything, and
// the file is placed again under the layout read afresh.
func (d *DHT) withNewFile(ctx context.Context, loc *fop.Loc, create func(c fop.Layer, xcheck fop.Dict) (fop.Attr, fop.Attr, error)) (int, fop.Attr, fop.Attr, error) {
	for attempt := 1; ; attempt++ {
		i, obj, parent, err := d.placeFile(ctx, loc, create)
		if fop.Errno(err) != syscall.ESTALE || attempt == maxPlacements {
			if fop.Errno(err) == syscall.ESTALE {
				d.log.Warn("parent layout keeps changing under a create", "path", loc.Path, "attempts", attempt)
				err = syscall.EIO
			}
			return i, obj, parent, err
		}
		if _, _, err := d.lookupDir(ctx, &fop.Loc{GFID: loc.Parent}, nil); err != nil {
			return -1, obj, parent, err
		}
	}
}

// maxPlacements bounds how often a create is placed again because the
// parent's layout changed under it.
const maxPlacements = 3

// placeFile is one attempt of withNewFile.
func (d *DHT) placeFile(ctx context.Context, loc *fop.Loc, create func(c fop.Layer, xcheck fop.Dict) (fop.Attr, fop.Attr, error)) (int, fop.Attr, fop.Attr, error) {
	l, err := d.layoutOf(ctx, loc.Parent)
	if err != nil {
		return -1, fop.Attr{}, fop.Attr{}, err
	}
	target, h, err := d.placeNew(ctx, loc)
	if err != nil {
		return -1, fop.Attr{}, fop.Attr{}, err
	}
	check := d.placementCheck(l, h)
	// No linkto on a brick being removed: lookups that miss there look
	// everywhere.
	linkto := target != h && !d.isDecommissioned(h)
	if linkto {
		if err := d.makeLinkto(ctx, h, loc, target, check); err != nil {
			return -1, fop.Attr{}, fop.Attr{}, err
		}
	}
	xcheck := check
	if target != h {
		xcheck = nil
	}
	obj, parent, err := create(d.children[target], xcheck)
	if err != nil {
		if linkto {
			_, _ = d.children[h].Unlink(ctx, loc)
		}
		return -1, obj, parent, err
	}
	d.inode(obj.GFID).setCached(target)
	return target, obj, parent, nil
}

// placementCheck is the xdata asking child h to check that it still has
// the range of layout l we placed a name by, or nil when lookup-optimize
// does not trust misses on it anyway.
func (d *DHT) placementCheck(l *Layout, h int) fop.Dict {
	if !d.trustsMisses() || l.User || h < 0 || h >= len(l.Ranges) {
		return nil
	}
	return fop.Dict{fop.PreopParentKey: []byte(LayoutKey), LayoutKey: EncodeRange(l.Ranges[h])}
}

// withXdata returns x with the entries of extra added (x itself when
// extra is empty).
func withXdata(x, extra fop.Dict) fop.Dict {
	if len(extra) == 0 {
		return x
	}
	out := make(fop.Dict, len(x)+len(extra))
	for k, v := range x {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// Create makes a regular file on its hashed child (see placeNew).
func (d *DHT) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	i, obj, parent, err := d.withNewFile(ctx, loc, func(c fop.Layer, xcheck fop.Dict) (fop.Attr, fop.Attr, error) {
		return c.Create(ctx, loc, flags, mode, umask, fd, withXdata(xdata, xcheck))
	})
	if err == nil {
		fd.SetCtx(d, newFileFD(i))
	}
	return obj, parent, err
}

// Mknod makes a special or regular file on its hashed child.
func (d *DHT) Mknod(ctx context.Context, loc *fop.Loc, mode, umask uint32, rdev uint64, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	_, obj, parent, err := d.withNewFile(ctx, loc, func(c fop.Layer, xcheck fop.Dict) (fop.Attr, fop.Attr, error) {
		return c.Mknod(ctx, loc, mode, umask, rdev, withXdata(xdata, xcheck))
	})
	return obj, parent, err
}

// Symlink makes a symlink on its hashed child.
func (d *DHT) Symlink(ctx context.Context, loc *fop.Loc, target string, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	_, obj, parent, err := d.withNewFile(ctx, loc, func(c fop.Layer, xcheck fop.Dict) (fop.Attr, fop.Attr, error) {
		return c.Symlink(ctx, loc, target, umask, withXdata(xdata, xcheck))
	})
	return obj, parent, err
}

// Mkdir creates the directory on its hashed child first (that one must
// succeed), then on every other child with the same GFID, each with its
// range of the new layout in the same call.
func (d *DHT) Mkdir(ctx context.Context, loc *fop.Loc, mode, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	h, err := d.hashed(ctx, loc.Parent, loc.Name)
	if err != nil {
		return fop.Attr{}, fop.Attr{}, err
	}
	if !d.isUp(h) {
		return fop.Attr{}, fop.Attr{}, syscall.ENOTCONN
	}
	d.refreshDU(ctx)
	use := d.layoutUse()
	commit := uint32(commitMkdir)
	if !d.allUp() {
		commit = commitPartial
	}
	l := NewLayout(dirPath(loc), d.names, use, d.chunksSnapshot(), d.weighted, commit)
	withRange := func(i int) fop.Dict {
		x := fop.Dict{}
		for k, v := range xdata {
			x[k] = v
		}
		x[LayoutKey] = EncodeRange(l.Ranges[i])
		return x
	}
	obj, parent, err := d.children[h].Mkdir(ctx, loc, mode, umask, withRange(h))
	if err != nil {
		return obj, parent, err
	}
	loc2 := *loc
	loc2.GFID = obj.GFID
	d.fanout(func(i int, c fop.Layer) error {
		if i == h || !d.isUp(i) {
			return nil
		}
		_, _, err := c.Mkdir(ctx, &loc2, mode, umask, withRange(i))
		if err != nil && fop.Errno(err) != syscall.EEXIST {
			d.log.Warn("mkdir on non-hashed child failed; lookup will heal it", "path", loc.Path, "child", d.names[i], "err", err)
		}
		return err
	})
	in := d.inode(obj.GFID)
	in.mu.Lock()
	in.dir, in.layout = true, l
	in.mu.Unlock()
	return obj, parent, nil
}

// resolve finds the object loc names, with DHT's view of it.
func (d *DHT) resolve(ctx context.Context, loc *fop.Loc) (fop.Attr, *inode, error) {
	a, _, err := d.Lookup(ctx, loc, nil)
	if err != nil {
		return a, nil, err
	}
	return a, d.inode(a.GFID), nil
}

// Unlink removes the data file and the linkto on the hashed child.
func (d *DHT) Unlink(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	a, in, err := d.resolve(ctx, loc)
	if err != nil {
		return fop.Attr{}, err
	}
	c := in.cachedChild()
	if a.IsDir() || c < 0 {
		return fop.Attr{}, syscall.EISDIR
	}
	parent, err := d.children[c].Unlink(ctx, loc)
	if err != nil {
		return parent, err
	}
	if h, herr := d.hashed(ctx, loc.Parent, loc.Name); herr == nil && h != c && d.isUp(h) {
		if _, lerr := d.children[h].Unlink(ctx, loc); lerr != nil && fop.Errno(lerr) != syscall.ENOENT {
			d.log.Warn("unlink of linkto failed", "path", loc.Path, "child", d.names[h], "err", lerr)
		}
	}
	return parent, nil
}

// Link makes the new name on the child holding the data, and a linkto at
// the new name's hashed child when that is another one.
func (d *DHT) Link(ctx context.Context, old, new *fop.Loc) (fop.Attr, fop.Attr, error) {
	_, in, err := d.resolve(ctx, old)
	if err != nil {
		return fop.Attr{}, fop.Attr{}, err
	}
	c := in.cachedChild()
	if c < 0 {
		return fop.Attr{}, fop.Attr{}, syscall.EPERM // directories
	}
	h, err := d.hashed(ctx, new.Parent, new.Name)
	if err != nil {
		return fop.Attr{}, fop.Attr{}, err
	}
	obj, parent, err := d.children[c].Link(ctx, old, new)
	if err != nil {
		return obj, parent, err
	}
	if h != c {
		if err := d.makeLinkto(ctx, h, &fop.Loc{Parent: new.Parent, Name: new.Name, Path: new.Path, GFID: obj.GFID}, c, nil); err != nil {
			d.log.Warn("linkto for hard link failed; lookup will find the file everywhere", "path", new.Path, "err", err)
		}
	}
	return obj, parent, nil
}

// Rmdir removes a directory from every child. Stale linkto files do not
// count as content and are removed with it.
func (d *DHT) Rmdir(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	a, _, err := d.resolve(ctx, loc)
	if err != nil {
		return fop.Attr{}, err
	}
	if !a.IsDir() {
		return fop.Attr{}, syscall.ENOTDIR
	}
	if !d.allUp() {
		// Removing it from some bricks only would resurrect it later.
		return fop.Attr{}, syscall.ENOTCONN
	}
	dirLoc := &fop.Loc{GFID: a.GFID, Path: loc.Path}
	errs := d.fanout(func(i int, c fop.Layer) error {
		return d.clearLinktos(ctx, c, dirLoc)
	})
	if err := firstErr(errs); err != nil {
		return fop.Attr{}, err
	}
	h, herr := d.hashed(ctx, loc.Parent, loc.Name)
	if herr != nil {
		h = 0
	}
	var parent fop.Attr
	errs = d.fanout(func(i int, c fop.Layer) error {
		if i == h {
			return nil
		}
		_, err := c.Rmdir(ctx, loc)
		if fop.Errno(err) == syscall.ENOENT {
			return nil
		}
		return err
	})
	if err := firstErr(errs); err != nil {
		// Someone created an entry meanwhile: put the directory back
		// where it was already removed.
		loc2 := *loc
		loc2.GFID = a.GFID
		for i, e := range errs {
			if e == nil && i != h {
				_ = d.healMissingDir(ctx, &loc2, &a, i)
			}
		}
		return fop.Attr{}, err
	}
	parent, err = d.children[h].Rmdir(ctx, loc)
	if err != nil {
		return parent, err
	}
	d.inodes.Delete(a.GFID)
	return parent, nil
}

// clearLinktos checks that dir holds nothing on child c but linkto files,
// and removes those; ENOTEMPTY otherwise.
func (d *DHT) clearLinktos(ctx context.Context, c fop.Layer, dir *fop.Loc) error {
	fd := fop.NewFD(dir.GFID, syscall.O_RDONLY)
	if err := c.Opendir(ctx, dir, fd); err != nil {
		if fop.Errno(err) == syscall.ENOENT {
			return nil
		}
		return err
	}
	defer c.Releasedir(ctx, fd)
	var off uint64
	var linktos []string
	for {
		ents, err := c.Readdir(ctx, fd, off, 256, true, fop.Dict{LinktoKey: nil})
		if err != nil {
			return err
		}
		if len(ents) == 0 {
			break
		}
		for _, e := range ents {
			off = e.Off
			if e.Name == "." || e.Name == ".." {
				continue
			}
			if e.Attr == nil || !isLinkto(e.Attr, e.Xattrs) {
				return syscall.ENOTEMPTY
			}
			linktos = append(linktos, e.Name)
		}
	}
	for _, name := range linktos {
		if _, err := c.Unlink(ctx, &fop.Loc{Parent: dir.GFID, Name: name}); err != nil && fop.Errno(err) != syscall.ENOENT {
			return err
		}
	}
	return nil
}

// Rename moves a directory on every child, or a file on the child holding
// its data, keeping a linkto at the new name's hashed child.
func (d *DHT) Rename(ctx context.Context, old, new *fop.Loc, flags uint32) (fop.Attr, fop.Attr, fop.Attr, error) {
	src, in, err := d.resolve(ctx, old)
	if err != nil {
		return fop.Attr{}, fop.Attr{}, fop.Attr{}, err
	}
	if src.IsDir() {
		return d.renameDir(ctx, old, new, flags)
	}
	s := in.cachedChild()
	dstH, err := d.hashed(ctx, new.Parent, new.Name)
	if err != nil {
		return fop.Attr{}, fop.Attr{}, fop.Attr{}, err
	}
	srcH, _ := d.hashed(ctx, old.Parent, old.Name)
	dstData := -1
	if dst, din, derr := d.resolve(ctx, new); derr == nil {
		if flags&unix.RENAME_NOREPLACE != 0 {
			return fop.Attr{}, fop.Attr{}, fop.Attr{}, syscall.EEXIST
		}
		if dst.GFID == src.GFID {
			// Hard links to one file: rename(2) does nothing.
			return src, fop.Attr{}, fop.Attr{}, nil
		}
		if dst.IsDir() {
			return fop.Attr{}, fop.Attr{}, fop.Attr{}, syscall.EISDIR
		}
		dstData = din.cachedChild()
	}
	obj, op, np, err := d.children[s].Rename(ctx, old, new, flags)
	if err != nil {
		return obj, op, np, err
	}
	if dstData >= 0 && dstData != s {
		if _, err := d.children[dstData].Unlink(ctx, new); err != nil && fop.Errno(err) != syscall.ENOENT {
			d.log.Warn("rename: removing replaced file failed", "path", new.Path, "err", err)
		}
	}
	if dstH != s {
		if err := d.makeLinkto(ctx, dstH, &fop.Loc{Parent: new.Parent, Name: new.Name, Path: new.Path, GFID: src.GFID}, s, nil); err != nil {
			d.log.Warn("rename: linkto failed; lookup will find the file everywhere", "path", new.Path, "err", err)
		}
	}
	if srcH >= 0 && srcH != s && d.isUp(srcH) {
		if _, err := d.children[srcH].Unlink(ctx, old); err != nil && fop.Errno(err) != syscall.ENOENT {
			d.log.Warn("rename: removing old linkto failed", "path", old.Path, "err", err)
		}
	}
	return obj, op, np, nil
}

func (d *DHT) renameDir(ctx context.Context, old, new *fop.Loc, flags uint32) (fop.Attr, fop.Attr, fop.Attr, error) {
	if !d.allUp() {
		return fop.Attr{}, fop.Attr{}, fop.Attr{}, syscall.ENOTCONN
	}
	h, err := d.hashed(ctx, new.Parent, new.Name)
	if err != nil {
		return fop.Attr{}, fop.Attr{}, fop.Attr{}, err
	}
	obj, op, np, err := d.children[h].Rename(ctx, old, new, flags)
	if err != nil {
		return obj, op, np, err
	}
	d.fanout(func(i int, c fop.Layer) error {
		if i == h {
			return nil
		}
		_, _, _, err := c.Rename(ctx, old, new, flags)
		if err != nil && fop.Errno(err) != syscall.ENOENT {
			d.log.Warn("rename dir on non-hashed child failed", "from", old.Path, "to", new.Path, "child", d.names[i], "err", err)
		}
		return err
	})
	return obj, op, np, nil
}
