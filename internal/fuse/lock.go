package fuse

import (
	"math"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// flockOf converts the kernel's [Start, End] range (End = max means to the
// end of the file) to a start and length (0 = to the end).
func flockOf(in *fuse.LkIn) fop.Flock {
	l := fop.Flock{Type: int16(in.Lk.Typ), Start: int64(in.Lk.Start), PID: in.Lk.Pid, Owner: in.Owner}
	if in.Lk.End < math.MaxInt64 {
		l.Len = int64(in.Lk.End-in.Lk.Start) + 1
	}
	return l
}

func fileLockOf(l *fop.Flock) fuse.FileLock {
	out := fuse.FileLock{Typ: uint32(l.Type), Start: uint64(l.Start), Pid: l.PID, End: math.MaxInt64}
	if l.Len > 0 {
		out.End = uint64(l.Start + l.Len - 1)
	}
	return out
}

// GetLk reports a lock that would block in.Lk, or F_UNLCK.
func (fs *FS) GetLk(_ <-chan struct{}, in *fuse.LkIn, out *fuse.LkOut) fuse.Status {
	<-fs.ready
	fd := fs.handle(in.Fh)
	if fd == nil {
		return fuse.EBADF
	}
	l := flockOf(in)
	got, err := fs.top.Lk(fs.ctx(&in.InHeader, in.Owner), fd, fop.GetLk, &l)
	if err != nil {
		return fs.status("getlk", &fop.Loc{GFID: fd.GFID}, err)
	}
	out.Lk = fileLockOf(&got)
	return fuse.OK
}

// SetLk takes or releases a lock without waiting.
func (fs *FS) SetLk(_ <-chan struct{}, in *fuse.LkIn) fuse.Status {
	return fs.setLk(nil, in, fop.SetLk)
}

// SetLkw waits for the lock until it is granted or the caller is
// interrupted by a signal.
func (fs *FS) SetLkw(cancel <-chan struct{}, in *fuse.LkIn) fuse.Status {
	return fs.setLk(cancel, in, fop.SetLkW)
}

func (fs *FS) setLk(cancel <-chan struct{}, in *fuse.LkIn, cmd int) fuse.Status {
	<-fs.ready
	fd := fs.handle(in.Fh)
	if fd == nil {
		return fuse.EBADF
	}
	l := flockOf(in)
	ctx := fs.ctx(&in.InHeader, in.Owner)
	if cancel != nil {
		ctx = cancelCtx{Context: ctx, cancel: cancel}
	}
	if l.Type != syscall.F_UNLCK {
		// Before the lock exists: a close racing with this call must
		// not skip the flush that releases it.
		fs.locked.Store(fd.GFID, struct{}{})
	}
	_, err := fs.top.Lk(ctx, fd, cmd, &l)
	if err != nil && ctx.Err() != nil {
		return fuse.EINTR
	}
	if fop.Errno(err) == syscall.EACCES {
		// fcntl reports a conflicting lock as EAGAIN.
		return fuse.EAGAIN
	}
	return fs.status("setlk", &fop.Loc{GFID: fd.GFID}, err)
}

// everLocked reports whether a lock was ever asked for on g through this
// mount; its descriptors' closes must then reach the layers.
func (fs *FS) everLocked(g fop.GFID) bool {
	_, ok := fs.locked.Load(g)
	return ok
}
