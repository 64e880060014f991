package fuse

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Default cache timeouts, GlusterFS's: the kernel may reuse an entry or
// attributes for a second; a missing name is asked again every time, since
// another client may create it at any moment.
const (
	DefaultEntryTimeout    = time.Second
	DefaultAttrTimeout     = time.Second
	DefaultNegativeTimeout = time.Duration(0)
	// DefaultUpTimeout bounds how long the first requests wait for the
	// graph's bricks before they run (and fail) anyway.
	DefaultUpTimeout = 30 * time.Second
	// DefaultGroupsTTL: reading /proc on every request would cost more
	// than the request.
	DefaultGroupsTTL = time.Second
)

// Options tune the bridge.
type Options struct {
	EntryTimeout    time.Duration
	AttrTimeout     time.Duration
	NegativeTimeout time.Duration
	// WaitUp blocks until the graph can serve (graph.Graph.WaitUp); nil
	// means it can at once.
	WaitUp    func(context.Context) error
	UpTimeout time.Duration
	Logger    *slog.Logger
	// ProcFS is where /proc is mounted (tests may point elsewhere).
	ProcFS string
	// GroupsTTL is how long a process's supplementary groups are reused
	// (GlusterFS's gid-timeout).
	GroupsTTL time.Duration
	// DirectIO bypasses the kernel's page cache for file data.
	DirectIO bool
	// Root and RootPath name the directory the mount shows: the volume's
	// root by default, a subdirectory for a subdir mount.
	Root     fop.GFID
	RootPath string
	// KeepCache keeps a file's cached pages across opens (GlusterFS's
	// fopen-keep-cache); the kernel still drops them when it sees the
	// file's size or mtime change.
	KeepCache bool
}

// DefaultOptions returns GlusterFS's defaults.
func DefaultOptions() Options {
	return Options{
		EntryTimeout:    DefaultEntryTimeout,
		AttrTimeout:     DefaultAttrTimeout,
		NegativeTimeout: DefaultNegativeTimeout,
		UpTimeout:       DefaultUpTimeout,
		ProcFS:          "/proc",
		GroupsTTL:       DefaultGroupsTTL,
	}
}

// FS serves FUSE requests from a layer graph. It implements
// fuse.RawFileSystem.
type FS struct {
	fuse.RawFileSystem // ENOSYS for what GlusterFS does not offer either (ioctl, ...)

	top    fop.Layer
	opts   Options
	log    *slog.Logger
	inodes *inodeTable
	groups *groupCache

	// locked holds the GFIDs of files locked through this mount (see
	// Flush). It only grows, by one entry per file ever locked.
	locked sync.Map // fop.GFID -> struct{}

	nextFh  atomic.Uint64
	handles sync.Map // uint64 -> *fop.FD (files) or *dirStream

	ready chan struct{} // closed once the graph is up or UpTimeout passed

	inval     chan fop.Upcall // kernel invalidations to send (invalidate.go)
	unmounted chan struct{}
	unmount   sync.Once
}

var _ fuse.RawFileSystem = (*FS)(nil)

// New returns a bridge to top. It starts waiting for the graph to come up
// right away, so that a mount is usable as soon as possible.
func New(top fop.Layer, o Options) *FS {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ProcFS == "" {
		o.ProcFS = "/proc"
	}
	if o.UpTimeout <= 0 {
		o.UpTimeout = DefaultUpTimeout
	}
	if o.GroupsTTL <= 0 {
		o.GroupsTTL = DefaultGroupsTTL
	}
	if o.Root.IsZero() {
		o.Root, o.RootPath = fop.RootGFID, "/"
	}
	fs := &FS{
		RawFileSystem: fuse.NewDefaultRawFileSystem(),
		top:           top,
		opts:          o,
		log:           o.Logger,
		inodes:        newInodeTable(o.Root, o.RootPath),
		groups:        newGroupCache(o.ProcFS, o.GroupsTTL),
		ready:         make(chan struct{}),
		inval:         make(chan fop.Upcall, invalQueue),
		unmounted:     make(chan struct{}),
	}
	go fs.waitUp()
	return fs
}

func (fs *FS) waitUp() {
	defer close(fs.ready)
	if fs.opts.WaitUp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), fs.opts.UpTimeout)
	defer cancel()
	if err := fs.opts.WaitUp(ctx); err != nil {
		fs.log.Warn("graph not up, serving anyway", "timeout", fs.opts.UpTimeout, "err", err)
	}
}

// String names the file system type in go-fuse's logs.
func (fs *FS) String() string { return "glusterfs" }

// Init is called once the kernel has accepted the mount.
func (fs *FS) Init(srv *fuse.Server) { go fs.invalidator(srv) }

// OnUnmount is called after the last request.
func (fs *FS) OnUnmount() {
	fs.unmount.Do(func() { close(fs.unmounted) })
	fs.log.Info("unmounted")
}

// SetDebug is unused: go-fuse's own Debug option logs requests.
func (fs *FS) SetDebug(bool) {}

