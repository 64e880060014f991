package fop

import (
	"context"
	"sync"
	"syscall"
	"time"
)

// Timespec is a file time with nanosecond precision.
type Timespec struct {
	Sec  int64
	Nsec uint32
}

// TimespecOf converts a time.Time.
func TimespecOf(t time.Time) Timespec {
	return Timespec{Sec: t.Unix(), Nsec: uint32(t.Nanosecond())}
}

// Time converts back to time.Time.
func (t Timespec) Time() time.Time { return time.Unix(t.Sec, int64(t.Nsec)) }

// Attr is what stat(2) says of an object, plus its GFID. Ino is derived from
// the GFID by the layer that owns the object so that it is the same on every
// brick and every client.
type Attr struct {
	GFID    GFID
	Ino     uint64
	Dev     uint64
	Mode    uint32 // file type and permission bits, as st_mode
	Nlink   uint32
	UID     uint32
	GID     uint32
	Rdev    uint64
	Size    uint64
	Blocks  uint64 // 512-byte blocks
	Blksize uint32
	Atime   Timespec
	Mtime   Timespec
	Ctime   Timespec
}

// Type returns the file type bits of Mode (S_IFREG, S_IFDIR, ...).
func (a *Attr) Type() uint32 { return a.Mode & syscall.S_IFMT }

// IsDir reports whether the object is a directory.
func (a *Attr) IsDir() bool { return a.Type() == syscall.S_IFDIR }

// InoOf derives the inode number clients show for a GFID, as GlusterFS does
// (the last 8 bytes). The root is always inode 1.
func InoOf(g GFID) uint64 {
	if g == RootGFID {
		return 1
	}
	var ino uint64
	for _, b := range g[8:] {
		ino = ino<<8 | uint64(b)
	}
	return ino
}

// Loc names an object. GFID identifies it when known; Parent and Name
// identify the entry that leads to it and are required by entry operations
// (lookup by name, create, unlink, rename, ...). For operations that create
// an object, GFID is the identity to give it: the top of the graph chooses
// it so that every brick of a replica set agrees. Path is the volume path,
// best effort, for logs and layers that reason about ancestry.
type Loc struct {
	Path   string
	GFID   GFID
	Parent GFID
	Name   string
}

// Dict carries extended attributes and per-call extra data (GlusterFS's
// xdata): requested keys in, values out.
type Dict map[string][]byte

// SetAttr says which attributes Setattr changes.
type SetAttr struct {
	Valid uint32 // SetMode | SetUID | ...
	Mode  uint32 // permission bits only
	UID   uint32
	GID   uint32
	Atime Timespec
	Mtime Timespec
}

// Bits of SetAttr.Valid.
const (
	SetMode uint32 = 1 << iota
	SetUID
	SetGID
	SetAtime
	SetMtime
	SetAtimeNow
	SetMtimeNow
)

// DirEntry is one readdir result. Off is the cookie that resumes the
// listing just after this entry; it stays valid while the directory changes.
type DirEntry struct {
	Name   string
	Off    uint64
	Ino    uint64
	Type   uint32 // file type bits, as in Attr.Mode (S_IFREG, ...)
	Attr   *Attr  // set by readdirplus
	Xattrs Dict   // requested xattrs, readdirplus only
}

// Statfs is what statvfs(2) says of a volume.
type Statfs struct {
	Bsize   uint64
	Frsize  uint64
	Blocks  uint64
	Bfree   uint64
	Bavail  uint64
	Files   uint64
	Ffree   uint64
	Namemax uint32
}

// Flock describes a byte-range lock, as struct flock. Len 0 means to the end
// of the file. Owner and Client identify the holder; for POSIX locks they
// come from the caller.
type Flock struct {
	Type   int16 // syscall.F_RDLCK, F_WRLCK, F_UNLCK
	Start  int64
	Len    int64
	PID    uint32
	Owner  uint64
	Client string
}

