package fop

import "context"

// Layer is one node of a volume graph. Every method is one file operation;
// a layer that has nothing to add to an operation passes it to the layer
// below (see Base).
//
// Conventions: entry operations (Lookup by name, Mknod, Mkdir, Symlink,
// Create, Link, Unlink, Rmdir, Rename) use Loc.Parent and Loc.Name; the
// others use Loc.GFID. Calls that change an object return its attributes
// after the change; entry operations also return the parent's. A read that
// returns fewer bytes than asked has reached the end of the file.
type Layer interface {
	// Lookup resolves loc (by Parent+Name, or by GFID alone) and returns
	// the object's attributes and the values of the xattrs named in xreq.
	Lookup(ctx context.Context, loc *Loc, xreq Dict) (Attr, Dict, error)
	Stat(ctx context.Context, loc *Loc) (Attr, error)
	Fstat(ctx context.Context, fd *FD) (Attr, error)
	Setattr(ctx context.Context, loc *Loc, set *SetAttr) (Attr, error)
	Fsetattr(ctx context.Context, fd *FD, set *SetAttr) (Attr, error)
	Truncate(ctx context.Context, loc *Loc, size uint64) (Attr, error)
	Ftruncate(ctx context.Context, fd *FD, size uint64) (Attr, error)
	Access(ctx context.Context, loc *Loc, mask uint32) error
	Readlink(ctx context.Context, loc *Loc) (string, error)

	// Entry creation. xdata holds xattrs to set on the new object in the
	// same call (linkto, pending counters), so no second round trip.
	Mknod(ctx context.Context, loc *Loc, mode, umask uint32, rdev uint64, xdata Dict) (obj, parent Attr, err error)
	Mkdir(ctx context.Context, loc *Loc, mode, umask uint32, xdata Dict) (obj, parent Attr, err error)
	Symlink(ctx context.Context, loc *Loc, target string, umask uint32, xdata Dict) (obj, parent Attr, err error)
	Create(ctx context.Context, loc *Loc, flags, mode, umask uint32, fd *FD, xdata Dict) (obj, parent Attr, err error)
	Link(ctx context.Context, old, new *Loc) (obj, parent Attr, err error)
	Unlink(ctx context.Context, loc *Loc) (parent Attr, err error)
	Rmdir(ctx context.Context, loc *Loc) (parent Attr, err error)
	// Rename moves old to new; flags are renameat2's (RENAME_NOREPLACE...).
	Rename(ctx context.Context, old, new *Loc, flags uint32) (obj, oldParent, newParent Attr, err error)

	Open(ctx context.Context, loc *Loc, flags uint32, fd *FD) error
	Read(ctx context.Context, fd *FD, buf []byte, off int64) (int, error)
	Write(ctx context.Context, fd *FD, data []byte, off int64) (int, Attr, error)
	Flush(ctx context.Context, fd *FD) error
	Fsync(ctx context.Context, fd *FD, datasync bool) (Attr, error)
	// Release closes fd; the layer drops its state for it.
	Release(ctx context.Context, fd *FD) error

	Opendir(ctx context.Context, loc *Loc, fd *FD) error
	// Readdir returns up to max entries after the cookie off (0 = start).
	// With plus, each entry carries its attributes and the xattrs in xreq.
	Readdir(ctx context.Context, fd *FD, off uint64, max int, plus bool, xreq Dict) ([]DirEntry, error)
	Fsyncdir(ctx context.Context, fd *FD, datasync bool) error
	Releasedir(ctx context.Context, fd *FD) error

	Statfs(ctx context.Context, loc *Loc) (Statfs, error)

	// Getxattr with name "" returns every xattr the caller may see.
	Getxattr(ctx context.Context, loc *Loc, name string) (Dict, error)
	Fgetxattr(ctx context.Context, fd *FD, name string) (Dict, error)
	// Setxattr flags are setxattr(2)'s (XATTR_CREATE, XATTR_REPLACE).
	Setxattr(ctx context.Context, loc *Loc, xattrs Dict, flags int) error
	Fsetxattr(ctx context.Context, fd *FD, xattrs Dict, flags int) error
	Removexattr(ctx context.Context, loc *Loc, name string) error
	Fremovexattr(ctx context.Context, fd *FD, name string) error
	// Xattrop atomically updates xattr values (see XattropOp).
	Xattrop(ctx context.Context, loc *Loc, op XattropOp, xattrs Dict) (Dict, error)
	Fxattrop(ctx context.Context, fd *FD, op XattropOp, xattrs Dict) (Dict, error)

	// Lk is fcntl(2) byte-range locking (GetLk, SetLk, SetLkW) for the
	// caller's lock owner.
	Lk(ctx context.Context, fd *FD, cmd int, lock *Flock) (Flock, error)
	// Inodelk and Entrylk are the internal locks cluster layers take,
	// separate from applications' locks and named by domain.
	Inodelk(ctx context.Context, domain string, loc *Loc, cmd int, lock *Flock) error
	Finodelk(ctx context.Context, domain string, fd *FD, cmd int, lock *Flock) error
	Entrylk(ctx context.Context, domain string, loc *Loc, name string, cmd EntrylkCmd, typ EntrylkType) error
	Fentrylk(ctx context.Context, domain string, fd *FD, name string, cmd EntrylkCmd, typ EntrylkType) error

	// Fallocate mode is fallocate(2)'s.
	Fallocate(ctx context.Context, fd *FD, mode uint32, off, length int64) (Attr, error)
	Discard(ctx context.Context, fd *FD, off, length int64) (Attr, error)
	Zerofill(ctx context.Context, fd *FD, off, length int64) (Attr, error)
	// Seek answers SEEK_DATA and SEEK_HOLE.
	Seek(ctx context.Context, fd *FD, off int64, whence int) (int64, error)
	// Rchecksum returns a weak (Adler-32) and a strong (SHA-256) checksum
	// of length bytes at off, for heals that copy only what differs.
	Rchecksum(ctx context.Context, fd *FD, off int64, length uint32) (weak uint32, strong []byte, err error)
}
