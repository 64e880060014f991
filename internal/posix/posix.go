// Package posix is the storage/posix layer, the bottom of every brick
// graph (protocol/server -> io-stats -> features/locks -> storage/posix):
// it keeps a volume's objects in a directory on the brick's local file
// system, in GlusterFS's on-disk format (see docs/brick-format.md), so that
// a brick stays a plain readable tree and GlusterFS tools understand it.
//
// Every object carries its GFID in trusted.gfid and is reachable by GFID
// through a handle under .glusterfs. All access goes through *at system
// calls relative to fds beneath the brick root, opened with openat2's
// RESOLVE_BENEATH, so no name, "..", symlink or tampered handle reaches
// outside the brick. Calls run with the caller's file system identity, so
// the kernel makes every permission decision.
package posix

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
)

// Type is the volfile type of this layer.
const Type = "storage/posix"

const (
	xattrGFID     = "trusted.gfid"
	xattrVolumeID = "trusted.glusterfs.volume-id"

	defaultDirCache = 1024
	xattropStripes  = 64
)

// errOldKernel says why a brick cannot open on kernels without the
// *xattrat system calls.
var errOldKernel = errors.New("the kernel lacks getxattrat(2): storage/posix needs Linux 6.13 or later")

// Posix is the storage/posix layer. It is the bottom of the graph: Base has
// no Next, and Posix answers every operation itself.
type Posix struct {
	fop.Base
	path      string
	root      int // O_RDONLY fd of the brick root
	gdir      int // O_PATH fd of .glusterfs
	hdirs     handleDirs
	groups    []uint32
	dirs      *dirCache
	openFiles openFiles
	log       *slog.Logger
	// xattrop is read-modify-write; stripes keyed by GFID make it atomic
	// without a lock per object.
	xattropMu [xattropStripes]sync.Mutex
	preop     preopLocks
}

var (
	_ fop.Layer           = (*Posix)(nil)
	_ fop.ClientForgetter = (*Posix)(nil)
)

// New opens the brick named by option "directory". Option "volume-id" (a
// UUID) must match the brick root's trusted.glusterfs.volume-id; an empty
// brick is stamped with it. Options "brick-uid" and "brick-gid" set the
// owner of the volume's root; "dir-fd-cache" bounds the directory fd
// cache.
func New(a *graph.Args) (fop.Layer, error) {
	dir := a.Options["directory"]
	if dir == "" {
		return nil, errors.New("storage/posix: option directory is required")
	}
	cacheSize := defaultDirCache
	if s, ok := a.Options["dir-fd-cache"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("storage/posix: bad dir-fd-cache %q", s)
		}
		cacheSize = n
	}
	var volID *fop.GFID
	if s := a.Options["volume-id"]; s != "" {
		g, err := fop.ParseGFID(s)
		if err != nil {
			return nil, fmt.Errorf("storage/posix: option volume-id: %w", err)
		}
		volID = &g
	}
	p, err := OpenBrick(dir, volID, cacheSize, a.Logger)
	if err != nil {
		return nil, err
	}
	if err := p.ownRoot(a.Options["brick-uid"], a.Options["brick-gid"]); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// ownRoot gives the volume's root to brick-uid and brick-gid, what
// `gluster volume set VOL storage.owner-uid N` asks for.
func (p *Posix) ownRoot(uid, gid string) error {
	if uid == "" && gid == "" {
		return nil
	}
	ids := [2]int{-1, -1}
	for i, s := range [2]string{uid, gid} {
		if s == "" {
			continue
		}
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return fmt.Errorf("storage/posix: bad brick owner %q", s)
		}
		ids[i] = int(n)
	}
	if err := unix.Fchown(p.root, ids[0], ids[1]); err != nil {
		return fmt.Errorf("storage/posix: chown brick %s: %w", p.path, err)
	}
	return nil
}

// OpenBrick opens the brick at dir (New without a volfile). volID nil
// skips the volume-id check; cacheSize <= 0 means the default; log may be
// nil.
func OpenBrick(dir string, volID *fop.GFID, cacheSize int, log *slog.Logger) (*Posix, error) {
	if cacheSize <= 0 {
		cacheSize = defaultDirCache
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	groups, err := unix.Getgroups()
	if err != nil {
		return nil, fmt.Errorf("storage/posix: getgroups: %w", err)
	}
	p := &Posix{path: dir, gdir: -1, dirs: newDirCache(cacheSize), log: log}
	for _, g := range groups {
		p.groups = append(p.groups, uint32(g))
	}
	// Callers' umasks are applied by hand; the process umask must not
	// strip bits a second time (it is per process, and a brick process
	// does nothing else).
	unix.Umask(0)
	p.root, err = unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("storage/posix: open brick %s: %w", dir, err)
	}
	p.dirs.pin(fop.RootGFID, p.root)
	if err := p.initBrick(volID); err != nil {
		p.Close()
		return nil, fmt.Errorf("storage/posix: brick %s: %w", dir, err)
	}
	log.Info("brick opened", "directory", dir)
	return p, nil
}