// Lock commands for Lk and Inodelk.
const (
	GetLk  = syscall.F_GETLK
	SetLk  = syscall.F_SETLK
	SetLkW = syscall.F_SETLKW
)

// EntrylkCmd is a command for Entrylk.
type EntrylkCmd uint8

// Entry lock commands.
const (
	EntryLock EntrylkCmd = iota
	EntryLockNB
	EntryUnlock
)

// EntrylkType is the kind of an entry lock.
type EntrylkType uint8

// Entry lock types.
const (
	EntryRdLck EntrylkType = iota
	EntryWrLck
)

// XattropOp is an atomic update that Xattrop applies to xattr values.
type XattropOp uint8

// Xattrop operations (GlusterFS's GF_XATTROP_ADD_ARRAY and _ADD_ARRAY64):
// each value is an array of big-endian counters added element-wise to the
// stored value (absent counts as zeros). The reply holds the new values.
const (
	XattropAddArray32 XattropOp = iota + 1
	XattropAddArray64
)

// Caller is the identity a call runs as. Client identifies the connection a
// brick received the call on; locks held by it are released when it goes.
type Caller struct {
	UID     uint32
	GID     uint32
	Groups  []uint32
	PID     uint32
	LkOwner uint64
	Client  string
}

// Root is the identity of internal calls.
var root = Caller{}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller ctx carries, or root for internal calls.
func CallerFrom(ctx context.Context) *Caller {
	if c, ok := ctx.Value(callerKey{}).(*Caller); ok {
		return c
	}
	return &root
}

// FD is an open file or directory. The same FD travels down the whole graph;
// each layer keeps its own state for it under a key of its own (a cluster
// layer opens the FD on each child, and each protocol/client below records
// its remote handle), as GlusterFS's fd_t contexts do.
type FD struct {
	GFID  GFID
	Flags uint32 // open(2) flags
	ctx   sync.Map
}

// NewFD returns an FD for the object g opened with flags.
func NewFD(g GFID, flags uint32) *FD { return &FD{GFID: g, Flags: flags} }

// Ctx returns the value a layer stored under key.
func (fd *FD) Ctx(key any) (any, bool) { return fd.ctx.Load(key) }

// SetCtx stores a layer's value under key.
func (fd *FD) SetCtx(key, val any) { fd.ctx.Store(key, val) }

// DelCtx removes a layer's value.
func (fd *FD) DelCtx(key any) { fd.ctx.Delete(key) }

// Event is a state change that travels up the graph from the layer that
// saw it (protocol/client connecting to its brick) to the top.
type Event uint8

// Events.
const (
	ChildUp Event = iota + 1
	ChildDown
)

func (e Event) String() string {
	switch e {
	case ChildUp:
		return "CHILD_UP"
	case ChildDown:
		return "CHILD_DOWN"
	}
	return "EVENT?"
}

// Notifier is implemented by layers that react to their children's events
// (cluster layers track which children are up). A layer that is not a
// Notifier passes its children's events on to its parents unchanged.
type Notifier interface {
	Notify(child Layer, ev Event)
}

// ClientForgetter is implemented by layers that keep per-client state
// (locks). protocol/server calls it when a client's connection is gone;
// Base forwards it down, so every layer in between passes it on.
type ClientForgetter interface {
	ForgetClient(client string)
}

// XattropReleaser is implemented by layers that can update the xattrs
// of an open file's object (an Xattrop on its GFID) and release the FD
// in one request to a brick (protocol/client): replicate ends a file's
// write transaction (post-op and unlock) with the close. The update is
// applied even when the release fails, and the FD is released even
// when the update fails; the error is the update's, else the release's.
type XattropReleaser interface {
	XattropRelease(ctx context.Context, fd *FD, op XattropOp, xattrs Dict) error
}

// ForgetClient forwards to Next if it keeps per-client state.
func (b Base) ForgetClient(client string) {
	if f, ok := b.Next.(ClientForgetter); ok {
		f.ForgetClient(client)
	}
}
