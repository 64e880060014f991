package posix

import (
	"context"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

const (
	direntBufSize     = 32 << 10
	defaultReaddirMax = 1024
)

// openDir is posix's state of an open directory: its own fd (the kernel's
// position in it) and the getdents64 records read but not yet returned.
// Offsets are the file system's d_off cookies, so a listing resumes right
// after any entry it returned; reading on from where the last call stopped
// needs no seek at all.
type openDir struct {
	openFile
	root    bool // the brick root: .glusterfs is hidden
	mu      sync.Mutex
	buf     []byte
	pending []byte // unreturned records in buf
	pos     uint64 // cookie of the last record consumed
}

// Opendir opens a directory for reading, with the caller's read
// permission checked by the kernel.
func (p *Posix) Opendir(ctx context.Context, loc *fop.Loc, fd *fop.FD) error {
	o, err := p.object(loc)
	if err != nil {
		return fail("opendir", loc, err)
	}
	defer p.closeObject(o)
	if o.dir == nil {
		return fail("opendir", loc, unix.ENOTDIR)
	}
	var f int
	err = p.as(ctx, func() (err error) {
		f, err = unix.Open(procPath(o.fd), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return fail("opendir", loc, err)
	}
	p.bind(fd, o.g, &openDir{openFile: openFile{fd: f, g: o.g}, root: o.g == fop.RootGFID})
	return nil
}

func (p *Posix) dirOf(fd *fop.FD) (*openDir, error) {
	v, _ := fd.Ctx(p)
	d, ok := v.(*openDir)
	if !ok {
		return nil, unix.EBADF
	}
	return d, nil
}

// Readdir returns up to max entries after cookie off, "." and ".."
// included (as GlusterFS does), .glusterfs at the root hidden.
func (p *Posix) Readdir(ctx context.Context, fd *fop.FD, off uint64, max int, plus bool, xreq fop.Dict) ([]fop.DirEntry, error) {
	d, err := p.dirOf(fd)
	if err != nil {
		return nil, failFD("readdir", fd, err)
	}
	if max <= 0 {
		max = defaultReaddirMax
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.buf == nil {
		d.buf = make([]byte, direntBufSize)
	}
	if off != d.pos {
		if _, err := unix.Seek(d.fd, int64(off), unix.SEEK_SET); err != nil {
			return nil, failFD("readdir", fd, err)
		}
		d.pending, d.pos = nil, off
	}
	var out []fop.DirEntry
	for len(out) < max {
		if len(d.pending) == 0 {
			n, err := unix.Getdents(d.fd, d.buf)
			if err != nil {
				return out, failFD("readdir", fd, err)
			}
			if n == 0 {
				break
			}
			d.pending = d.buf[:n]
		}
		de, l := parseDirent(d.pending)
		if l == 0 {
			d.pending = nil
			continue
		}
		d.pending = d.pending[l:]
		d.pos = de.off
		if d.root && de.name == gfidDir {
			continue
		}
		var e fop.DirEntry
		ok := true
		if de.name == "." || de.name == ".." {
			e = p.dotEntry(d, &de, plus)
		} else {
			e, ok = p.dirEntry(d.fd, &de, plus, xreq)
		}
		if ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// dirEntry completes one record; ok is false if the entry vanished.
func (p *Posix) dirEntry(dirfd int, de *dirent, plus bool, xreq fop.Dict) (fop.DirEntry, bool) {
	e := fop.DirEntry{Name: de.name, Off: de.off, Ino: de.ino, Type: dtToMode(de.typ)}
	g, err := gfidAt(dirfd, de.name, unix.AT_SYMLINK_NOFOLLOW)
	if err == unix.ENOENT {
		return e, false
	}
	if err == nil {
		e.Ino = fop.InoOf(g)
	}
	if !plus {
		return e, true
	}
	a, err := statAt(g, dirfd, de.name)
	if err != nil {
		return e, false
	}
	e.Attr = &a
	e.Type = a.Type()
	e.Xattrs = requestedXattrs(dirfd, de.name, unix.AT_SYMLINK_NOFOLLOW, xreq)
	return e, true
}

// dotEntry describes "." or "..", by GFID: ".." of the root is the root,
// never the directory the brick sits in.
func (p *Posix) dotEntry(d *openDir, de *dirent, plus bool) fop.DirEntry {
	g := d.g
	if de.name == ".." && !d.root {
		if link, err := p.readHandle(d.g); err == nil {
			if parent, _, ok := parseDirHandle(link); ok {
				g = parent
			}
		}
	}
	e := fop.DirEntry{Name: de.name, Off: de.off, Ino: fop.InoOf(g), Type: unix.S_IFDIR}
	if !plus {
		return e
	}
	r, err := p.dir(g)
	if err != nil {
		return e
	}
	defer p.dirs.release(r)
	if a, err := statAt(g, r.fd, ""); err == nil {
		e.Attr = &a
	}
	return e
}

// Fsyncdir makes the directory's entries durable.
func (p *Posix) Fsyncdir(ctx context.Context, fd *fop.FD, datasync bool) error {
	d, err := p.dirOf(fd)
	if err != nil {
		return failFD("fsyncdir", fd, err)
	}
	if err := unix.Fsync(d.fd); err != nil {
		return failFD("fsyncdir", fd, err)
	}
	return nil
}

// Releasedir closes the directory fd.
func (p *Posix) Releasedir(ctx context.Context, fd *fop.FD) error {
	d, err := p.dirOf(fd)
	if err != nil {
		return failFD("releasedir", fd, err)
	}
	fd.DelCtx(p)
	if err := unix.Close(d.fd); err != nil {
		return failFD("releasedir", fd, err)
	}
	return nil
}
