package iostats

// Code below wraps every fop.Layer method the same way: time the call,
// pass it down, count it. Read, Write, Readdir, Open and Create also feed
// the byte and per-file counters.

import (
	"context"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Lookup counts the call and passes it on.
func (s *IOStats) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	start := time.Now()
	r0, r1, err := s.Next.Lookup(ctx, loc, xreq)
	s.done(opLookup, start, err)
	return r0, r1, err
}

// Stat counts the call and passes it on.
func (s *IOStats) Stat(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	start := time.Now()
	r0, err := s.Next.Stat(ctx, loc)
	s.done(opStat, start, err)
	return r0, err
}

// Fstat counts the call and passes it on.
func (s *IOStats) Fstat(ctx context.Context, fd *fop.FD) (fop.Attr, error) {
	start := time.Now()
	r0, err := s.Next.Fstat(ctx, fd)
	s.done(opFstat, start, err)
	return r0, err
}

// Setattr counts the call and passes it on.
func (s *IOStats) Setattr(ctx context.Context, loc *fop.Loc, set *fop.SetAttr) (fop.Attr, error) {
	start := time.Now()
	r0, err := s.Next.Setattr(ctx, loc, set)
	s.done(opSetattr, start, err)
	return r0, err
}

// Fsetattr counts the call and passes it on.
func (s *IOStats) Fsetattr(ctx context.Context, fd *fop.FD, set *fop.SetAttr) (fop.Attr, error) {
	start := time.Now()
	r0, err := s.Next.Fsetattr(ctx, fd, set)
	s.done(opFsetattr, start, err)
	return r0, err
}

// Truncate counts the call and passes it on.
func (s *IOStats) Truncate(ctx context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	start := time.Now()
	r0, err := s.Next.Truncate(ctx, loc, size)
	s.done(opTruncate, start, err)
	return r0, err
}

// Ftruncate counts the call and passes it on.
func (s *IOStats) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	start := time.Now()
	r0, err := s.Next.Ftruncate(ctx, fd, size)
	s.done(opFtruncate, start, err)
	return r0, err
}

// Access counts the call and passes it on.
func (s *IOStats) Access(ctx context.Context, loc *fop.Loc, mask uint32) error {
	start := time.Now()
	err := s.Next.Access(ctx, loc, mask)
	s.done(opAccess, start, err)
	return err
}

// Readlink counts the call and passes it on.
func (s *IOStats) Readlink(ctx context.Context, loc *fop.Loc) (string, error) {
	start := time.Now()
	r0, err := s.Next.Readlink(ctx, loc)
	s.done(opReadlink, start, err)
	return r0, err
}

// Mknod counts the call and passes it on.
func (s *IOStats) Mknod(ctx context.Context, loc *fop.Loc, mode, umask uint32, rdev uint64, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	start := time.Now()
	r0, r1, err := s.Next.Mknod(ctx, loc, mode, umask, rdev, xdata)
	s.done(opMknod, start, err)
	return r0, r1, err
}

// Mkdir counts the call and passes it on.
func (s *IOStats) Mkdir(ctx context.Context, loc *fop.Loc, mode, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	start := time.Now()
	r0, r1, err := s.Next.Mkdir(ctx, loc, mode, umask, xdata)
	s.done(opMkdir, start, err)
	return r0, r1, err
}

// Symlink counts the call and passes it on.
func (s *IOStats) Symlink(ctx context.Context, loc *fop.Loc, target string, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	start := time.Now()
	r0, r1, err := s.Next.Symlink(ctx, loc, target, umask, xdata)
	s.done(opSymlink, start, err)
	return r0, r1, err
}

// Create counts the call and passes it on.
func (s *IOStats) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	start := time.Now()
	r0, r1, err := s.Next.Create(ctx, loc, flags, mode, umask, fd, xdata)
	s.done(opCreate, start, err)
	s.created(loc, fd, err)
	return r0, r1, err
}

// Link counts the call and passes it on.
func (s *IOStats) Link(ctx context.Context, old, new *fop.Loc) (fop.Attr, fop.Attr, error) {
	start := time.Now()
	r0, r1, err := s.Next.Link(ctx, old, new)
	s.done(opLink, start, err)
	return r0, r1, err
}

// Unlink counts the call and passes it on.
func (s *IOStats) Unlink(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	start := time.Now()
	r0, err := s.Next.Unlink(ctx, loc)
	s.done(opUnlink, start, err)
	return r0, err
}

// Rmdir counts the call and passes it on.
func (s *IOStats) Rmdir(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	start := time.Now()
	r0, err := s.Next.Rmdir(ctx, loc)
	s.done(opRmdir, start, err)
	return r0, err
}

