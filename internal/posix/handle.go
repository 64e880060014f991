package posix

import (
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// GlusterFS's handle space: .glusterfs/xx/yy/<gfid>, where xx and yy are
// the first two bytes of the GFID in hex. Files (and symlinks and special
// files) have a hard link there; directories a relative symlink
// "../../pp/qq/<parent-gfid>/<basename>"; the root "../../..".

const (
	gfidDir        = ".glusterfs"
	rootHandleLink = "../../.."
	maxDirDepth    = 4096 // deeper handle chains are loops (tampering)
)

func handleParts(g fop.GFID) (xx, yy, name string) {
	return hexByte(g[0]), hexByte(g[1]), g.String()
}

// dirHandleTarget is the symlink a directory's handle holds.
func dirHandleTarget(parent fop.GFID, name string) string {
	xx, yy, pg := handleParts(parent)
	return "../../" + xx + "/" + yy + "/" + pg + "/" + name
}

// parseDirHandle reads a directory handle's target back.
func parseDirHandle(link string) (parent fop.GFID, name string, ok bool) {
	rest, found := strings.CutPrefix(link, "../../")
	if !found || len(rest) < 6+36+2 || rest[2] != '/' || rest[5] != '/' || rest[42] != '/' {
		return parent, "", false
	}
	parent, err := fop.ParseGFID(rest[6:42])
	if err != nil {
		return parent, "", false
	}
	xx, yy, _ := handleParts(parent)
	name = rest[43:]
	if rest[0:2] != xx || rest[3:5] != yy || validName(name) != nil {
		return parent, "", false
	}
	return parent, name, true
}

// validName refuses names that are not a single path component.
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return unix.EINVAL
	}
	if len(name) > 255 {
		return unix.ENAMETOOLONG
	}
	return nil
}

// readHandle returns the symlink target stored in g's handle.
func (p *Posix) readHandle(g fop.GFID) (string, error) {
	hdir, name, err := p.hdirs.at(g, false)
	if err != nil {
		return "", err
	}
	var buf [4096]byte
	n, err := unix.Readlinkat(hdir, name, buf[:])
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// dir borrows an fd of the directory g. The handle symlink chain is walked
// by hand, one cached parent at a time, so depth is not limited by the
// kernel's 40 symlinks and every step stays beneath the brick root.
func (p *Posix) dir(g fop.GFID) (*dirRef, error) {
	return p.dirDepth(g, 0)
}

func (p *Posix) dirDepth(g fop.GFID, depth int) (*dirRef, error) {
	if r := p.dirs.get(g); r != nil {
		return r, nil
	}
	if depth > maxDirDepth {
		return nil, unix.ELOOP
	}
	link, err := p.readHandle(g)
	if err == unix.EINVAL {
		return nil, unix.ENOTDIR // a hard link: not a directory
	}
	if err != nil {
		return nil, err
	}
	parent, name, ok := parseDirHandle(link)
	if !ok {
		return nil, unix.ENOTDIR
	}
	pr, err := p.dirDepth(parent, depth+1)
	if err != nil {
		return nil, err
	}
	fd, err := openBeneath(pr.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, true)
	p.dirs.release(pr)
	if err == unix.ELOOP {
		return nil, unix.ENOTDIR
	}
	if err != nil {
		return nil, err
	}
	// The handle names a place; make sure the directory there is g.
	if got, err := gfidAt(fd, "", unix.AT_EMPTY_PATH); err != nil || got != g {
		unix.Close(fd)
		return nil, unix.ENOENT
	}
	return p.dirs.add(g, fd), nil
}

// object is a resolved GFID: a borrowed directory fd, or for any other type
// an O_PATH fd of the object and where its handle is.
type object struct {
	g    fop.GFID
	fd   int
	dir  *dirRef
	hdir int    // the handle's directory, or -1
	name string // the handle's name in hdir
}

// at returns the dirfd, path and flags that name the object itself (never
// following a symlink) for the *xattrat calls, which refuse O_PATH fds.
func (o *object) at() (int, string, int) {
	if o.hdir < 0 { // a directory, or an unlinked file's open fd
		return o.fd, "", unix.AT_EMPTY_PATH
	}
	return o.hdir, o.name, unix.AT_SYMLINK_NOFOLLOW
}

func (p *Posix) closeObject(o *object) {
	if o.dir != nil {
		p.dirs.release(o.dir)
		return
	}
	unix.Close(o.fd)
	if o.hdir >= 0 {
		unix.Close(o.hdir)
	}
}

// resolve finds the object g through its handle.
func (p *Posix) resolve(g fop.GFID) (*object, error) {
	if g.IsZero() {
		return nil, unix.EINVAL
	}
	if r := p.dirs.get(g); r != nil {
		return &object{g: g, fd: r.fd, dir: r, hdir: -1}, nil
	}
	// The object keeps its own fd of the handle directory: xattr calls
	// made as the caller name the handle relative to it.
	hdir, err := p.hdirs.dir(g)
	if err == unix.ENOENT {
		return p.openFiles.object(g)
	}
	if err != nil {
		return nil, err
	}
	_, _, name := handleParts(g)
	fd, err := openBeneath(hdir, name, unix.O_PATH|unix.O_NOFOLLOW, true)
	if err != nil {
		unix.Close(hdir)
		if err == unix.ENOENT {
			return p.openFiles.object(g)
		}
		return nil, err
	}
	o := &object{g: g, fd: fd, hdir: hdir, name: name}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		p.closeObject(o)
		return nil, err
	}
	if !isDirHandle(&st) {
		return o, nil
	}
	p.closeObject(o)
	r, err := p.dir(g)
	if err != nil {
		return nil, err
	}
	return &object{g: g, fd: r.fd, dir: r, hdir: -1}, nil
}

