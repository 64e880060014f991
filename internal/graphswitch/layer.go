package graphswitch

import (
	"context"
	"errors"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Every operation goes to the current graph, or to the graph its FD lives
// on, with the FD that graph knows; opens record the graph, releases end
// its use, locks keep an FD on its graph.

func (s *Switch) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Lookup(ctx, loc, xreq)
}

func (s *Switch) Stat(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Stat(ctx, loc)
}

func (s *Switch) Fstat(ctx context.Context, fd *fop.FD) (fop.Attr, error) {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Fstat(ctx, u.fd)
}

func (s *Switch) Setattr(ctx context.Context, loc *fop.Loc, set *fop.SetAttr) (fop.Attr, error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Setattr(ctx, loc, set)
}

func (s *Switch) Fsetattr(ctx context.Context, fd *fop.FD, set *fop.SetAttr) (fop.Attr, error) {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Fsetattr(ctx, u.fd, set)
}

func (s *Switch) Truncate(ctx context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Truncate(ctx, loc, size)
}

func (s *Switch) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Ftruncate(ctx, u.fd, size)
}

func (s *Switch) Access(ctx context.Context, loc *fop.Loc, mask uint32) error {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Access(ctx, loc, mask)
}

func (s *Switch) Readlink(ctx context.Context, loc *fop.Loc) (string, error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Readlink(ctx, loc)
}

func (s *Switch) Mknod(ctx context.Context, loc *fop.Loc, mode, umask uint32, rdev uint64, xdata fop.Dict) (obj, parent fop.Attr, err error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Mknod(ctx, loc, mode, umask, rdev, xdata)
}

func (s *Switch) Mkdir(ctx context.Context, loc *fop.Loc, mode, umask uint32, xdata fop.Dict) (obj, parent fop.Attr, err error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Mkdir(ctx, loc, mode, umask, xdata)
}

func (s *Switch) Symlink(ctx context.Context, loc *fop.Loc, target string, umask uint32, xdata fop.Dict) (obj, parent fop.Attr, err error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Symlink(ctx, loc, target, umask, xdata)
}

func (s *Switch) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (obj, parent fop.Attr, err error) {
	u := s.enter(nil)
	defer s.leave(u)
	obj, parent, err = u.g.top.Create(ctx, loc, flags, mode, umask, fd, xdata)
	if err == nil {
		s.opened(fd, u, flags, false)
	}
	return obj, parent, err
}

func (s *Switch) Link(ctx context.Context, old, new *fop.Loc) (obj, parent fop.Attr, err error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Link(ctx, old, new)
}

func (s *Switch) Unlink(ctx context.Context, loc *fop.Loc) (parent fop.Attr, err error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Unlink(ctx, loc)
}

func (s *Switch) Rmdir(ctx context.Context, loc *fop.Loc) (parent fop.Attr, err error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Rmdir(ctx, loc)
}

func (s *Switch) Rename(ctx context.Context, old, new *fop.Loc, flags uint32) (obj, oldParent, newParent fop.Attr, err error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Rename(ctx, old, new, flags)
}

func (s *Switch) Open(ctx context.Context, loc *fop.Loc, flags uint32, fd *fop.FD) error {
	u := s.enter(nil)
	defer s.leave(u)
	err := u.g.top.Open(ctx, loc, flags, fd)
	if err == nil {
		s.opened(fd, u, flags, false)
	}
	return err
}

func (s *Switch) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Read(ctx, u.fd, buf, off)
}

func (s *Switch) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Write(ctx, u.fd, data, off)
}

func (s *Switch) Flush(ctx context.Context, fd *fop.FD) error {
	u := s.enter(fd)
	defer s.leave(u)
	return errors.Join(u.takeDeferred(), u.g.top.Flush(ctx, u.fd))
}

func (s *Switch) Fsync(ctx context.Context, fd *fop.FD, datasync bool) (fop.Attr, error) {
	u := s.enter(fd)
	defer s.leave(u)
	a, err := u.g.top.Fsync(ctx, u.fd, datasync)
	if derr := u.takeDeferred(); derr != nil {
		return a, derr
	}
	return a, err
}

func (s *Switch) Release(ctx context.Context, fd *fop.FD) error {
	u := s.hold(fd, false)
	defer s.leave(u)
	err := u.g.top.Release(ctx, u.fd)
	s.closed(fd, u)
	return err
}

