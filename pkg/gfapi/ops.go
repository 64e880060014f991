package gfapi

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Stat returns the attributes of the object at name, following symlinks.
func (v *Volume) Stat(name string) (fs.FileInfo, error) {
	_, a, err := v.resolve(v.ctx(), name, true)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	// Named as asked, as os.Stat does, not after a symlink's target.
	return newFileInfo(path.Base(clean(name)), &a), nil
}

// Lstat is Stat that does not follow a final symlink.
func (v *Volume) Lstat(name string) (fs.FileInfo, error) {
	_, a, err := v.resolve(v.ctx(), name, false)
	if err != nil {
		return nil, pathErr("lstat", name, err)
	}
	return newFileInfo(path.Base(clean(name)), &a), nil
}

// Mkdir creates a directory.
func (v *Volume) Mkdir(name string, perm fs.FileMode) error {
	ctx := v.ctx()
	loc, err := v.parent(ctx, name)
	if err != nil {
		return pathErr("mkdir", name, err)
	}
	loc.GFID = fop.NewGFID()
	_, _, err = v.top.Mkdir(ctx, loc, unixMode(perm), 0, nil)
	return pathErr("mkdir", name, err)
}

// MkdirAll creates a directory and any missing parents, as os.MkdirAll.
func (v *Volume) MkdirAll(name string, perm fs.FileMode) error {
	p := clean(name)
	if fi, err := v.Stat(p); err == nil {
		if fi.IsDir() {
			return nil
		}
		return pathErr("mkdir", name, syscall.ENOTDIR)
	}
	if dir := path.Dir(p); dir != p {
		if err := v.MkdirAll(dir, perm); err != nil {
			return err
		}
	}
	err := v.Mkdir(p, perm)
	if errors.Is(err, fs.ErrExist) {
		// Someone else made it meanwhile; fine if it is a directory.
		if fi, serr := v.Stat(p); serr == nil && fi.IsDir() {
			return nil
		}
	}
	return err
}

// Remove removes a file or an empty directory.
func (v *Volume) Remove(name string) error {
	ctx := v.ctx()
	loc, err := v.parent(ctx, name)
	if err != nil {
		return pathErr("remove", name, err)
	}
	v.dirs.drop(loc)
	_, err = v.top.Unlink(ctx, loc)
	if e := fop.Errno(err); e == syscall.EISDIR || e == syscall.EPERM {
		// Unlink of a directory: EISDIR on Linux, EPERM by POSIX.
		if _, rerr := v.top.Rmdir(ctx, loc); fop.Errno(rerr) != syscall.ENOTDIR {
			err = rerr
		}
	}
	return pathErr("remove", name, err)
}

// Rmdir removes an empty directory.
func (v *Volume) Rmdir(name string) error {
	ctx := v.ctx()
	loc, err := v.parent(ctx, name)
	if err != nil {
		return pathErr("rmdir", name, err)
	}
	v.dirs.drop(loc)
	_, err = v.top.Rmdir(ctx, loc)
	return pathErr("rmdir", name, err)
}

// Rename moves oldname to newname, replacing newname if it exists.
func (v *Volume) Rename(oldname, newname string) error {
	ctx := v.ctx()
	oldLoc, err := v.parent(ctx, oldname)
	if err == nil {
		var newLoc *fop.Loc
		if newLoc, err = v.parent(ctx, newname); err == nil {
			v.dirs.drop(oldLoc)
			v.dirs.drop(newLoc)
			_, _, _, err = v.top.Rename(ctx, oldLoc, newLoc, 0)
		}
	}
	return linkErr("rename", oldname, newname, err)
}

// Link makes newname a hard link to oldname.
func (v *Volume) Link(oldname, newname string) error {
	ctx := v.ctx()
	oldLoc, _, err := v.resolve(ctx, oldname, false)
	if err == nil {
		var newLoc *fop.Loc
		if newLoc, err = v.parent(ctx, newname); err == nil {
			newLoc.GFID = oldLoc.GFID
			_, _, err = v.top.Link(ctx, oldLoc, newLoc)
		}
	}
	return linkErr("link", oldname, newname, err)
}

// Symlink makes newname a symbolic link to target.
func (v *Volume) Symlink(target, newname string) error {
	ctx := v.ctx()
	loc, err := v.parent(ctx, newname)
	if err == nil {
		loc.GFID = fop.NewGFID()
		_, _, err = v.top.Symlink(ctx, loc, target, 0, nil)
	}
	return linkErr("symlink", target, newname, err)
}

func linkErr(op, oldname, newname string, err error) error {
	if err == nil {
		return nil
	}
	return &os.LinkError{Op: op, Old: oldname, New: newname, Err: fop.Errno(err)}
}

// Readlink returns a symbolic link's target.
func (v *Volume) Readlink(name string) (string, error) {
	ctx := v.ctx()
	loc, _, err := v.resolve(ctx, name, false)
	if err != nil {
		return "", pathErr("readlink", name, err)
	}
	t, err := v.top.Readlink(ctx, loc)
	return t, pathErr("readlink", name, err)
}

// setattr resolves name (following symlinks) and changes its attributes.
func (v *Volume) setattr(op, name string, set *fop.SetAttr) error {
	ctx := v.ctx()
	loc, _, err := v.resolve(ctx, name, true)
	if err == nil {
		_, err = v.top.Setattr(ctx, loc, set)
	}
	return pathErr(op, name, err)
}

// Chmod changes the permission bits (and setuid, setgid, sticky).
func (v *Volume) Chmod(name string, mode fs.FileMode) error {
	return v.setattr("chmod", name, &fop.SetAttr{Valid: fop.SetMode, Mode: unixMode(mode)})
}