// begin waits until the graph is up (once), then resolves the request's
// node; nil means the kernel named a node we do not know.
func (fs *FS) begin(id uint64) *inode {
	<-fs.ready
	return fs.inodes.get(id)
}

// status maps an error from the graph to the FUSE reply.
func (fs *FS) status(op string, loc *fop.Loc, err error) fuse.Status {
	if err == nil {
		return fuse.OK
	}
	e := fop.Errno(err)
	// Expected outcomes are not worth a log line; failures are.
	switch e {
	case syscall.ENOENT, syscall.EEXIST, syscall.ENODATA, syscall.EACCES, syscall.EPERM,
		syscall.ENOTDIR, syscall.EISDIR, syscall.ENOTEMPTY, syscall.EAGAIN, syscall.ERANGE,
		syscall.EINTR, syscall.EINVAL, syscall.ELOOP, syscall.ENAMETOOLONG, syscall.EXDEV:
	default:
		p := ""
		if loc != nil {
			p = loc.Path
		}
		fs.log.Warn("fop failed", "op", op, "path", p, "err", err)
	}
	return fuse.Status(e)
}

// addHandle registers an open file or directory and returns its FUSE
// file handle.
func (fs *FS) addHandle(v any) uint64 {
	h := fs.nextFh.Add(1)
	fs.handles.Store(h, v)
	return h
}

// openFile registers an opened file and fills the kernel's open reply.
func (fs *FS) openFile(out *fuse.OpenOut, fd *fop.FD) {
	out.Fh = fs.addHandle(fd)
	if fs.opts.DirectIO {
		out.OpenFlags |= fuse.FOPEN_DIRECT_IO
	}
	if fs.opts.KeepCache {
		out.OpenFlags |= fuse.FOPEN_KEEP_CACHE
	}
}

// handle returns the open file h, or nil.
func (fs *FS) handle(h uint64) *fop.FD {
	v, _ := fs.handles.Load(h)
	fd, _ := v.(*fop.FD)
	return fd
}

// dirStream returns the open directory h, or nil.
func (fs *FS) dirStream(h uint64) *dirStream {
	v, _ := fs.handles.Load(h)
	ds, _ := v.(*dirStream)
	return ds
}

func (fs *FS) dropHandle(h uint64) any {
	v, _ := fs.handles.LoadAndDelete(h)
	return v
}

// fillAttr converts a layer's attributes to the kernel's.
func fillAttr(out *fuse.Attr, a *fop.Attr) {
	ino := a.Ino
	if ino == 0 {
		ino = fop.InoOf(a.GFID)
	}
	*out = fuse.Attr{
		Ino:       ino,
		Size:      a.Size,
		Blocks:    a.Blocks,
		Atime:     uint64(a.Atime.Sec),
		Atimensec: a.Atime.Nsec,
		Mtime:     uint64(a.Mtime.Sec),
		Mtimensec: a.Mtime.Nsec,
		Ctime:     uint64(a.Ctime.Sec),
		Ctimensec: a.Ctime.Nsec,
		Mode:      a.Mode,
		Nlink:     a.Nlink,
		Owner:     fuse.Owner{Uid: a.UID, Gid: a.GID},
		Rdev:      uint32(a.Rdev),
		Blksize:   a.Blksize,
	}
}

// entry records a kernel lookup of a and fills out. An object without a
// GFID would alias every other one in the inode table: that is a layer's
// bug, reported as EIO.
func (fs *FS) entry(out *fuse.EntryOut, parent *inode, name string, a *fop.Attr) fuse.Status {
	if a.GFID.IsZero() {
		fs.log.Error("layer returned an object without GFID", "parent", parent.gfid, "name", name)
		return fuse.EIO
	}
	n := fs.inodes.ref(a.GFID, parent, name)
	out.NodeId = n.id
	out.Generation = 0
	out.SetEntryTimeout(fs.opts.EntryTimeout)
	out.SetAttrTimeout(fs.opts.AttrTimeout)
	fillAttr(&out.Attr, a)
	return fuse.OK
}

func (fs *FS) attrOut(out *fuse.AttrOut, a *fop.Attr) {
	out.SetTimeout(fs.opts.AttrTimeout)
	fillAttr(&out.Attr, a)
}

// MountOptions are the kernel-side settings of a mount.
type MountOptions struct {
	FsName   string // shown as the mount's source, "HOST:/VOL"
	ReadOnly bool
	// ACL leaves every permission decision to the bricks, which apply
	// POSIX ACLs; otherwise the kernel checks mode bits first.
	ACL bool
	// NoReaddirPlus makes listings plain READDIR (GlusterFS's
	// use-readdirp=no).
	NoReaddirPlus bool
	// MaxBackground bounds the kernel's queue of background requests
	// (readahead, writeback); CongestionThreshold is where it throttles.
	MaxBackground       int
	CongestionThreshold int
	Debug               bool // log every request
}

// DefaultMaxBackground is GlusterFS's background-qlen.
const DefaultMaxBackground = 64

