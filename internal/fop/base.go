package fop

import "context"

// Base passes every operation to Next. Layers embed it and override only the
// operations they change, as GlusterFS translators fall back to default fops.
type Base struct {
	Next Layer
}

var _ Layer = Base{}

// Lookup passes the call to Next.
func (b Base) Lookup(ctx context.Context, loc *Loc, xreq Dict) (Attr, Dict, error) {
	return b.Next.Lookup(ctx, loc, xreq)
}

// Stat passes the call to Next.
func (b Base) Stat(ctx context.Context, loc *Loc) (Attr, error) {
	return b.Next.Stat(ctx, loc)
}

// Fstat passes the call to Next.
func (b Base) Fstat(ctx context.Context, fd *FD) (Attr, error) {
	return b.Next.Fstat(ctx, fd)
}

// Setattr passes the call to Next.
func (b Base) Setattr(ctx context.Context, loc *Loc, set *SetAttr) (Attr, error) {
	return b.Next.Setattr(ctx, loc, set)
}

// Fsetattr passes the call to Next.
func (b Base) Fsetattr(ctx context.Context, fd *FD, set *SetAttr) (Attr, error) {
	return b.Next.Fsetattr(ctx, fd, set)
}

// Truncate passes the call to Next.
func (b Base) Truncate(ctx context.Context, loc *Loc, size uint64) (Attr, error) {
	return b.Next.Truncate(ctx, loc, size)
}

// Ftruncate passes the call to Next.
func (b Base) Ftruncate(ctx context.Context, fd *FD, size uint64) (Attr, error) {
	return b.Next.Ftruncate(ctx, fd, size)
}

// Access passes the call to Next.
func (b Base) Access(ctx context.Context, loc *Loc, mask uint32) error {
	return b.Next.Access(ctx, loc, mask)
}

// Readlink passes the call to Next.
func (b Base) Readlink(ctx context.Context, loc *Loc) (string, error) {
	return b.Next.Readlink(ctx, loc)
}

// Mknod passes the call to Next.
func (b Base) Mknod(ctx context.Context, loc *Loc, mode, umask uint32, rdev uint64, xdata Dict) (obj, parent Attr, err error) {
	return b.Next.Mknod(ctx, loc, mode, umask, rdev, xdata)
}

// Mkdir passes the call to Next.
func (b Base) Mkdir(ctx context.Context, loc *Loc, mode, umask uint32, xdata Dict) (obj, parent Attr, err error) {
	return b.Next.Mkdir(ctx, loc, mode, umask, xdata)
}

// Symlink passes the call to Next.
func (b Base) Symlink(ctx context.Context, loc *Loc, target string, umask uint32, xdata Dict) (obj, parent Attr, err error) {
	return b.Next.Symlink(ctx, loc, target, umask, xdata)
}

// Create passes the call to Next.
func (b Base) Create(ctx context.Context, loc *Loc, flags, mode, umask uint32, fd *FD, xdata Dict) (obj, parent Attr, err error) {
	return b.Next.Create(ctx, loc, flags, mode, umask, fd, xdata)
}

// Link passes the call to Next.
func (b Base) Link(ctx context.Context, old, new *Loc) (obj, parent Attr, err error) {
	return b.Next.Link(ctx, old, new)
}

// Unlink passes the call to Next.
func (b Base) Unlink(ctx context.Context, loc *Loc) (parent Attr, err error) {
	return b.Next.Unlink(ctx, loc)
}

// Rmdir passes the call to Next.
func (b Base) Rmdir(ctx context.Context, loc *Loc) (parent Attr, err error) {
	return b.Next.Rmdir(ctx, loc)
}

// Rename passes the call to Next.
func (b Base) Rename(ctx context.Context, old, new *Loc, flags uint32) (obj, oldParent, newParent Attr, err error) {
	return b.Next.Rename(ctx, old, new, flags)
}

// Open passes the call to Next.
func (b Base) Open(ctx context.Context, loc *Loc, flags uint32, fd *FD) error {
	return b.Next.Open(ctx, loc, flags, fd)
}

// Read passes the call to Next.
func (b Base) Read(ctx context.Context, fd *FD, buf []byte, off int64) (int, error) {
	return b.Next.Read(ctx, fd, buf, off)
}

// Write passes the call to Next.
func (b Base) Write(ctx context.Context, fd *FD, data []byte, off int64) (int, Attr, error) {
	return b.Next.Write(ctx, fd, data, off)
}

// Flush passes the call to Next.
func (b Base) Flush(ctx context.Context, fd *FD) error {
	return b.Next.Flush(ctx, fd)
}

// Fsync passes the call to Next.
func (b Base) Fsync(ctx context.Context, fd *FD, datasync bool) (Attr, error) {
	return b.Next.Fsync(ctx, fd, datasync)
}

// Release passes the call to Next.
func (b Base) Release(ctx context.Context, fd *FD) error {
	return b.Next.Release(ctx, fd)
}

