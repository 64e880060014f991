package fuse

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Lookup resolves name in the directory header.NodeId.
func (fs *FS) Lookup(_ <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	dir := fs.begin(h.NodeId)
	if dir == nil {
		return fuse.ENOENT
	}
	loc := fs.inodes.entryLoc(dir, name)
	a, _, err := fs.top.Lookup(fs.ctx(h, 0), loc, nil)
	if err != nil {
		if fop.Errno(err) == syscall.ENOENT && fs.opts.NegativeTimeout > 0 {
			// Node id 0 with a timeout is a cached "no such entry".
			*out = fuse.EntryOut{}
			out.SetEntryTimeout(fs.opts.NegativeTimeout)
			return fuse.OK
		}
		return fs.status("lookup", loc, err)
	}
	return fs.entry(out, dir, name, &a)
}

// Forget drops the kernel's references to a node.
func (fs *FS) Forget(nodeID, nlookup uint64) {
	fs.inodes.forget(nodeID, nlookup)
}

// GetAttr stats a node, through its open file when the kernel names one.
func (fs *FS) GetAttr(_ <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	n := fs.begin(in.NodeId)
	if n == nil {
		return fuse.ENOENT
	}
	ctx := fs.ctx(&in.InHeader, 0)
	if in.Flags()&fuse.FUSE_GETATTR_FH != 0 {
		if fd := fs.handle(in.Fh()); fd != nil {
			a, err := fs.top.Fstat(ctx, fd)
			if err != nil {
				return fs.status("fstat", fs.inodes.loc(n), err)
			}
			fs.attrOut(out, &a)
			return fuse.OK
		}
	}
	loc := fs.inodes.loc(n)
	a, err := fs.top.Stat(ctx, loc)
	if err != nil {
		return fs.status("stat", loc, err)
	}
	fs.attrOut(out, &a)
	return fuse.OK
}

// SetAttr changes size (truncate) and the other attributes (setattr), on
// the open file when the kernel names one.
func (fs *FS) SetAttr(_ <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	n := fs.begin(in.NodeId)
	if n == nil {
		return fuse.ENOENT
	}
	ctx := fs.ctx(&in.InHeader, in.LockOwner)
	loc := fs.inodes.loc(n)
	var fd *fop.FD
	if fh, ok := in.GetFh(); ok {
		fd = fs.handle(fh)
	}
	var (
		a   fop.Attr
		err error
		set = setAttrOf(&in.SetAttrInCommon)
	)
	if size, ok := in.GetSize(); ok {
		if fd != nil {
			markWrote(fd)
			a, err = fs.top.Ftruncate(ctx, fd, size)
		} else {
			a, err = fs.top.Truncate(ctx, loc, size)
		}
		if err != nil {
			return fs.status("truncate", loc, err)
		}
	}
	if set.Valid != 0 {
		if fd != nil {
			a, err = fs.top.Fsetattr(ctx, fd, &set)
		} else {
			a, err = fs.top.Setattr(ctx, loc, &set)
		}
		if err != nil {
			return fs.status("setattr", loc, err)
		}
	}
	if in.Valid&(fuse.FATTR_SIZE|fuse.FATTR_MODE|fuse.FATTR_UID|fuse.FATTR_GID|fuse.FATTR_ATIME|fuse.FATTR_MTIME) == 0 {
		// Nothing we change (a bare ctime or kill-suid request): report
		// the current attributes.
		if a, err = fs.top.Stat(ctx, loc); err != nil {
			return fs.status("stat", loc, err)
		}
	}
	fs.attrOut(out, &a)
	return fuse.OK
}

// setAttrOf translates the kernel's setattr fields, size excepted.
func setAttrOf(in *fuse.SetAttrInCommon) fop.SetAttr {
	var s fop.SetAttr
	if m, ok := in.GetMode(); ok {
		s.Valid |= fop.SetMode
		s.Mode = m
	}
	if u, ok := in.GetUID(); ok {
		s.Valid |= fop.SetUID
		s.UID = u
	}
	if g, ok := in.GetGID(); ok {
		s.Valid |= fop.SetGID
		s.GID = g
	}
	if in.Valid&fuse.FATTR_ATIME != 0 {
		if in.Valid&fuse.FATTR_ATIME_NOW != 0 {
			s.Valid |= fop.SetAtimeNow
		} else {
			s.Valid |= fop.SetAtime
			s.Atime = fop.Timespec{Sec: int64(in.Atime), Nsec: in.Atimensec}
		}
	}
	if in.Valid&fuse.FATTR_MTIME != 0 {
		if in.Valid&fuse.FATTR_MTIME_NOW != 0 {
			s.Valid |= fop.SetMtimeNow
		} else {
			s.Valid |= fop.SetMtime
			s.Mtime = fop.Timespec{Sec: int64(in.Mtime), Nsec: in.Mtimensec}
		}
	}
	return s
}

// newEntry runs an operation that creates name in directory id: the new
// object's GFID is chosen here, so that every replica agrees on it.
func (fs *FS) newEntry(h *fuse.InHeader, name, op string, out *fuse.EntryOut,
	create func(ctx context.Context, loc *fop.Loc) (fop.Attr, error)) fuse.Status {
	dir := fs.begin(h.NodeId)
	if dir == nil {
		return fuse.ENOENT
	}
	loc := fs.inodes.entryLoc(dir, name)
	loc.GFID = fop.NewGFID()
	a, err := create(fs.ctx(h, 0), loc)
	if err != nil {
		return fs.status(op, loc, err)
	}
	return fs.entry(out, dir, name, &a)
}