// initBrick checks (or stamps) the volume-id, the root GFID and the root
// handle.
func (p *Posix) initBrick(volID *fop.GFID) error {
	if volID != nil {
		var got fop.GFID
		n, err := getxattrat(p.root, "", unix.AT_EMPTY_PATH, xattrVolumeID, got[:])
		switch {
		case err == nil && (n != len(got) || got != *volID):
			return fmt.Errorf("belongs to another volume (volume-id %s, want %s)", got, volID)
		case err == unix.ENODATA:
			empty, err := p.emptyBrick()
			if err != nil {
				return err
			}
			if !empty {
				return errors.New("brick not initialized (no trusted.glusterfs.volume-id) but not empty: was its disk unmounted?")
			}
			if err := setxattrat(p.root, "", unix.AT_EMPTY_PATH, xattrVolumeID, volID[:], 0); err != nil {
				return fmt.Errorf("set volume-id: %w", err)
			}
		case err == unix.ENOSYS:
			return errOldKernel
		case err != nil:
			return fmt.Errorf("read volume-id: %w", err)
		}
	}
	g, err := gfidAt(p.root, "", unix.AT_EMPTY_PATH)
	switch {
	case err == unix.ENOSYS:
		return errOldKernel
	case err == unix.ENODATA:
		if err := setxattrat(p.root, "", unix.AT_EMPTY_PATH, xattrGFID, fop.RootGFID[:], 0); err != nil {
			return fmt.Errorf("set root gfid: %w", err)
		}
	case err != nil:
		return fmt.Errorf("read root gfid: %w", err)
	case g != fop.RootGFID:
		return fmt.Errorf("root gfid is %s, not the root's", g)
	}
	if err := unix.Mkdirat(p.root, gfidDir, 0o700); err != nil && err != unix.EEXIST {
		return fmt.Errorf("mkdir %s: %w", gfidDir, err)
	}
	p.gdir, err = openBeneath(p.root, gfidDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW, true)
	if err != nil {
		return fmt.Errorf("open %s: %w", gfidDir, err)
	}
	p.hdirs.gdir = p.gdir
	err = p.linkHandle(fop.RootGFID, -1, rootHandleLink)
	if err == unix.EEXIST {
		if link, rerr := p.readHandle(fop.RootGFID); rerr == nil && link == rootHandleLink {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("root handle: %w", err)
	}
	return nil
}

// emptyBrick reports whether the root holds nothing but .glusterfs.
func (p *Posix) emptyBrick() (bool, error) {
	fd, err := unix.Openat(p.root, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	buf := make([]byte, 8192)
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return false, err
		}
		if n == 0 {
			return true, nil
		}
		for b := buf[:n]; len(b) > 0; {
			d, l := parseDirent(b)
			if l == 0 {
				break
			}
			b = b[l:]
			if d.name != "." && d.name != ".." && d.name != gfidDir {
				return false, nil
			}
		}
	}
}

// Close closes the brick's fds.
func (p *Posix) Close() error {
	p.dirs.closeAll()
	p.hdirs.close()
	if p.gdir >= 0 {
		unix.Close(p.gdir)
	}
	return nil
}

// ForgetClient has nothing to drop: posix keeps no per-client state.
func (p *Posix) ForgetClient(string) {}

// attrOf builds an Attr from a stat result and the object's GFID. The
// link count is the volume's: a file's handle and the root's .glusterfs
// are not links anyone made.
func attrOf(g fop.GFID, st *unix.Stat_t) fop.Attr {
	ino := fop.InoOf(g)
	nlink := uint32(st.Nlink)
	switch {
	case g.IsZero():
		ino = st.Ino
	case g == fop.RootGFID:
		nlink--
	case st.Mode&unix.S_IFMT != unix.S_IFDIR && nlink >= 2:
		nlink--
	}
	return fop.Attr{
		GFID:    g,
		Ino:     ino,
		Dev:     st.Dev,
		Mode:    st.Mode,
		Nlink:   nlink,
		UID:     st.Uid,
		GID:     st.Gid,
		Rdev:    st.Rdev,
		Size:    uint64(st.Size),
		Blocks:  uint64(st.Blocks),
		Blksize: uint32(st.Blksize),
		Atime:   fop.Timespec{Sec: st.Atim.Sec, Nsec: uint32(st.Atim.Nsec)},
		Mtime:   fop.Timespec{Sec: st.Mtim.Sec, Nsec: uint32(st.Mtim.Nsec)},
		Ctime:   fop.Timespec{Sec: st.Ctim.Sec, Nsec: uint32(st.Ctim.Nsec)},
	}
}

// statAt stats dirfd/path without following a final symlink.
func statAt(g fop.GFID, dirfd int, path string) (fop.Attr, error) {
	var st unix.Stat_t
	flags := unix.AT_SYMLINK_NOFOLLOW
	if path == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	if err := unix.Fstatat(dirfd, path, &st, flags); err != nil {
		return fop.Attr{}, err
	}
	return attrOf(g, &st), nil
}

// locName names loc in errors: its path if known, else parent/name or GFID.
func locName(loc *fop.Loc) string {
	switch {
	case loc.Path != "":
		return loc.Path
	case loc.Name != "":
		return "<" + loc.Parent.String() + ">/" + loc.Name
	}
	return "<" + loc.GFID.String() + ">"
}

func fail(op string, loc *fop.Loc, err error) error {
	return fmt.Errorf("%s %s: %w", op, locName(loc), err)
}

func failFD(op string, fd *fop.FD, err error) error {
	return fmt.Errorf("%s <%s>: %w", op, fd.GFID, err)
}