// Chown changes the owner; -1 leaves uid or gid as it is, as with os.Chown.
func (v *Volume) Chown(name string, uid, gid int) error {
	set := &fop.SetAttr{}
	if uid >= 0 {
		set.Valid |= fop.SetUID
		set.UID = uint32(uid)
	}
	if gid >= 0 {
		set.Valid |= fop.SetGID
		set.GID = uint32(gid)
	}
	return v.setattr("chown", name, set)
}

// Chtimes changes the access and modification times, as os.Chtimes: a
// zero time.Time leaves that time as it is.
func (v *Volume) Chtimes(name string, atime, mtime time.Time) error {
	set := &fop.SetAttr{}
	if !atime.IsZero() {
		set.Valid |= fop.SetAtime
		set.Atime = fop.TimespecOf(atime)
	}
	if !mtime.IsZero() {
		set.Valid |= fop.SetMtime
		set.Mtime = fop.TimespecOf(mtime)
	}
	return v.setattr("chtimes", name, set)
}

// Truncate changes a file's size.
func (v *Volume) Truncate(name string, size int64) error {
	if size < 0 {
		return pathErr("truncate", name, syscall.EINVAL)
	}
	ctx := v.ctx()
	loc, _, err := v.resolve(ctx, name, true)
	if err == nil {
		_, err = v.top.Truncate(ctx, loc, uint64(size))
	}
	return pathErr("truncate", name, err)
}

// internalXattr reports whether attr is the volume's own bookkeeping,
// which clients neither see nor change (as at the FUSE mount).
func internalXattr(attr string) bool { return strings.HasPrefix(attr, "trusted.") }

// Setxattr sets an extended attribute; flags are setxattr(2)'s.
func (v *Volume) Setxattr(name, attr string, data []byte, flags int) error {
	if internalXattr(attr) {
		return pathErr("setxattr", name, syscall.EPERM)
	}
	ctx := v.ctx()
	loc, _, err := v.resolve(ctx, name, true)
	if err == nil {
		err = v.top.Setxattr(ctx, loc, fop.Dict{attr: slices.Clone(data)}, flags)
	}
	return pathErr("setxattr", name, err)
}

// Getxattr returns an extended attribute's value.
func (v *Volume) Getxattr(name, attr string) ([]byte, error) {
	if internalXattr(attr) {
		return nil, pathErr("getxattr", name, syscall.ENODATA)
	}
	ctx := v.ctx()
	loc, _, err := v.resolve(ctx, name, true)
	if err != nil {
		return nil, pathErr("getxattr", name, err)
	}
	d, err := v.top.Getxattr(ctx, loc, attr)
	if err != nil {
		return nil, pathErr("getxattr", name, err)
	}
	val, ok := d[attr]
	if !ok {
		return nil, pathErr("getxattr", name, syscall.ENODATA)
	}
	return val, nil
}

// Removexattr removes an extended attribute.
func (v *Volume) Removexattr(name, attr string) error {
	if internalXattr(attr) {
		return pathErr("removexattr", name, syscall.EPERM)
	}
	ctx := v.ctx()
	loc, _, err := v.resolve(ctx, name, true)
	if err == nil {
		err = v.top.Removexattr(ctx, loc, attr)
	}
	return pathErr("removexattr", name, err)
}

// Listxattr returns the names of the extended attributes, sorted.
func (v *Volume) Listxattr(name string) ([]string, error) {
	ctx := v.ctx()
	loc, _, err := v.resolve(ctx, name, true)
	if err != nil {
		return nil, pathErr("listxattr", name, err)
	}
	d, err := v.top.Getxattr(ctx, loc, "")
	if err != nil {
		return nil, pathErr("listxattr", name, err)
	}
	names := make([]string, 0, len(d))
	for k := range d {
		if !internalXattr(k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names, nil
}

// readdirBatch is how many entries one Readdir call asks for.
const readdirBatch = 512

// ReadDir lists a directory sorted by name, as os.ReadDir; "." and ".."
// are left out.
func (v *Volume) ReadDir(name string) ([]fs.DirEntry, error) {
	ctx := v.ctx()
	loc, a, err := v.resolve(ctx, name, true)
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	if !a.IsDir() {
		return nil, pathErr("readdir", name, syscall.ENOTDIR)
	}
	fd := fop.NewFD(loc.GFID, syscall.O_RDONLY|syscall.O_DIRECTORY)
	if err := v.top.Opendir(ctx, loc, fd); err != nil {
		return nil, pathErr("readdir", name, err)
	}
	defer v.top.Releasedir(ctx, fd)
	var out []fs.DirEntry
	for off := uint64(0); ; {
		ents, err := v.top.Readdir(ctx, fd, off, readdirBatch, true, nil)
		if err != nil {
			return nil, pathErr("readdir", name, err)
		}
		if len(ents) == 0 {
			break
		}
		for i := range ents {
			e := &ents[i]
			if e.Name == "." || e.Name == ".." {
				continue
			}
			out = append(out, newDirEntry(e))
		}
		off = ents[len(ents)-1].Off
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// Statfs is a volume's capacity, as statvfs(2) reports it.
type Statfs struct {
	Bsize, Frsize         uint64
	Blocks, Bfree, Bavail uint64
	Files, Ffree          uint64
	Namemax               uint32
}

// Statfs reports the volume's capacity.
func (v *Volume) Statfs() (Statfs, error) {
	st, err := v.top.Statfs(v.ctx(), &fop.Loc{GFID: fop.RootGFID, Path: "/"})
	if err != nil {
		return Statfs{}, pathErr("statfs", "/", err)
	}
	return Statfs(st), nil
}