func (s *Switch) Opendir(ctx context.Context, loc *fop.Loc, fd *fop.FD) error {
	u := s.enter(nil)
	defer s.leave(u)
	err := u.g.top.Opendir(ctx, loc, fd)
	if err == nil {
		s.opened(fd, u, fd.Flags, true)
	}
	return err
}

func (s *Switch) Readdir(ctx context.Context, fd *fop.FD, off uint64, max int, plus bool, xreq fop.Dict) ([]fop.DirEntry, error) {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Readdir(ctx, u.fd, off, max, plus, xreq)
}

func (s *Switch) Fsyncdir(ctx context.Context, fd *fop.FD, datasync bool) error {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Fsyncdir(ctx, u.fd, datasync)
}

func (s *Switch) Releasedir(ctx context.Context, fd *fop.FD) error {
	u := s.hold(fd, false)
	defer s.leave(u)
	err := u.g.top.Releasedir(ctx, u.fd)
	s.closed(fd, u)
	return err
}

func (s *Switch) Statfs(ctx context.Context, loc *fop.Loc) (fop.Statfs, error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Statfs(ctx, loc)
}

func (s *Switch) Getxattr(ctx context.Context, loc *fop.Loc, name string) (fop.Dict, error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Getxattr(ctx, loc, name)
}

func (s *Switch) Fgetxattr(ctx context.Context, fd *fop.FD, name string) (fop.Dict, error) {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Fgetxattr(ctx, u.fd, name)
}

func (s *Switch) Setxattr(ctx context.Context, loc *fop.Loc, xattrs fop.Dict, flags int) error {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Setxattr(ctx, loc, xattrs, flags)
}

func (s *Switch) Fsetxattr(ctx context.Context, fd *fop.FD, xattrs fop.Dict, flags int) error {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Fsetxattr(ctx, u.fd, xattrs, flags)
}

func (s *Switch) Removexattr(ctx context.Context, loc *fop.Loc, name string) error {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Removexattr(ctx, loc, name)
}

func (s *Switch) Fremovexattr(ctx context.Context, fd *fop.FD, name string) error {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Fremovexattr(ctx, u.fd, name)
}

func (s *Switch) Xattrop(ctx context.Context, loc *fop.Loc, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Xattrop(ctx, loc, op, xattrs)
}

func (s *Switch) Fxattrop(ctx context.Context, fd *fop.FD, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Fxattrop(ctx, u.fd, op, xattrs)
}

func (s *Switch) Lk(ctx context.Context, fd *fop.FD, cmd int, lock *fop.Flock) (fop.Flock, error) {
	u := s.enter(fd)
	defer s.leave(u)
	if cmd != fop.GetLk {
		u.pin()
	}
	return u.g.top.Lk(ctx, u.fd, cmd, lock)
}

func (s *Switch) Inodelk(ctx context.Context, domain string, loc *fop.Loc, cmd int, lock *fop.Flock) error {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Inodelk(ctx, domain, loc, cmd, lock)
}

func (s *Switch) Finodelk(ctx context.Context, domain string, fd *fop.FD, cmd int, lock *fop.Flock) error {
	u := s.enter(fd)
	defer s.leave(u)
	u.pin()
	return u.g.top.Finodelk(ctx, domain, u.fd, cmd, lock)
}

func (s *Switch) Entrylk(ctx context.Context, domain string, loc *fop.Loc, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	u := s.enter(nil)
	defer s.leave(u)
	return u.g.top.Entrylk(ctx, domain, loc, name, cmd, typ)
}

func (s *Switch) Fentrylk(ctx context.Context, domain string, fd *fop.FD, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	u := s.enter(fd)
	defer s.leave(u)
	u.pin()
	return u.g.top.Fentrylk(ctx, domain, u.fd, name, cmd, typ)
}

func (s *Switch) Fallocate(ctx context.Context, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Fallocate(ctx, u.fd, mode, off, length)
}

func (s *Switch) Discard(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Discard(ctx, u.fd, off, length)
}

func (s *Switch) Zerofill(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Zerofill(ctx, u.fd, off, length)
}

func (s *Switch) Seek(ctx context.Context, fd *fop.FD, off int64, whence int) (int64, error) {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Seek(ctx, u.fd, off, whence)
}

func (s *Switch) Rchecksum(ctx context.Context, fd *fop.FD, off int64, length uint32) (weak uint32, strong []byte, err error) {
	u := s.enter(fd)
	defer s.leave(u)
	return u.g.top.Rchecksum(ctx, u.fd, off, length)
}