// Rename counts the call and passes it on.
func (s *IOStats) Rename(ctx context.Context, old, new *fop.Loc, flags uint32) (fop.Attr, fop.Attr, fop.Attr, error) {
	start := time.Now()
	r0, r1, r2, err := s.Next.Rename(ctx, old, new, flags)
	s.done(opRename, start, err)
	return r0, r1, r2, err
}

// Open counts the call and passes it on.
func (s *IOStats) Open(ctx context.Context, loc *fop.Loc, flags uint32, fd *fop.FD) error {
	start := time.Now()
	err := s.Next.Open(ctx, loc, flags, fd)
	s.done(opOpen, start, err)
	s.opened(loc, err)
	return err
}

// Read counts the call and passes it on.
func (s *IOStats) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	start := time.Now()
	r0, err := s.Next.Read(ctx, fd, buf, off)
	s.done(opRead, start, err)
	s.read(fd, r0)
	return r0, err
}

// Write counts the call and passes it on.
func (s *IOStats) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	start := time.Now()
	r0, r1, err := s.Next.Write(ctx, fd, data, off)
	s.done(opWrite, start, err)
	s.wrote(fd, r0)
	return r0, r1, err
}

// Flush counts the call and passes it on.
func (s *IOStats) Flush(ctx context.Context, fd *fop.FD) error {
	start := time.Now()
	err := s.Next.Flush(ctx, fd)
	s.done(opFlush, start, err)
	return err
}

// Fsync counts the call and passes it on.
func (s *IOStats) Fsync(ctx context.Context, fd *fop.FD, datasync bool) (fop.Attr, error) {
	start := time.Now()
	r0, err := s.Next.Fsync(ctx, fd, datasync)
	s.done(opFsync, start, err)
	return r0, err
}

// Release counts the call and passes it on.
func (s *IOStats) Release(ctx context.Context, fd *fop.FD) error {
	start := time.Now()
	err := s.Next.Release(ctx, fd)
	s.done(opRelease, start, err)
	return err
}

// Opendir counts the call and passes it on.
func (s *IOStats) Opendir(ctx context.Context, loc *fop.Loc, fd *fop.FD) error {
	start := time.Now()
	err := s.Next.Opendir(ctx, loc, fd)
	s.done(opOpendir, start, err)
	return err
}

// Readdir counts the call and passes it on.
func (s *IOStats) Readdir(ctx context.Context, fd *fop.FD, off uint64, max int, plus bool, xreq fop.Dict) ([]fop.DirEntry, error) {
	start := time.Now()
	r0, err := s.Next.Readdir(ctx, fd, off, max, plus, xreq)
	op := opReaddir
	if plus {
		op = opReaddirp
	}
	s.done(op, start, err)
	return r0, err
}

// Fsyncdir counts the call and passes it on.
func (s *IOStats) Fsyncdir(ctx context.Context, fd *fop.FD, datasync bool) error {
	start := time.Now()
	err := s.Next.Fsyncdir(ctx, fd, datasync)
	s.done(opFsyncdir, start, err)
	return err
}

// Releasedir counts the call and passes it on.
func (s *IOStats) Releasedir(ctx context.Context, fd *fop.FD) error {
	start := time.Now()
	err := s.Next.Releasedir(ctx, fd)
	s.done(opReleasedir, start, err)
	return err
}

// Statfs counts the call and passes it on.
func (s *IOStats) Statfs(ctx context.Context, loc *fop.Loc) (fop.Statfs, error) {
	start := time.Now()
	r0, err := s.Next.Statfs(ctx, loc)
	s.done(opStatfs, start, err)
	return r0, err
}

// Getxattr counts the call and passes it on.
func (s *IOStats) Getxattr(ctx context.Context, loc *fop.Loc, name string) (fop.Dict, error) {
	start := time.Now()
	r0, err := s.Next.Getxattr(ctx, loc, name)
	s.done(opGetxattr, start, err)
	return r0, err
}

// Fgetxattr counts the call and passes it on.
func (s *IOStats) Fgetxattr(ctx context.Context, fd *fop.FD, name string) (fop.Dict, error) {
	start := time.Now()
	r0, err := s.Next.Fgetxattr(ctx, fd, name)
	s.done(opFgetxattr, start, err)
	return r0, err
}

// Setxattr counts the call and passes it on.
func (s *IOStats) Setxattr(ctx context.Context, loc *fop.Loc, xattrs fop.Dict, flags int) error {
	start := time.Now()
	err := s.Next.Setxattr(ctx, loc, xattrs, flags)
	s.done(opSetxattr, start, err)
	return err
}

