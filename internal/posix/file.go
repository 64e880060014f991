package posix

import (
	"context"
	"crypto/sha256"
	"hash/adler32"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// maxChecksumLen bounds one Rchecksum (heals ask for chunks, not files).
const maxChecksumLen = 64 << 20

// openFile is posix's state of an open FD: the brick fd. It is opened with
// the caller's rights and O_APPEND and friends kept, and keeps working
// after the file is unlinked.
type openFile struct {
	fd int
	g  fop.GFID
}

// bind records posix's state of an opened fd. The FD is shared by every
// replica a cluster layer opens it on: its GFID is written only when the
// caller left it unset, so parallel opens do not race.
func (p *Posix) bind(fd *fop.FD, g fop.GFID, state any) {
	if fd.GFID != g {
		fd.GFID = g
	}
	if f, ok := state.(*openFile); ok {
		p.openFiles.add(f)
	}
	fd.SetCtx(p, state)
}

// openFiles indexes the brick's open regular files by GFID, so that calls
// by GFID on a file whose last name (and so its handle) is gone keep
// working while it is open, as on a local file system.
type openFiles struct {
	mu sync.Mutex
	m  map[fop.GFID][]*openFile
}

func (o *openFiles) add(f *openFile) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = make(map[fop.GFID][]*openFile)
	}
	o.m[f.g] = append(o.m[f.g], f)
}

func (o *openFiles) remove(f *openFile) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fs := slices.DeleteFunc(o.m[f.g], func(x *openFile) bool { return x == f })
	if len(fs) == 0 {
		delete(o.m, f.g)
	} else {
		o.m[f.g] = fs
	}
}

