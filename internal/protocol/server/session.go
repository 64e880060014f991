package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/rpc"
)

// session is one client connection: its identity, its fd table and the
// brick it talks to.
type session struct {
	srv       *Server
	brick     fop.Layer
	brickName string
	id        string // Caller.Client of every call; what locks are held by
	ip        string
	nc        net.Conn
	conf      *config
	log       *slog.Logger

	mu     sync.Mutex
	fds    map[uint64]openFD
	next   uint64
	notify func(*rpc.Notification) error // set once the connection is up
}

type openFD struct {
	fd  *fop.FD
	dir bool
}

func (s *session) add(fd *fop.FD, dir bool) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	s.fds[s.next] = openFD{fd, dir}
	return s.next
}

func (s *session) fd(n uint64) (*fop.FD, error) {
	s.mu.Lock()
	o, ok := s.fds[n]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("fd %d: %w", n, syscall.EBADF)
	}
	return o.fd, nil
}

func (s *session) remove(n uint64) (*fop.FD, error) {
	s.mu.Lock()
	o, ok := s.fds[n]
	delete(s.fds, n)
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("fd %d: %w", n, syscall.EBADF)
	}
	return o.fd, nil
}

// Close releases what the client left open and lets the layers below drop
// its locks.
func (s *session) Close() {
	s.srv.mu.Lock()
	delete(s.srv.sessions, s.id)
	s.srv.mu.Unlock()
	s.mu.Lock()
	fds := s.fds
	s.fds = nil
	s.mu.Unlock()
	ctx := fop.WithCaller(context.Background(), &fop.Caller{Client: s.id})
	for _, o := range fds {
		var err error
		if o.dir {
			err = s.brick.Releasedir(ctx, o.fd)
		} else {
			err = s.brick.Release(ctx, o.fd)
		}
		if err != nil {
			s.log.Debug("release on disconnect", "gfid", o.fd.GFID.String(), "err", err)
		}
	}
	if f, ok := s.brick.(fop.ClientForgetter); ok {
		f.ForgetClient(s.id)
	}
	s.log.Info("client gone", "client", s.id)
}