// Fsetxattr counts the call and passes it on.
func (s *IOStats) Fsetxattr(ctx context.Context, fd *fop.FD, xattrs fop.Dict, flags int) error {
	start := time.Now()
	err := s.Next.Fsetxattr(ctx, fd, xattrs, flags)
	s.done(opFsetxattr, start, err)
	return err
}

// Removexattr counts the call and passes it on.
func (s *IOStats) Removexattr(ctx context.Context, loc *fop.Loc, name string) error {
	start := time.Now()
	err := s.Next.Removexattr(ctx, loc, name)
	s.done(opRemovexattr, start, err)
	return err
}

// Fremovexattr counts the call and passes it on.
func (s *IOStats) Fremovexattr(ctx context.Context, fd *fop.FD, name string) error {
	start := time.Now()
	err := s.Next.Fremovexattr(ctx, fd, name)
	s.done(opFremovexattr, start, err)
	return err
}

// Xattrop counts the call and passes it on.
func (s *IOStats) Xattrop(ctx context.Context, loc *fop.Loc, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	start := time.Now()
	r0, err := s.Next.Xattrop(ctx, loc, op, xattrs)
	s.done(opXattrop, start, err)
	return r0, err
}

// Fxattrop counts the call and passes it on.
func (s *IOStats) Fxattrop(ctx context.Context, fd *fop.FD, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	start := time.Now()
	r0, err := s.Next.Fxattrop(ctx, fd, op, xattrs)
	s.done(opFxattrop, start, err)
	return r0, err
}

// Lk counts the call and passes it on.
func (s *IOStats) Lk(ctx context.Context, fd *fop.FD, cmd int, lock *fop.Flock) (fop.Flock, error) {
	start := time.Now()
	r0, err := s.Next.Lk(ctx, fd, cmd, lock)
	s.done(opLk, start, err)
	return r0, err
}

// Inodelk counts the call and passes it on.
func (s *IOStats) Inodelk(ctx context.Context, domain string, loc *fop.Loc, cmd int, lock *fop.Flock) error {
	start := time.Now()
	err := s.Next.Inodelk(ctx, domain, loc, cmd, lock)
	s.done(opInodelk, start, err)
	return err
}

// Finodelk counts the call and passes it on.
func (s *IOStats) Finodelk(ctx context.Context, domain string, fd *fop.FD, cmd int, lock *fop.Flock) error {
	start := time.Now()
	err := s.Next.Finodelk(ctx, domain, fd, cmd, lock)
	s.done(opFinodelk, start, err)
	return err
}

// Entrylk counts the call and passes it on.
func (s *IOStats) Entrylk(ctx context.Context, domain string, loc *fop.Loc, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	start := time.Now()
	err := s.Next.Entrylk(ctx, domain, loc, name, cmd, typ)
	s.done(opEntrylk, start, err)
	return err
}

// Fentrylk counts the call and passes it on.
func (s *IOStats) Fentrylk(ctx context.Context, domain string, fd *fop.FD, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	start := time.Now()
	err := s.Next.Fentrylk(ctx, domain, fd, name, cmd, typ)
	s.done(opFentrylk, start, err)
	return err
}

// Fallocate counts the call and passes it on.
func (s *IOStats) Fallocate(ctx context.Context, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	start := time.Now()
	r0, err := s.Next.Fallocate(ctx, fd, mode, off, length)
	s.done(opFallocate, start, err)
	return r0, err
}

// Discard counts the call and passes it on.
func (s *IOStats) Discard(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	start := time.Now()
	r0, err := s.Next.Discard(ctx, fd, off, length)
	s.done(opDiscard, start, err)
	return r0, err
}

// Zerofill counts the call and passes it on.
func (s *IOStats) Zerofill(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	start := time.Now()
	r0, err := s.Next.Zerofill(ctx, fd, off, length)
	s.done(opZerofill, start, err)
	return r0, err
}

// Seek counts the call and passes it on.
func (s *IOStats) Seek(ctx context.Context, fd *fop.FD, off int64, whence int) (int64, error) {
	start := time.Now()
	r0, err := s.Next.Seek(ctx, fd, off, whence)
	s.done(opSeek, start, err)
	return r0, err
}

// Rchecksum counts the call and passes it on.
func (s *IOStats) Rchecksum(ctx context.Context, fd *fop.FD, off int64, length uint32) (uint32, []byte, error) {
	start := time.Now()
	r0, r1, err := s.Next.Rchecksum(ctx, fd, off, length)
	s.done(opRchecksum, start, err)
	return r0, r1, err
}