// Opendir passes the call to Next.
func (b Base) Opendir(ctx context.Context, loc *Loc, fd *FD) error {
	return b.Next.Opendir(ctx, loc, fd)
}

// Readdir passes the call to Next.
func (b Base) Readdir(ctx context.Context, fd *FD, off uint64, max int, plus bool, xreq Dict) ([]DirEntry, error) {
	return b.Next.Readdir(ctx, fd, off, max, plus, xreq)
}

// Fsyncdir passes the call to Next.
func (b Base) Fsyncdir(ctx context.Context, fd *FD, datasync bool) error {
	return b.Next.Fsyncdir(ctx, fd, datasync)
}

// Releasedir passes the call to Next.
func (b Base) Releasedir(ctx context.Context, fd *FD) error {
	return b.Next.Releasedir(ctx, fd)
}

// Statfs passes the call to Next.
func (b Base) Statfs(ctx context.Context, loc *Loc) (Statfs, error) {
	return b.Next.Statfs(ctx, loc)
}

// Getxattr passes the call to Next.
func (b Base) Getxattr(ctx context.Context, loc *Loc, name string) (Dict, error) {
	return b.Next.Getxattr(ctx, loc, name)
}

// Fgetxattr passes the call to Next.
func (b Base) Fgetxattr(ctx context.Context, fd *FD, name string) (Dict, error) {
	return b.Next.Fgetxattr(ctx, fd, name)
}

// Setxattr passes the call to Next.
func (b Base) Setxattr(ctx context.Context, loc *Loc, xattrs Dict, flags int) error {
	return b.Next.Setxattr(ctx, loc, xattrs, flags)
}

// Fsetxattr passes the call to Next.
func (b Base) Fsetxattr(ctx context.Context, fd *FD, xattrs Dict, flags int) error {
	return b.Next.Fsetxattr(ctx, fd, xattrs, flags)
}

// Removexattr passes the call to Next.
func (b Base) Removexattr(ctx context.Context, loc *Loc, name string) error {
	return b.Next.Removexattr(ctx, loc, name)
}

// Fremovexattr passes the call to Next.
func (b Base) Fremovexattr(ctx context.Context, fd *FD, name string) error {
	return b.Next.Fremovexattr(ctx, fd, name)
}

// Xattrop passes the call to Next.
func (b Base) Xattrop(ctx context.Context, loc *Loc, op XattropOp, xattrs Dict) (Dict, error) {
	return b.Next.Xattrop(ctx, loc, op, xattrs)
}

// Fxattrop passes the call to Next.
func (b Base) Fxattrop(ctx context.Context, fd *FD, op XattropOp, xattrs Dict) (Dict, error) {
	return b.Next.Fxattrop(ctx, fd, op, xattrs)
}

// Lk passes the call to Next.
func (b Base) Lk(ctx context.Context, fd *FD, cmd int, lock *Flock) (Flock, error) {
	return b.Next.Lk(ctx, fd, cmd, lock)
}

// Inodelk passes the call to Next.
func (b Base) Inodelk(ctx context.Context, domain string, loc *Loc, cmd int, lock *Flock) error {
	return b.Next.Inodelk(ctx, domain, loc, cmd, lock)
}

// Finodelk passes the call to Next.
func (b Base) Finodelk(ctx context.Context, domain string, fd *FD, cmd int, lock *Flock) error {
	return b.Next.Finodelk(ctx, domain, fd, cmd, lock)
}

// Entrylk passes the call to Next.
func (b Base) Entrylk(ctx context.Context, domain string, loc *Loc, name string, cmd EntrylkCmd, typ EntrylkType) error {
	return b.Next.Entrylk(ctx, domain, loc, name, cmd, typ)
}

// Fentrylk passes the call to Next.
func (b Base) Fentrylk(ctx context.Context, domain string, fd *FD, name string, cmd EntrylkCmd, typ EntrylkType) error {
	return b.Next.Fentrylk(ctx, domain, fd, name, cmd, typ)
}

// Fallocate passes the call to Next.
func (b Base) Fallocate(ctx context.Context, fd *FD, mode uint32, off, length int64) (Attr, error) {
	return b.Next.Fallocate(ctx, fd, mode, off, length)
}

// Discard passes the call to Next.
func (b Base) Discard(ctx context.Context, fd *FD, off, length int64) (Attr, error) {
	return b.Next.Discard(ctx, fd, off, length)
}

// Zerofill passes the call to Next.
func (b Base) Zerofill(ctx context.Context, fd *FD, off, length int64) (Attr, error) {
	return b.Next.Zerofill(ctx, fd, off, length)
}

// Seek passes the call to Next.
func (b Base) Seek(ctx context.Context, fd *FD, off int64, whence int) (int64, error) {
	return b.Next.Seek(ctx, fd, off, whence)
}

// Rchecksum passes the call to Next.
func (b Base) Rchecksum(ctx context.Context, fd *FD, off int64, length uint32) (weak uint32, strong []byte, err error) {
	return b.Next.Rchecksum(ctx, fd, off, length)
}