// Request and read-ahead sizes. The kernel caps a mount's read-ahead at
// its default of 128 KiB during INIT, whatever the server asks; sequential
// reads then arrive as 256 KiB requests, one or two at a time. Raising the
// mount's backing-device read-ahead afterwards makes them 1 MiB requests
// (maxRequest), several in flight (ASYNC_READ), which keeps both the
// round trips and the bricks' disks busy.
const (
	maxRequest = 1 << 20
	readAhead  = 4 << 20
)

// Mount mounts fs on dir and returns the running server; the caller
// runs Serve (or calls Wait after Serve in a goroutine) and Unmount.
func Mount(dir string, fs *FS, o MountOptions) (*fuse.Server, error) {
	if o.MaxBackground <= 0 {
		o.MaxBackground = DefaultMaxBackground
	}
	mo := &fuse.MountOptions{
		AllowOther:          true,
		FsName:              o.FsName,
		Name:                "glusterfs", // shows as fuse.glusterfs
		DirectMount:         true,        // falls back to fusermount when not root
		MaxWrite:            maxRequest,
		MaxReadAhead:        maxRequest,
		MaxBackground:       o.MaxBackground,
		CongestionThreshold: o.CongestionThreshold,
		EnableLocks:         true,
		DisableReadDirPlus:  o.NoReaddirPlus,
		// Replies carry data from memory (the layers' buffers), never
		// from a file descriptor: splicing would only add a pipe write
		// and a splice call to each read.
		DisableSplice: true,
		Debug:         o.Debug,
		// go-fuse's own messages (a layer's panic, a kernel protocol
		// error) go to our log.
		Logger: slog.NewLogLogger(fs.log.Handler(), slog.LevelWarn),
	}
	// As GlusterFS does without acl: the kernel checks permissions against
	// the attributes it holds, so a cached path cannot bypass a
	// directory's search permission; the bricks check again as the caller.
	if !o.ACL {
		mo.Options = append(mo.Options, "default_permissions")
	}
	if o.ReadOnly {
		mo.Options = append(mo.Options, "ro")
	}
	srv, err := fuse.NewServer(fs, dir, mo)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	closeFuseOnExec()
	// NewServer has answered INIT, so the kernel's cap is in place.
	if err := setReadAhead(dir, readAhead); err != nil {
		fs.log.Warn("kernel read-ahead left at its default", "mountpoint", dir, "err", err)
	}
	return srv, nil
}

// setReadAhead sets the read-ahead of the mount at dir, which the kernel
// keeps on the mount's backing device (/sys/class/bdi/MAJOR:MINOR). The
// device comes from mountinfo: a stat of dir would wait for the server,
// which does not serve yet.
func setReadAhead(dir string, bytes int) error {
	dev, err := mountDevice("/proc/self/mountinfo", dir)
	if err != nil {
		return fmt.Errorf("set read-ahead of %s: %w", dir, err)
	}
	if err := os.WriteFile("/sys/class/bdi/"+dev+"/read_ahead_kb", []byte(strconv.Itoa(bytes>>10)), 0); err != nil {
		return fmt.Errorf("set read-ahead of %s: %w", dir, err)
	}
	return nil
}

// mountDevice returns the MAJOR:MINOR of the newest mount on dir listed in
// the mountinfo file.
func mountDevice(mountinfo, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	raw, err := os.ReadFile(mountinfo)
	if err != nil {
		return "", err
	}
	dev := ""
	for line := range strings.Lines(string(raw)) {
		// ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ...; octal escapes in paths.
		f := strings.Fields(line)
		if len(f) > 4 && unescapeMountPath(f[4]) == abs {
			dev = f[2]
		}
	}
	if dev == "" {
		return "", fmt.Errorf("%s: not in %s", abs, mountinfo)
	}
	return dev, nil
}

// unescapeMountPath undoes the kernel's octal escapes in mountinfo paths.
func unescapeMountPath(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// closeFuseOnExec marks this process's /dev/fuse descriptors close-on-exec.
// go-fuse opens /dev/fuse without O_CLOEXEC: a child that inherited it
// would keep a mount alive after we are gone, with nobody serving it, and
// hang whoever touches it (a killed client must leave a dead mount).
func closeFuseOnExec() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if t, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && t == "/dev/fuse" {
			unix.CloseOnExec(fd)
		}
	}
}

// Stats is what a state dump reports of the bridge.
type Stats struct {
	Inodes    int // nodes the kernel holds, the root included
	OpenFiles int
	OpenDirs  int
}

// Stats counts the bridge's tables.
func (fs *FS) Stats() Stats {
	var st Stats
	for i := range fs.inodes.shards {
		s := &fs.inodes.shards[i]
		s.mu.Lock()
		st.Inodes += len(s.byID)
		s.mu.Unlock()
	}
	fs.handles.Range(func(_, v any) bool {
		if _, ok := v.(*dirStream); ok {
			st.OpenDirs++
		} else {
			st.OpenFiles++
		}
		return true
	})
	return st
}
