package posix

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Operations on an object by GFID. Directories use their cached fd, other
// objects an O_PATH fd of their handle; both with AT_EMPTY_PATH, so no
// path is walked and a symlink is never followed.

const emptyPathNoFollow = unix.AT_EMPTY_PATH | unix.AT_SYMLINK_NOFOLLOW

// Stat returns the attributes of loc. It is the commonest call by GFID,
// so a file is stat'ed through its handle without being opened.
func (p *Posix) Stat(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	if !loc.GFID.IsZero() && !p.dirs.has(loc.GFID) {
		if a, ok := p.statHandle(loc.GFID); ok {
			return a, nil
		}
	}
	o, err := p.object(loc)
	if err != nil {
		return fop.Attr{}, fail("stat", loc, err)
	}
	defer p.closeObject(o)
	a, err := statAt(o.g, o.fd, "")
	if err != nil {
		return a, fail("stat", loc, err)
	}
	return a, nil
}

// statHandle stats a non-directory through its handle; ok is false when
// the general path must answer (directories, missing handles, errors).
func (p *Posix) statHandle(g fop.GFID) (fop.Attr, bool) {
	hdir, name, err := p.hdirs.at(g, false)
	if err != nil {
		return fop.Attr{}, false
	}
	var st unix.Stat_t
	if unix.Fstatat(hdir, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || isDirHandle(&st) {
		return fop.Attr{}, false
	}
	return attrOf(g, &st), true
}

// Fstat returns the attributes of an open file or directory.
func (p *Posix) Fstat(ctx context.Context, fd *fop.FD) (fop.Attr, error) {
	h, err := p.fileOf(fd)
	if err != nil {
		return fop.Attr{}, failFD("fstat", fd, err)
	}
	a, err := statAt(h.g, h.fd, "")
	if err != nil {
		return a, failFD("fstat", fd, err)
	}
	return a, nil
}

// Setattr changes owner, mode and times as the caller.
func (p *Posix) Setattr(ctx context.Context, loc *fop.Loc, set *fop.SetAttr) (fop.Attr, error) {
	o, err := p.object(loc)
	if err != nil {
		return fop.Attr{}, fail("setattr", loc, err)
	}
	defer p.closeObject(o)
	a, err := p.setattr(ctx, o.g, o.fd, set)
	if err != nil {
		return a, fail("setattr", loc, err)
	}
	return a, nil
}

// Fsetattr is Setattr on an open FD.
func (p *Posix) Fsetattr(ctx context.Context, fd *fop.FD, set *fop.SetAttr) (fop.Attr, error) {
	h, err := p.fileOf(fd)
	if err != nil {
		return fop.Attr{}, failFD("fsetattr", fd, err)
	}
	a, err := p.setattr(ctx, h.g, h.fd, set)
	if err != nil {
		return a, failFD("fsetattr", fd, err)
	}
	return a, nil
}

// setattr applies set to fd: owner first (chown clears setuid bits), then
// mode, then times.
func (p *Posix) setattr(ctx context.Context, g fop.GFID, fd int, set *fop.SetAttr) (fop.Attr, error) {
	err := p.as(ctx, func() error {
		if set.Valid&(fop.SetUID|fop.SetGID) != 0 {
			uid, gid := -1, -1
			if set.Valid&fop.SetUID != 0 {
				uid = int(set.UID)
			}
			if set.Valid&fop.SetGID != 0 {
				gid = int(set.GID)
			}
			if err := unix.Fchownat(fd, "", uid, gid, emptyPathNoFollow); err != nil {
				return err
			}
		}
		if set.Valid&fop.SetMode != 0 {
			if err := fchmodat2(fd, "", set.Mode&0o7777, emptyPathNoFollow); err != nil {
				return err
			}
		}
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		setTime(&ts[0], set.Valid, fop.SetAtime, fop.SetAtimeNow, set.Atime)
		setTime(&ts[1], set.Valid, fop.SetMtime, fop.SetMtimeNow, set.Mtime)
		if ts[0].Nsec == unix.UTIME_OMIT && ts[1].Nsec == unix.UTIME_OMIT {
			return nil
		}
		return unix.UtimesNanoAt(fd, "", ts, emptyPathNoFollow)
	})
	if err != nil {
		return fop.Attr{}, err
	}
	return statAt(g, fd, "")
}

func setTime(ts *unix.Timespec, valid, bit, nowBit uint32, t fop.Timespec) {
	switch {
	case valid&nowBit != 0:
		ts.Nsec = unix.UTIME_NOW
	case valid&bit != 0:
		*ts = unix.Timespec{Sec: t.Sec, Nsec: int64(t.Nsec)}
	}
}

// Truncate sets a regular file's size, as the caller.
func (p *Posix) Truncate(ctx context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	o, err := p.object(loc)
	if err != nil {
		return fop.Attr{}, fail("truncate", loc, err)
	}
	defer p.closeObject(o)
	if err := regular(o); err != nil {
		return fop.Attr{}, fail("truncate", loc, err)
	}
	err = p.as(ctx, func() error {
		f, err := unix.Open(procPath(o.fd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(f)
		return unix.Ftruncate(f, int64(size))
	})
	if err != nil {
		return fop.Attr{}, fail("truncate", loc, err)
	}
	a, err := statAt(o.g, o.fd, "")
	if err != nil {
		return a, fail("truncate", loc, err)
	}
	return a, nil
}

// Ftruncate sets the size of an open file, as the caller.
func (p *Posix) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	h, err := p.fileOf(fd)
	if err != nil {
		return fop.Attr{}, failFD("ftruncate", fd, err)
	}
	if err := p.as(ctx, func() error { return unix.Ftruncate(h.fd, int64(size)) }); err != nil {
		return fop.Attr{}, failFD("ftruncate", fd, err)
	}
	a, err := statAt(h.g, h.fd, "")
	if err != nil {
		return a, failFD("ftruncate", fd, err)
	}
	return a, nil
}

// Access checks the caller's access (R_OK|W_OK|X_OK, or F_OK) to loc.
func (p *Posix) Access(ctx context.Context, loc *fop.Loc, mask uint32) error {
	o, err := p.object(loc)
	if err != nil {
		return fail("access", loc, err)
	}
	defer p.closeObject(o)
	err = p.as(ctx, func() error {
		return unix.Faccessat2(o.fd, "", mask, unix.AT_EMPTY_PATH|unix.AT_EACCESS)
	})
	if err != nil {
		return fail("access", loc, err)
	}
	return nil
}

// Readlink returns a symlink's target.
func (p *Posix) Readlink(ctx context.Context, loc *fop.Loc) (string, error) {
	o, err := p.object(loc)
	if err != nil {
		return "", fail("readlink", loc, err)
	}
	defer p.closeObject(o)
	if o.dir != nil {
		return "", fail("readlink", loc, unix.EINVAL)
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(o.fd, "", buf)
	if err == unix.ENOENT {
		err = unix.EINVAL // an O_PATH fd of a non-symlink
	}
	if err != nil {
		return "", fail("readlink", loc, err)
	}
	return string(buf[:n]), nil
}

// Statfs reports the brick file system's capacity.
func (p *Posix) Statfs(ctx context.Context, loc *fop.Loc) (fop.Statfs, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(p.root, &st); err != nil {
		return fop.Statfs{}, fail("statfs", loc, err)
	}
	return fop.Statfs{
		Bsize:   uint64(st.Bsize),
		Frsize:  uint64(st.Frsize),
		Blocks:  st.Blocks,
		Bfree:   st.Bfree,
		Bavail:  st.Bavail,
		Files:   st.Files,
		Ffree:   st.Ffree,
		Namemax: uint32(st.Namelen),
	}, nil
}

// Lk, Inodelk and Entrylk belong to features/locks, above posix; reaching
// here means the brick graph lacks it.

// Lk is not supported without features/locks.
func (p *Posix) Lk(ctx context.Context, fd *fop.FD, cmd int, lock *fop.Flock) (fop.Flock, error) {
	return fop.Flock{}, failFD("lk", fd, unix.EOPNOTSUPP)
}

// Inodelk is not supported without features/locks.
func (p *Posix) Inodelk(ctx context.Context, domain string, loc *fop.Loc, cmd int, lock *fop.Flock) error {
	return fail("inodelk", loc, unix.EOPNOTSUPP)
}

// Finodelk is not supported without features/locks.
func (p *Posix) Finodelk(ctx context.Context, domain string, fd *fop.FD, cmd int, lock *fop.Flock) error {
	return failFD("finodelk", fd, unix.EOPNOTSUPP)
}

// Entrylk is not supported without features/locks.
func (p *Posix) Entrylk(ctx context.Context, domain string, loc *fop.Loc, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	return fail("entrylk", loc, unix.EOPNOTSUPP)
}

// Fentrylk is not supported without features/locks.
func (p *Posix) Fentrylk(ctx context.Context, domain string, fd *fop.FD, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	return failFD("fentrylk", fd, unix.EOPNOTSUPP)
}