// isDirHandle tells a directory's handle (a symlink with no other name)
// from a symlink object's (a hard link to a symlink that has a name in the
// volume too).
func isDirHandle(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFLNK && st.Nlink == 1
}

// gfidAt reads trusted.gfid.
func gfidAt(dirfd int, path string, flags int) (fop.GFID, error) {
	var g fop.GFID
	n, err := getxattrat(dirfd, path, flags, xattrGFID, g[:])
	if err != nil {
		return fop.GFID{}, err
	}
	if n != len(g) {
		return fop.GFID{}, unix.EINVAL
	}
	return g, nil
}

// linkHandle gives object g its handle. For directories target is the
// symlink to create; for others fd is an O_PATH fd of the object to hard
// link. A stale handle (a file nobody links to any more, a directory
// symlink that leads nowhere) is replaced; a live one is EEXIST.
func (p *Posix) linkHandle(g fop.GFID, fd int, target string) error {
	hdir, name, err := p.hdirs.at(g, true)
	if err != nil {
		return err
	}
	mk := func() error {
		if target != "" {
			return unix.Symlinkat(target, hdir, name)
		}
		return unix.Linkat(fd, "", hdir, name, unix.AT_EMPTY_PATH)
	}
	err = mk()
	if err != unix.EEXIST {
		return err
	}
	if !p.staleHandle(g, hdir, name) {
		return unix.EEXIST
	}
	p.dirs.drop(g)
	if err := unix.Unlinkat(hdir, name, 0); err != nil && err != unix.ENOENT {
		return err
	}
	return mk()
}

func (p *Posix) staleHandle(g fop.GFID, hdir int, name string) bool {
	var st unix.Stat_t
	if err := unix.Fstatat(hdir, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err == unix.ENOENT
	}
	if !isDirHandle(&st) {
		return st.Nlink <= 1
	}
	r, err := p.dir(g)
	if err != nil {
		return true
	}
	p.dirs.release(r)
	return false
}

// setDirHandle points the directory g's handle at parent/name, atomically
// (rename over the old symlink), after a rename moved it.
func (p *Posix) setDirHandle(g, parent fop.GFID, name string) error {
	hdir, h, err := p.hdirs.at(g, true)
	if err != nil {
		return err
	}
	tmp := h + ".tmp"
	unix.Unlinkat(hdir, tmp, 0)
	if err := unix.Symlinkat(dirHandleTarget(parent, name), hdir, tmp); err != nil {
		return err
	}
	return unix.Renameat(hdir, tmp, hdir, h)
}

// dropHandle removes g's handle: always for directories, for files only
// when the handle is the last link left.
func (p *Posix) dropHandle(g fop.GFID, isDir bool) error {
	hdir, name, err := p.hdirs.at(g, false)
	if err != nil {
		if err == unix.ENOENT {
			return nil
		}
		return err
	}
	if isDir {
		p.dirs.drop(g)
	} else {
		var st unix.Stat_t
		if err := unix.Fstatat(hdir, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Nlink > 1 {
			return nil
		}
	}
	if err := unix.Unlinkat(hdir, name, 0); err != nil && err != unix.ENOENT {
		return err
	}
	return nil
}
