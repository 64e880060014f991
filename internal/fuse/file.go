package fuse

import (
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Create creates and opens a regular file.
func (fs *FS) Create(_ <-chan struct{}, in *fuse.CreateIn, name string, out *fuse.CreateOut) fuse.Status {
	dir := fs.begin(in.NodeId)
	if dir == nil {
		return fuse.ENOENT
	}
	loc := fs.inodes.entryLoc(dir, name)
	loc.GFID = fop.NewGFID()
	fd := fop.NewFD(loc.GFID, in.Flags)
	a, _, err := fs.top.Create(fs.ctx(&in.InHeader, 0), loc, in.Flags, in.Mode, in.Umask, fd, nil)
	if err != nil {
		return fs.status("create", loc, err)
	}
	if st := fs.entry(&out.EntryOut, dir, name, &a); st != fuse.OK {
		_ = fs.top.Release(fs.ctx(&in.InHeader, 0), fd)
		return st
	}
	fs.markCreated(out.NodeId)
	fs.openFile(&out.OpenOut, fd)
	return fuse.OK
}

// Open opens a node's file.
func (fs *FS) Open(_ <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	n := fs.begin(in.NodeId)
	if n == nil {
		return fuse.ENOENT
	}
	loc := fs.inodes.loc(n)
	// The kernel has resolved the path and applied O_NOFOLLOW, O_CREAT
	// and O_EXCL already; below they could only misfire (O_NOFOLLOW on a
	// brick's handle path).
	flags := in.Flags &^ (syscall.O_NOFOLLOW | syscall.O_CREAT | syscall.O_EXCL | syscall.O_NOCTTY)
	fd := fop.NewFD(n.gfid, flags)
	if err := fs.top.Open(fs.ctx(&in.InHeader, 0), loc, flags, fd); err != nil {
		return fs.status("open", loc, err)
	}
	fs.openFile(out, fd)
	return fuse.OK
}

// Read reads into buf, which go-fuse owns and sends back.
func (fs *FS) Read(_ <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	<-fs.ready
	fd := fs.handle(in.Fh)
	if fd == nil {
		return nil, fuse.EBADF
	}
	if int(in.Size) < len(buf) {
		buf = buf[:in.Size]
	}
	n, err := fs.top.Read(fs.ctx(&in.InHeader, in.LockOwner), fd, buf, int64(in.Offset))
	if err != nil {
		return nil, fs.status("read", &fop.Loc{GFID: fd.GFID}, err)
	}
	return fuse.ReadResultData(buf[:n]), fuse.OK
}

// Write writes data. The layers must not keep data after they return:
// go-fuse reuses the buffer for the next request.
func (fs *FS) Write(_ <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	<-fs.ready
	fd := fs.handle(in.Fh)
	if fd == nil {
		return 0, fuse.EBADF
	}
	markWrote(fd)
	n, _, err := fs.top.Write(fs.ctx(&in.InHeader, in.LockOwner), fd, data, int64(in.Offset))
	if err != nil {
		return 0, fs.status("write", &fop.Loc{GFID: fd.GFID}, err)
	}
	return uint32(n), fuse.OK
}

// Flush is close(2) of one descriptor: the layers release the POSIX locks
// of the closing lock owner and report errors of writes they held back.
// A descriptor that wrote nothing, on a file nobody locked through this
// mount, has nothing to flush: close(2) then costs no round trip to the
// bricks (the common open-read-close of small files).
func (fs *FS) Flush(_ <-chan struct{}, in *fuse.FlushIn) fuse.Status {
	<-fs.ready
	fd := fs.handle(in.Fh)
	if fd == nil {
		return fuse.EBADF
	}
	if !wrote(fd) && !fs.everLocked(fd.GFID) {
		return fuse.OK
	}
	return fs.status("flush", &fop.Loc{GFID: fd.GFID}, fs.top.Flush(fs.ctx(&in.InHeader, in.LockOwner), fd))
}

// wroteKey marks, in an FD's context, that data went through it.
type wroteKey struct{}

func markWrote(fd *fop.FD) {
	if _, ok := fd.Ctx(wroteKey{}); !ok {
		fd.SetCtx(wroteKey{}, true)
	}
}

func wrote(fd *fop.FD) bool {
	_, ok := fd.Ctx(wroteKey{})
	return ok
}

// Fsync makes the file's data (and metadata unless datasync) durable.
func (fs *FS) Fsync(_ <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	<-fs.ready
	fd := fs.handle(in.Fh)
	if fd == nil {
		return fuse.EBADF
	}
	_, err := fs.top.Fsync(fs.ctx(&in.InHeader, 0), fd, in.FsyncFlags&1 != 0)
	return fs.status("fsync", &fop.Loc{GFID: fd.GFID}, err)
}

// Release closes the file's last descriptor. The kernel does not wait for
// the answer, so neither need the layers (fop.WithDetached): write-behind
// finishes the release behind the file's queued writes, protocol/client
// does not wait for the brick's reply.
func (fs *FS) Release(_ <-chan struct{}, in *fuse.ReleaseIn) {
	fd, ok := fs.dropHandle(in.Fh).(*fop.FD)
	if !ok {
		return
	}
	if err := fs.top.Release(fop.WithDetached(fs.ctx(&in.InHeader, in.LockOwner)), fd); err != nil {
		fs.log.Warn("release failed", "gfid", fd.GFID, "err", err)
	}
}

// Lseek answers SEEK_DATA and SEEK_HOLE; the kernel handles the others.
func (fs *FS) Lseek(_ <-chan struct{}, in *fuse.LseekIn, out *fuse.LseekOut) fuse.Status {
	<-fs.ready
	fd := fs.handle(in.Fh)
	if fd == nil {
		return fuse.EBADF
	}
	off, err := fs.top.Seek(fs.ctx(&in.InHeader, 0), fd, int64(in.Offset), int(in.Whence))
	if err != nil {
		return fs.status("seek", &fop.Loc{GFID: fd.GFID}, err)
	}
	out.Offset = uint64(off)
	return fuse.OK
}

// Fallocate maps fallocate(2)'s modes to the layers' calls, as GlusterFS's
// bridge does: punching a hole is a discard, zeroing a range a zerofill.
func (fs *FS) Fallocate(_ <-chan struct{}, in *fuse.FallocateIn) fuse.Status {
	<-fs.ready
	fd := fs.handle(in.Fh)
	if fd == nil {
		return fuse.EBADF
	}
	markWrote(fd)
	ctx := fs.ctx(&in.InHeader, 0)
	off, length := int64(in.Offset), int64(in.Length)
	var err error
	switch {
	case in.Mode&unix.FALLOC_FL_PUNCH_HOLE != 0:
		_, err = fs.top.Discard(ctx, fd, off, length)
	case in.Mode&unix.FALLOC_FL_ZERO_RANGE != 0:
		_, err = fs.top.Zerofill(ctx, fd, off, length)
	default:
		_, err = fs.top.Fallocate(ctx, fd, in.Mode, off, length)
	}
	return fs.status("fallocate", &fop.Loc{GFID: fd.GFID}, err)
}
