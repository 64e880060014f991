package gfapi

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"sync"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// File is an open file of a Volume, with the methods of *os.File that make
// sense on a volume. Its methods are safe for concurrent use.
type File struct {
	v    *Volume
	name string
	fd   *fop.FD

	mu     sync.Mutex
	off    int64
	closed bool
}

// Open opens name for reading.
func (v *Volume) Open(name string) (*File, error) {
	return v.OpenFile(name, syscall.O_RDONLY, 0)
}

// Create creates or truncates name, opened for reading and writing.
func (v *Volume) Create(name string) (*File, error) {
	return v.OpenFile(name, syscall.O_RDWR|syscall.O_CREAT|syscall.O_TRUNC, 0o666)
}

// OpenFile opens name with open(2) flags (os.O_RDONLY, os.O_CREATE...) and,
// when it creates the file, permissions perm.
func (v *Volume) OpenFile(name string, flag int, perm fs.FileMode) (*File, error) {
	ctx := v.ctx()
	// Resolution below applies O_NOFOLLOW; the layers get an object, not
	// a path, to open.
	flags := uint32(flag) &^ syscall.O_NOFOLLOW
	for {
		loc, a, err := v.resolve(ctx, name, flag&syscall.O_NOFOLLOW == 0)
		switch {
		case err == nil && flag&syscall.O_CREAT != 0 && flag&syscall.O_EXCL != 0:
			return nil, pathErr("open", name, syscall.EEXIST)
		case err == nil && a.Type() == syscall.S_IFLNK:
			return nil, pathErr("open", name, syscall.ELOOP)
		case err == nil:
			if a.IsDir() && flag&(syscall.O_WRONLY|syscall.O_RDWR) != 0 {
				return nil, pathErr("open", name, syscall.EISDIR)
			}
			fd := fop.NewFD(loc.GFID, flags&^(syscall.O_CREAT|syscall.O_EXCL))
			if err := v.top.Open(ctx, loc, fd.Flags, fd); err != nil {
				return nil, pathErr("open", name, err)
			}
			return &File{v: v, name: name, fd: fd}, nil
		case flag&syscall.O_CREAT == 0 || !errors.Is(err, syscall.ENOENT):
			return nil, pathErr("open", name, err)
		}
		ploc, err := v.parent(ctx, name)
		if err != nil {
			return nil, pathErr("open", name, err)
		}
		ploc.GFID = fop.NewGFID()
		fd := fop.NewFD(ploc.GFID, flags)
		_, _, err = v.top.Create(ctx, ploc, flags, unixMode(perm), 0, fd, nil)
		if errors.Is(err, syscall.EEXIST) && flag&syscall.O_EXCL == 0 {
			continue // created by someone else meanwhile: open theirs
		}
		if err != nil {
			return nil, pathErr("open", name, err)
		}
		return &File{v: v, name: name, fd: fd}, nil
	}
}

// Name returns the name the file was opened with.
func (f *File) Name() string { return f.name }

// checkLocked is check for callers that do not hold f.mu (positional
// I/O needs no offset, so it runs concurrently).
func (f *File) checkLocked(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.check(op)
}

// check fails on a closed file; f.mu is held.
func (f *File) check(op string) error {
	if f.closed {
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	}
	return nil
}

// Read reads from the current offset.
func (f *File) Read(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("read"); err != nil {
		return 0, err
	}
	n, err := f.readAt(b, f.off)
	f.off += int64(n)
	return n, err
}

// ReadAt reads len(b) bytes at off; fewer only at the end of the file
// (with io.EOF), as io.ReaderAt asks.
func (f *File) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, pathErr("read", f.name, syscall.EINVAL)
	}
	if err := f.checkLocked("read"); err != nil {
		return 0, err
	}
	return f.readAt(b, off)
}

func (f *File) readAt(b []byte, off int64) (int, error) {
	total := 0
	for total < len(b) {
		want := len(b) - total
		n, err := f.v.top.Read(f.v.ctx(), f.fd, b[total:], off+int64(total))
		total += n
		if err != nil {
			return total, pathErr("read", f.name, err)
		}
		if n < want {
			// A short read is the end of the file (fop.Layer's contract).
			return total, io.EOF
		}
	}
	return total, nil
}

// Write writes at the current offset (at the end with O_APPEND).
func (f *File) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("write"); err != nil {
		return 0, err
	}
	if f.fd.Flags&syscall.O_APPEND != 0 {
		a, err := f.v.top.Fstat(f.v.ctx(), f.fd)
		if err != nil {
			return 0, pathErr("write", f.name, err)
		}
		f.off = int64(a.Size)
	}
	n, err := f.writeAt(b, f.off)
	f.off += int64(n)
	return n, err
}

// WriteAt writes b at off.
func (f *File) WriteAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, pathErr("write", f.name, syscall.EINVAL)
	}
	if err := f.checkLocked("write"); err != nil {
		return 0, err
	}
	return f.writeAt(b, off)
}

func (f *File) writeAt(b []byte, off int64) (int, error) {
	total := 0
	for total < len(b) {
		n, _, err := f.v.top.Write(f.v.ctx(), f.fd, b[total:], off+int64(total))
		total += n
		if err != nil {
			return total, pathErr("write", f.name, err)
		}
		if n == 0 {
			return total, pathErr("write", f.name, io.ErrShortWrite)
		}
	}
	return total, nil
}

// Seek sets the offset for the next Read or Write, as io.Seeker.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("seek"); err != nil {
		return 0, err
	}
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = f.off
	case io.SeekEnd:
		a, err := f.v.top.Fstat(f.v.ctx(), f.fd)
		if err != nil {
			return 0, pathErr("seek", f.name, err)
		}
		base = int64(a.Size)
	default:
		return 0, pathErr("seek", f.name, syscall.EINVAL)
	}
	if base+offset < 0 {
		return 0, pathErr("seek", f.name, syscall.EINVAL)
	}
	f.off = base + offset
	return f.off, nil
}

// Truncate changes the file's size.
func (f *File) Truncate(size int64) error {
	if size < 0 {
		return pathErr("truncate", f.name, syscall.EINVAL)
	}
	_, err := f.v.top.Ftruncate(f.v.ctx(), f.fd, uint64(size))
	return pathErr("truncate", f.name, err)
}

// Sync makes the file's data and metadata durable on the bricks.
func (f *File) Sync() error {
	_, err := f.v.top.Fsync(f.v.ctx(), f.fd, false)
	return pathErr("sync", f.name, err)
}

// Stat returns the open file's attributes.
func (f *File) Stat() (fs.FileInfo, error) {
	a, err := f.v.top.Fstat(f.v.ctx(), f.fd)
	if err != nil {
		return nil, pathErr("stat", f.name, err)
	}
	return newFileInfo(path.Base(clean(f.name)), &a), nil
}

// Close flushes and releases the file. It reports a failed flush (data the
// layers held back and could not write).
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("close"); err != nil {
		return err
	}
	f.closed = true
	ctx := f.v.ctx()
	ferr := f.v.top.Flush(ctx, f.fd)
	rerr := f.v.top.Release(ctx, f.fd)
	if ferr != nil {
		return pathErr("close", f.name, ferr)
	}
	return pathErr("close", f.name, rerr)
}