// Serve runs one call on the brick.
func (s *session) Serve(ctx context.Context, c *rpc.ServerCall) (err error) {
	caller := c.Caller
	caller.Client = s.id
	// Internal callers (self-heal, rebalance: identity zero, pid 0) are
	// trusted, as GlusterFS exempts its own processes from root-squash.
	if s.conf.rootSquash && caller.PID != 0 {
		if caller.UID == 0 {
			caller.UID = s.conf.anonUID
		}
		if caller.GID == 0 {
			caller.GID = s.conf.anonGID
		}
	}
	ctx = fop.WithCaller(ctx, &caller)
	l, r, out := s.brick, &c.Req, &c.Resp

	// Calls on an open fd find it first.
	var fd *fop.FD
	switch c.Proc {
	case rpc.ProcFstat, rpc.ProcFsetattr, rpc.ProcFtruncate, rpc.ProcRead, rpc.ProcWrite,
		rpc.ProcFlush, rpc.ProcFsync, rpc.ProcReaddir, rpc.ProcFsyncdir, rpc.ProcFgetxattr,
		rpc.ProcFsetxattr, rpc.ProcFremovexattr, rpc.ProcFxattrop, rpc.ProcLk, rpc.ProcFinodelk,
		rpc.ProcFentrylk, rpc.ProcFallocate, rpc.ProcDiscard, rpc.ProcZerofill, rpc.ProcSeek,
		rpc.ProcRchecksum:
		if fd, err = s.fd(r.FD); err != nil {
			return err
		}
	case rpc.ProcRelease, rpc.ProcReleasedir, rpc.ProcXattropRelease:
		if fd, err = s.remove(r.FD); err != nil {
			return err
		}
	}

	switch c.Proc {
	case rpc.ProcLookup:
		out.Attr, out.Dict, err = l.Lookup(ctx, &r.Loc, r.Dict)
	case rpc.ProcStat:
		out.Attr, err = l.Stat(ctx, &r.Loc)
	case rpc.ProcFstat:
		out.Attr, err = l.Fstat(ctx, fd)
	case rpc.ProcSetattr:
		out.Attr, err = l.Setattr(ctx, &r.Loc, &r.Set)
	case rpc.ProcFsetattr:
		out.Attr, err = l.Fsetattr(ctx, fd, &r.Set)
	case rpc.ProcTruncate:
		out.Attr, err = l.Truncate(ctx, &r.Loc, r.Size)
	case rpc.ProcFtruncate:
		out.Attr, err = l.Ftruncate(ctx, fd, r.Size)
	case rpc.ProcAccess:
		err = l.Access(ctx, &r.Loc, r.Mode)
	case rpc.ProcReadlink:
		out.Str, err = l.Readlink(ctx, &r.Loc)
	case rpc.ProcMknod:
		out.Attr, out.Parent, err = l.Mknod(ctx, &r.Loc, r.Mode, r.Umask, r.Rdev, r.Dict)
	case rpc.ProcMkdir:
		out.Attr, out.Parent, err = l.Mkdir(ctx, &r.Loc, r.Mode, r.Umask, r.Dict)
	case rpc.ProcSymlink:
		out.Attr, out.Parent, err = l.Symlink(ctx, &r.Loc, r.Target, r.Umask, r.Dict)
	case rpc.ProcCreate:
		nfd := fop.NewFD(r.FDGFID, r.Flags)
		out.Attr, out.Parent, err = l.Create(ctx, &r.Loc, r.Flags, r.Mode, r.Umask, nfd, r.Dict)
		if err == nil {
			out.FD = s.add(nfd, false)
		}
	case rpc.ProcLink:
		out.Attr, out.Parent, err = l.Link(ctx, &r.Loc, &r.Loc2)
	case rpc.ProcUnlink:
		out.Parent, err = l.Unlink(ctx, &r.Loc)
	case rpc.ProcRmdir:
		out.Parent, err = l.Rmdir(ctx, &r.Loc)
	case rpc.ProcRename:
		out.Attr, out.Parent, out.Parent2, err = l.Rename(ctx, &r.Loc, &r.Loc2, r.Flags)
	case rpc.ProcOpen:
		nfd := fop.NewFD(r.FDGFID, r.Flags)
		if err = l.Open(ctx, &r.Loc, r.Flags, nfd); err == nil {
			out.FD = s.add(nfd, false)
		}
	case rpc.ProcRead:
		if r.Size > rpc.MaxIO {
			return fmt.Errorf("read of %d bytes: %w", r.Size, syscall.EINVAL)
		}
		buf := c.ReadBuf(int(r.Size))
		var n int
		n, err = l.Read(ctx, fd, buf, r.Off)
		c.Data = buf[:n]
	case rpc.ProcWrite:
		var n int
		n, out.Attr, err = l.Write(ctx, fd, c.Payload, r.Off)
		out.N = uint64(n)
	case rpc.ProcFlush:
		err = l.Flush(ctx, fd)
	case rpc.ProcFsync:
		out.Attr, err = l.Fsync(ctx, fd, r.Datasync)
	case rpc.ProcRelease:
		err = l.Release(ctx, fd)
	case rpc.ProcXattropRelease:
		_, err = l.Xattrop(ctx, &fop.Loc{GFID: fd.GFID}, r.XattropOp, r.Dict)
		if rerr := l.Release(ctx, fd); err == nil {
			err = rerr
		}
	case rpc.ProcOpendir:
		nfd := fop.NewFD(r.FDGFID, 0)
		if err = l.Opendir(ctx, &r.Loc, nfd); err == nil {
			out.FD = s.add(nfd, true)
		}
	case rpc.ProcReaddir:
		limit := int(min(r.Max, rpc.MaxDirEntries))
		out.Entries, err = l.Readdir(ctx, fd, r.Cookie, limit, r.Plus, r.Dict)
		if len(out.Entries) > limit {
			out.Entries = out.Entries[:limit]
		}
	case rpc.ProcFsyncdir:
		err = l.Fsyncdir(ctx, fd, r.Datasync)
	case rpc.ProcReleasedir:
		err = l.Releasedir(ctx, fd)
	case rpc.ProcStatfs:
		out.Statfs, err = l.Statfs(ctx, &r.Loc)
	case rpc.ProcGetxattr:
		out.Dict, err = l.Getxattr(ctx, &r.Loc, r.Name)
	case rpc.ProcFgetxattr:
		out.Dict, err = l.Fgetxattr(ctx, fd, r.Name)
	case rpc.ProcSetxattr:
		err = l.Setxattr(ctx, &r.Loc, r.Dict, int(r.Flags))
	case rpc.ProcFsetxattr:
		err = l.Fsetxattr(ctx, fd, r.Dict, int(r.Flags))
	case rpc.ProcRemovexattr:
		err = l.Removexattr(ctx, &r.Loc, r.Name)
	case rpc.ProcFremovexattr:
		err = l.Fremovexattr(ctx, fd, r.Name)
	case rpc.ProcXattrop:
		out.Dict, err = l.Xattrop(ctx, &r.Loc, r.XattropOp, r.Dict)
	case rpc.ProcFxattrop:
		out.Dict, err = l.Fxattrop(ctx, fd, r.XattropOp, r.Dict)
	case rpc.ProcLk:
		out.Lock, err = l.Lk(ctx, fd, int(r.Cmd), &r.Lock)
	case rpc.ProcInodelk:
		err = l.Inodelk(ctx, r.Domain, &r.Loc, int(r.Cmd), &r.Lock)
	case rpc.ProcFinodelk:
		err = l.Finodelk(ctx, r.Domain, fd, int(r.Cmd), &r.Lock)
	case rpc.ProcEntrylk:
		err = l.Entrylk(ctx, r.Domain, &r.Loc, r.Name, r.EntryCmd, r.EntryType)
	case rpc.ProcFentrylk:
		err = l.Fentrylk(ctx, r.Domain, fd, r.Name, r.EntryCmd, r.EntryType)
	case rpc.ProcFallocate:
		out.Attr, err = l.Fallocate(ctx, fd, r.Mode, r.Off, r.Len)
	case rpc.ProcDiscard:
		out.Attr, err = l.Discard(ctx, fd, r.Off, r.Len)
	case rpc.ProcZerofill:
		out.Attr, err = l.Zerofill(ctx, fd, r.Off, r.Len)
	case rpc.ProcSeek:
		var off int64
		off, err = l.Seek(ctx, fd, r.Off, int(r.Cmd))
		out.N = uint64(off)
	case rpc.ProcRchecksum:
		var weak uint32
		weak, out.Strong, err = l.Rchecksum(ctx, fd, r.Off, uint32(r.Size))
		out.N = uint64(weak)
	default:
		return fmt.Errorf("procedure %s: %w", c.Proc, syscall.ENOSYS)
	}
	return err
}