// Mknod creates a device, fifo, socket or regular file.
func (fs *FS) Mknod(_ <-chan struct{}, in *fuse.MknodIn, name string, out *fuse.EntryOut) fuse.Status {
	st := fs.newEntry(&in.InHeader, name, "mknod", out, func(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
		a, _, err := fs.top.Mknod(ctx, loc, in.Mode, in.Umask, uint64(in.Rdev), nil)
		return a, err
	})
	if st == fuse.OK {
		fs.markCreated(out.NodeId)
	}
	return st
}

// Mkdir creates a directory.
func (fs *FS) Mkdir(_ <-chan struct{}, in *fuse.MkdirIn, name string, out *fuse.EntryOut) fuse.Status {
	return fs.newEntry(&in.InHeader, name, "mkdir", out, func(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
		a, _, err := fs.top.Mkdir(ctx, loc, in.Mode, in.Umask, nil)
		return a, err
	})
}

// Symlink creates linkName pointing to target.
func (fs *FS) Symlink(_ <-chan struct{}, h *fuse.InHeader, target, linkName string, out *fuse.EntryOut) fuse.Status {
	return fs.newEntry(h, linkName, "symlink", out, func(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
		a, _, err := fs.top.Symlink(ctx, loc, target, 0, nil)
		return a, err
	})
}

// Link adds name in directory in.NodeId for the node in.Oldnodeid.
func (fs *FS) Link(_ <-chan struct{}, in *fuse.LinkIn, name string, out *fuse.EntryOut) fuse.Status {
	dir := fs.begin(in.NodeId)
	old := fs.inodes.get(in.Oldnodeid)
	if dir == nil || old == nil {
		return fuse.ENOENT
	}
	oldLoc := fs.inodes.loc(old)
	newLoc := fs.inodes.entryLoc(dir, name)
	newLoc.GFID = old.gfid
	a, _, err := fs.top.Link(fs.ctx(&in.InHeader, 0), oldLoc, newLoc)
	if err != nil {
		return fs.status("link", newLoc, err)
	}
	return fs.entry(out, dir, name, &a)
}

// Unlink removes a non-directory entry.
func (fs *FS) Unlink(_ <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	dir := fs.begin(h.NodeId)
	if dir == nil {
		return fuse.ENOENT
	}
	loc := fs.inodes.entryLoc(dir, name)
	_, err := fs.top.Unlink(fs.ctx(h, 0), loc)
	return fs.status("unlink", loc, err)
}

// Rmdir removes an empty directory.
func (fs *FS) Rmdir(_ <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	dir := fs.begin(h.NodeId)
	if dir == nil {
		return fuse.ENOENT
	}
	loc := fs.inodes.entryLoc(dir, name)
	_, err := fs.top.Rmdir(fs.ctx(h, 0), loc)
	return fs.status("rmdir", loc, err)
}

// Rename moves oldName in in.NodeId to newName in in.Newdir.
func (fs *FS) Rename(_ <-chan struct{}, in *fuse.RenameIn, oldName, newName string) fuse.Status {
	oldDir := fs.begin(in.NodeId)
	newDir := fs.inodes.get(in.Newdir)
	if oldDir == nil || newDir == nil {
		return fuse.ENOENT
	}
	oldLoc := fs.inodes.entryLoc(oldDir, oldName)
	newLoc := fs.inodes.entryLoc(newDir, newName)
	obj, _, _, err := fs.top.Rename(fs.ctx(&in.InHeader, 0), oldLoc, newLoc, in.Flags)
	if err != nil {
		return fs.status("rename", oldLoc, err)
	}
	if !obj.GFID.IsZero() {
		fs.inodes.moved(obj.GFID, newDir, newName)
	}
	return fuse.OK
}

// Readlink returns a symlink's target.
func (fs *FS) Readlink(_ <-chan struct{}, h *fuse.InHeader) ([]byte, fuse.Status) {
	n := fs.begin(h.NodeId)
	if n == nil {
		return nil, fuse.ENOENT
	}
	loc := fs.inodes.loc(n)
	t, err := fs.top.Readlink(fs.ctx(h, 0), loc)
	if err != nil {
		return nil, fs.status("readlink", loc, err)
	}
	return []byte(t), fuse.OK
}

// Access checks permissions as the caller (the bricks decide).
func (fs *FS) Access(_ <-chan struct{}, in *fuse.AccessIn) fuse.Status {
	n := fs.begin(in.NodeId)
	if n == nil {
		return fuse.ENOENT
	}
	loc := fs.inodes.loc(n)
	return fs.status("access", loc, fs.top.Access(fs.ctx(&in.InHeader, 0), loc, in.Mask))
}

// StatFs reports the volume's capacity.
func (fs *FS) StatFs(_ <-chan struct{}, h *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	n := fs.begin(h.NodeId)
	if n == nil {
		n = fs.inodes.root
	}
	loc := fs.inodes.loc(n)
	st, err := fs.top.Statfs(fs.ctx(h, 0), loc)
	if err != nil {
		return fs.status("statfs", loc, err)
	}
	*out = fuse.StatfsOut{
		Blocks:  st.Blocks,
		Bfree:   st.Bfree,
		Bavail:  st.Bavail,
		Files:   st.Files,
		Ffree:   st.Ffree,
		Bsize:   uint32(st.Bsize),
		NameLen: st.Namemax,
		Frsize:  uint32(st.Frsize),
	}
	return fuse.OK
}