// object returns an object for g backed by a duplicate of one of its open
// fds, or ENOENT.
func (o *openFiles) object(g fop.GFID) (*object, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fs := o.m[g]
	if len(fs) == 0 {
		return nil, unix.ENOENT
	}
	fd, err := unix.FcntlInt(uintptr(fs[0].fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return &object{g: g, fd: fd, hdir: -1}, nil
}

// fileOf returns posix's state of fd (file or directory).
func (p *Posix) fileOf(fd *fop.FD) (*openFile, error) {
	v, _ := fd.Ctx(p)
	switch h := v.(type) {
	case *openFile:
		return h, nil
	case *openDir:
		return &h.openFile, nil
	}
	return nil, unix.EBADF
}

// isDirFD reports whether fd is an opened directory.
func (p *Posix) isDirFD(fd *fop.FD) bool {
	v, _ := fd.Ctx(p)
	_, ok := v.(*openDir)
	return ok
}

// openFlags keeps the open(2) flags that matter on the brick fd. O_DIRECT
// is dropped: callers' buffers are not aligned for it.
func openFlags(flags uint32) int {
	drop := unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_DIRECT | unix.O_TMPFILE | unix.O_PATH
	return int(flags)&^drop | unix.O_CLOEXEC
}

// Open opens a regular file by GFID. The O_PATH fd of the handle is
// reopened through /proc as the caller, so the kernel checks the caller's
// access to the file (and truncates with O_TRUNC) exactly as open(2) does.
func (p *Posix) Open(ctx context.Context, loc *fop.Loc, flags uint32, fd *fop.FD) error {
	o, err := p.object(loc)
	if err != nil {
		return fail("open", loc, err)
	}
	defer p.closeObject(o)
	if err := regular(o); err != nil {
		return fail("open", loc, err)
	}
	var f int
	err = p.as(ctx, func() (err error) { f, err = unix.Open(procPath(o.fd), openFlags(flags), 0); return err })
	if err != nil {
		return fail("open", loc, err)
	}
	p.bind(fd, o.g, &openFile{fd: f, g: o.g})
	return nil
}

// regular refuses objects that are not regular files with the errno open
// would give.
func regular(o *object) error {
	if o.dir != nil {
		return unix.EISDIR
	}
	var st unix.Stat_t
	if err := unix.Fstat(o.fd, &st); err != nil {
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return nil
	case unix.S_IFLNK:
		return unix.ELOOP
	}
	return unix.ENXIO
}

// Read reads into buf at off; short only at end of file.
func (p *Posix) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	h, err := p.fileOf(fd)
	if err != nil {
		return 0, failFD("read", fd, err)
	}
	n := 0
	for n < len(buf) {
		m, err := unix.Pread(h.fd, buf[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, failFD("read", fd, err)
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

// Write writes data at off (at the end with O_APPEND) as the caller, so
// that the kernel clears setuid bits as it would locally.
func (p *Posix) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	h, err := p.fileOf(fd)
	if err != nil {
		return 0, fop.Attr{}, failFD("write", fd, err)
	}
	n := 0
	err = p.as(ctx, func() error {
		for n < len(data) {
			m, err := unix.Pwrite(h.fd, data[n:], off+int64(n))
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return err
			}
			n += m
		}
		return nil
	})
	if err != nil {
		return n, fop.Attr{}, failFD("write", fd, err)
	}
	a, err := statAt(h.g, h.fd, "")
	if err != nil {
		return n, a, failFD("write", fd, err)
	}
	return n, a, nil
}

// Flush has nothing to do on the brick: writes are not buffered here, and
// lock release on close is features/locks' job.
func (p *Posix) Flush(ctx context.Context, fd *fop.FD) error {
	if _, err := p.fileOf(fd); err != nil {
		return failFD("flush", fd, err)
	}
	return nil
}

// Fsync makes the file's data (and with !datasync its metadata) durable.
func (p *Posix) Fsync(ctx context.Context, fd *fop.FD, datasync bool) (fop.Attr, error) {
	h, err := p.fileOf(fd)
	if err != nil {
		return fop.Attr{}, failFD("fsync", fd, err)
	}
	if datasync {
		err = unix.Fdatasync(h.fd)
	} else {
		err = unix.Fsync(h.fd)
	}
	if err != nil {
		return fop.Attr{}, failFD("fsync", fd, err)
	}
	a, err := statAt(h.g, h.fd, "")
	if err != nil {
		return a, failFD("fsync", fd, err)
	}
	return a, nil
}

// Release closes the brick fd.
func (p *Posix) Release(ctx context.Context, fd *fop.FD) error {
	v, _ := fd.Ctx(p)
	h, ok := v.(*openFile)
	if !ok {
		return failFD("release", fd, unix.EBADF)
	}
	fd.DelCtx(p)
	p.openFiles.remove(h)
	if err := unix.Close(h.fd); err != nil {
		return failFD("release", fd, err)
	}
	return nil
}

// falloc runs fallocate(2) as the caller and returns the new attributes.
func (p *Posix) falloc(ctx context.Context, op string, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	h, err := p.fileOf(fd)
	if err != nil {
		return fop.Attr{}, failFD(op, fd, err)
	}
	if err := p.as(ctx, func() error { return unix.Fallocate(h.fd, mode, off, length) }); err != nil {
		return fop.Attr{}, failFD(op, fd, err)
	}
	a, err := statAt(h.g, h.fd, "")
	if err != nil {
		return a, failFD(op, fd, err)
	}
	return a, nil
}

// Fallocate is fallocate(2).
func (p *Posix) Fallocate(ctx context.Context, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	return p.falloc(ctx, "fallocate", fd, mode, off, length)
}

// Discard punches a hole, keeping the size.
func (p *Posix) Discard(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return p.falloc(ctx, "discard", fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, length)
}

// Zerofill makes the range read as zeros, extending the file if needed.
func (p *Posix) Zerofill(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return p.falloc(ctx, "zerofill", fd, unix.FALLOC_FL_ZERO_RANGE, off, length)
}

// Seek answers SEEK_DATA and SEEK_HOLE.
func (p *Posix) Seek(ctx context.Context, fd *fop.FD, off int64, whence int) (int64, error) {
	h, err := p.fileOf(fd)
	if err != nil {
		return 0, failFD("seek", fd, err)
	}
	if whence != unix.SEEK_DATA && whence != unix.SEEK_HOLE {
		return 0, failFD("seek", fd, unix.EINVAL)
	}
	pos, err := unix.Seek(h.fd, off, whence)
	if err != nil {
		return 0, failFD("seek", fd, err)
	}
	return pos, nil
}

// Rchecksum checksums length bytes at off (fewer at end of file).
func (p *Posix) Rchecksum(ctx context.Context, fd *fop.FD, off int64, length uint32) (uint32, []byte, error) {
	if length > maxChecksumLen {
		return 0, nil, failFD("rchecksum", fd, unix.EINVAL)
	}
	buf := make([]byte, length)
	n, err := p.Read(ctx, fd, buf, off)
	if err != nil {
		return 0, nil, err
	}
	strong := sha256.Sum256(buf[:n])
	return adler32.Checksum(buf[:n]), strong[:], nil
}
