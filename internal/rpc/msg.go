package rpc

import (
	"fmt"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Proc numbers one file operation (one fop.Layer method).
type Proc uint16

// Procedures. The numbers are part of the wire format: append, never reorder.
const (
	ProcLookup Proc = iota + 1
	ProcStat
	ProcFstat
	ProcSetattr
	ProcFsetattr
	ProcTruncate
	ProcFtruncate
	ProcAccess
	ProcReadlink
	ProcMknod
	ProcMkdir
	ProcSymlink
	ProcCreate
	ProcLink
	ProcUnlink
	ProcRmdir
	ProcRename
	ProcOpen
	ProcRead
	ProcWrite
	ProcFlush
	ProcFsync
	ProcRelease
	ProcOpendir
	ProcReaddir
	ProcFsyncdir
	ProcReleasedir
	ProcStatfs
	ProcGetxattr
	ProcFgetxattr
	ProcSetxattr
	ProcFsetxattr
	ProcRemovexattr
	ProcFremovexattr
	ProcXattrop
	ProcFxattrop
	ProcLk
	ProcInodelk
	ProcFinodelk
	ProcEntrylk
	ProcFentrylk
	ProcFallocate
	ProcDiscard
	ProcZerofill
	ProcSeek
	ProcRchecksum
	// ProcXattropRelease is an XATTROP on an open fd's object followed
	// by its RELEASE (fop.XattropReleaser).
	ProcXattropRelease
	procEnd
)

var procNames = [...]string{"?", "LOOKUP", "STAT", "FSTAT", "SETATTR", "FSETATTR",
	"TRUNCATE", "FTRUNCATE", "ACCESS", "READLINK", "MKNOD", "MKDIR", "SYMLINK",
	"CREATE", "LINK", "UNLINK", "RMDIR", "RENAME", "OPEN", "READ", "WRITE", "FLUSH",
	"FSYNC", "RELEASE", "OPENDIR", "READDIR", "FSYNCDIR", "RELEASEDIR", "STATFS",
	"GETXATTR", "FGETXATTR", "SETXATTR", "FSETXATTR", "REMOVEXATTR", "FREMOVEXATTR",
	"XATTROP", "FXATTROP", "LK", "INODELK", "FINODELK", "ENTRYLK", "FENTRYLK",
	"FALLOCATE", "DISCARD", "ZEROFILL", "SEEK", "RCHECKSUM", "XATTROP-RELEASE"}

func (p Proc) String() string {
	if p >= procEnd {
		return fmt.Sprintf("PROC%d", uint16(p))
	}
	return procNames[p]
}

// Valid reports whether p is a known procedure.
func (p Proc) Valid() bool { return p > 0 && p < procEnd }

// Request holds the arguments of any call; each procedure uses (and puts on
// the wire) only its own fields, listed in walkRequest.
type Request struct {
	Loc       fop.Loc  // the object or entry; Link and Rename: the old entry
	Loc2      fop.Loc  // Link and Rename: the new entry
	FD        uint64   // the server's fd number
	FDGFID    fop.GFID // Open, Opendir, Create: the GFID of the new fd
	Flags     uint32   // open(2), renameat2(2) or setxattr(2) flags
	Mode      uint32   // mode, Access mask, Fallocate mode
	Umask     uint32
	Rdev      uint64
	Size      uint64 // Truncate size, Read and Rchecksum length
	Off       int64
	Len       int64
	Cookie    uint64 // Readdir offset
	Max       uint32 // Readdir entry limit
	Plus      bool
	Datasync  bool
	Name      string // xattr or entry name
	Target    string // symlink target
	Domain    string // lock domain
	Dict      fop.Dict
	Set       fop.SetAttr
	Cmd       int64 // lock command, seek whence
	Lock      fop.Flock
	EntryCmd  fop.EntrylkCmd
	EntryType fop.EntrylkType
	XattropOp fop.XattropOp
}

// Response holds the results of any call, like Request.
type Response struct {
	Attr    fop.Attr // the object
	Parent  fop.Attr // the (old) parent
	Parent2 fop.Attr // Rename: the new parent
	Dict    fop.Dict
	FD      uint64 // Open, Opendir, Create: the server's fd number
	N       uint64 // Write: bytes written; Seek: offset; Rchecksum: weak sum
	Str     string // Readlink target
	Entries []fop.DirEntry
	Statfs  fop.Statfs
	Lock    fop.Flock
	Strong  []byte // Rchecksum strong sum
}

// walker visits message fields: the encoder writes them, the decoder fills
// them in. One schema per procedure serves both directions.
type walker interface {
	wU8(*uint8)
	wU32(*uint32)
	wU64(*uint64)
	wI64(*int64)
	wBool(*bool)
	wStr(*string, int)
	wBytes(*[]byte, int)
	wGFID(*fop.GFID)
	wLoc(*fop.Loc)
	wDict(*fop.Dict)
	wSetattr(*fop.SetAttr)
	wFlock(*fop.Flock)
	wAttr(*fop.Attr)
	wStatfs(*fop.Statfs)
	wEntries(*[]fop.DirEntry)
}

// walkRequest is the argument schema of every procedure.
func walkRequest(w walker, p Proc, r *Request) error {
	switch p {
	case ProcLookup:
		w.wLoc(&r.Loc)
		w.wDict(&r.Dict)
	case ProcStat, ProcReadlink, ProcUnlink, ProcRmdir, ProcStatfs:
		w.wLoc(&r.Loc)
	case ProcFstat, ProcFlush, ProcRelease, ProcReleasedir:
		w.wU64(&r.FD)
	case ProcSetattr:
		w.wLoc(&r.Loc)
		w.wSetattr(&r.Set)
	case ProcFsetattr:
		w.wU64(&r.FD)
		w.wSetattr(&r.Set)
	case ProcTruncate:
		w.wLoc(&r.Loc)
		w.wU64(&r.Size)
	case ProcFtruncate:
		w.wU64(&r.FD)
		w.wU64(&r.Size)
	case ProcAccess:
		w.wLoc(&r.Loc)
		w.wU32(&r.Mode)
	case ProcMknod:
		w.wLoc(&r.Loc)
		w.wU32(&r.Mode)
		w.wU32(&r.Umask)
		w.wU64(&r.Rdev)
		w.wDict(&r.Dict)
	case ProcMkdir:
		w.wLoc(&r.Loc)
		w.wU32(&r.Mode)
		w.wU32(&r.Umask)
		w.wDict(&r.Dict)
	case ProcSymlink:
		w.wLoc(&r.Loc)
		w.wStr(&r.Target, MaxName)
		w.wU32(&r.Umask)
		w.wDict(&r.Dict)
	case ProcCreate:
		w.wLoc(&r.Loc)
		w.wU32(&r.Flags)
		w.wU32(&r.Mode)
		w.wU32(&r.Umask)
		w.wGFID(&r.FDGFID)
		w.wDict(&r.Dict)
	case ProcLink:
		w.wLoc(&r.Loc)
		w.wLoc(&r.Loc2)
	case ProcRename:
		w.wLoc(&r.Loc)
		w.wLoc(&r.Loc2)
		w.wU32(&r.Flags)
	case ProcOpen:
		w.wLoc(&r.Loc)
		w.wU32(&r.Flags)
		w.wGFID(&r.FDGFID)
	case ProcOpendir:
		w.wLoc(&r.Loc)
		w.wGFID(&r.FDGFID)
	case ProcRead, ProcRchecksum:
		w.wU64(&r.FD)
		w.wU64(&r.Size)
		w.wI64(&r.Off)
	case ProcWrite:
		w.wU64(&r.FD)
		w.wI64(&r.Off)
	case ProcFsync, ProcFsyncdir:
		w.wU64(&r.FD)
		w.wBool(&r.Datasync)
	case ProcReaddir:
		w.wU64(&r.FD)
		w.wU64(&r.Cookie)
		w.wU32(&r.Max)
		w.wBool(&r.Plus)
		w.wDict(&r.Dict)
	case ProcGetxattr, ProcRemovexattr:
		w.wLoc(&r.Loc)
		w.wStr(&r.Name, MaxName)
	case ProcFgetxattr, ProcFremovexattr:
		w.wU64(&r.FD)
		w.wStr(&r.Name, MaxName)
	case ProcSetxattr:
		w.wLoc(&r.Loc)
		w.wDict(&r.Dict)
		w.wU32(&r.Flags)
	case ProcFsetxattr:
		w.wU64(&r.FD)
		w.wDict(&r.Dict)
		w.wU32(&r.Flags)
	case ProcXattrop:
		w.wLoc(&r.Loc)
		w.wU8((*uint8)(&r.XattropOp))
		w.wDict(&r.Dict)
	case ProcFxattrop, ProcXattropRelease:
		w.wU64(&r.FD)
		w.wU8((*uint8)(&r.XattropOp))
		w.wDict(&r.Dict)
	case ProcLk:
		w.wU64(&r.FD)
		w.wI64(&r.Cmd)
		w.wFlock(&r.Lock)
	case ProcInodelk:
		w.wStr(&r.Domain, MaxName)
		w.wLoc(&r.Loc)
		w.wI64(&r.Cmd)
		w.wFlock(&r.Lock)
	case ProcFinodelk:
		w.wStr(&r.Domain, MaxName)
		w.wU64(&r.FD)
		w.wI64(&r.Cmd)
		w.wFlock(&r.Lock)
	case ProcEntrylk:
		w.wStr(&r.Domain, MaxName)
		w.wLoc(&r.Loc)
		w.wStr(&r.Name, MaxName)
		w.wU8((*uint8)(&r.EntryCmd))
		w.wU8((*uint8)(&r.EntryType))
	case ProcFentrylk:
		w.wStr(&r.Domain, MaxName)
		w.wU64(&r.FD)
		w.wStr(&r.Name, MaxName)
		w.wU8((*uint8)(&r.EntryCmd))
		w.wU8((*uint8)(&r.EntryType))
	case ProcFallocate:
		w.wU64(&r.FD)
		w.wU32(&r.Mode)
		w.wI64(&r.Off)
		w.wI64(&r.Len)
	case ProcDiscard, ProcZerofill:
		w.wU64(&r.FD)
		w.wI64(&r.Off)
		w.wI64(&r.Len)
	case ProcSeek:
		w.wU64(&r.FD)
		w.wI64(&r.Off)
		w.wI64(&r.Cmd)
	default:
		return fmt.Errorf("procedure %d: %w", p, ErrMalformed)
	}
	return nil
}

// walkResponse is the result schema of every procedure. A failed call's
// reply carries only its errno in the header.
func walkResponse(w walker, p Proc, r *Response) error {
	switch p {
	case ProcLookup:
		w.wAttr(&r.Attr)
		w.wDict(&r.Dict)
	case ProcStat, ProcFstat, ProcSetattr, ProcFsetattr, ProcTruncate, ProcFtruncate,
		ProcFsync, ProcFallocate, ProcDiscard, ProcZerofill:
		w.wAttr(&r.Attr)
	case ProcAccess, ProcFlush, ProcRelease, ProcReleasedir, ProcXattropRelease, ProcFsyncdir,
		ProcSetxattr, ProcFsetxattr, ProcRemovexattr, ProcFremovexattr,
		ProcInodelk, ProcFinodelk, ProcEntrylk, ProcFentrylk, ProcRead:
		// Nothing but the status (and, for Read, the payload).
	case ProcReadlink:
		w.wStr(&r.Str, MaxName)
	case ProcMknod, ProcMkdir, ProcSymlink, ProcLink:
		w.wAttr(&r.Attr)
		w.wAttr(&r.Parent)
	case ProcCreate:
		w.wAttr(&r.Attr)
		w.wAttr(&r.Parent)
		w.wU64(&r.FD)
	case ProcUnlink, ProcRmdir:
		w.wAttr(&r.Parent)
	case ProcRename:
		w.wAttr(&r.Attr)
		w.wAttr(&r.Parent)
		w.wAttr(&r.Parent2)
	case ProcOpen, ProcOpendir:
		w.wU64(&r.FD)
	case ProcWrite:
		w.wU64(&r.N)
		w.wAttr(&r.Attr)
	case ProcReaddir:
		w.wEntries(&r.Entries)
	case ProcStatfs:
		w.wStatfs(&r.Statfs)
	case ProcGetxattr, ProcFgetxattr, ProcXattrop, ProcFxattrop:
		w.wDict(&r.Dict)
	case ProcLk:
		w.wFlock(&r.Lock)
	case ProcSeek:
		w.wU64(&r.N)
	case ProcRchecksum:
		w.wU64(&r.N)
		w.wBytes(&r.Strong, MaxChecksum)
	default:
		return fmt.Errorf("procedure %d: %w", p, ErrMalformed)
	}
	return nil
}

// MayBlock reports whether a call can wait indefinitely on another
// client (a blocking lock), so the server must not let it hold one of the
// connection's bounded workers.
func (r *Request) MayBlock(p Proc) bool {
	switch p {
	case ProcLk, ProcInodelk, ProcFinodelk:
		return r.Cmd == fop.SetLkW
	case ProcEntrylk, ProcFentrylk:
		return r.EntryCmd == fop.EntryLock
	}
	return false
}

// Walker adapters: the encoder writes each field.

func (e *encoder) wU8(p *uint8)               { e.u8(*p) }
func (e *encoder) wU32(p *uint32)             { e.u32(*p) }
func (e *encoder) wU64(p *uint64)             { e.u64(*p) }
func (e *encoder) wI64(p *int64)              { e.i64(*p) }
func (e *encoder) wBool(p *bool)              { e.bool(*p) }
func (e *encoder) wStr(p *string, _ int)      { e.str(*p) }
func (e *encoder) wBytes(p *[]byte, max int)  { e.bytes(*p, max) }
func (e *encoder) wGFID(p *fop.GFID)          { e.gfid(*p) }
func (e *encoder) wLoc(p *fop.Loc)            { e.loc(p) }
func (e *encoder) wDict(p *fop.Dict)          { e.dict(*p) }
func (e *encoder) wSetattr(p *fop.SetAttr)    { e.setattr(p) }
func (e *encoder) wFlock(p *fop.Flock)        { e.flock(p) }
func (e *encoder) wAttr(p *fop.Attr)          { e.attr(p) }
func (e *encoder) wStatfs(p *fop.Statfs)      { e.statfs(p) }
func (e *encoder) wEntries(p *[]fop.DirEntry) { e.entries(*p) }

// The decoder fills each field in.

func (d *decoder) wU8(p *uint8)               { *p = d.u8() }
func (d *decoder) wU32(p *uint32)             { *p = d.u32() }
func (d *decoder) wU64(p *uint64)             { *p = d.u64() }
func (d *decoder) wI64(p *int64)              { *p = d.i64() }
func (d *decoder) wBool(p *bool)              { *p = d.bool() }
func (d *decoder) wStr(p *string, max int)    { *p = d.str(max, "string") }
func (d *decoder) wBytes(p *[]byte, max int)  { *p = d.bytes(max, "bytes") }
func (d *decoder) wGFID(p *fop.GFID)          { *p = d.gfid() }
func (d *decoder) wLoc(p *fop.Loc)            { d.loc(p) }
func (d *decoder) wDict(p *fop.Dict)          { *p = d.dict() }
func (d *decoder) wSetattr(p *fop.SetAttr)    { d.setattr(p) }
func (d *decoder) wFlock(p *fop.Flock)        { d.flock(p) }
func (d *decoder) wAttr(p *fop.Attr)          { d.attr(p) }
func (d *decoder) wStatfs(p *fop.Statfs)      { d.statfs(p) }
func (d *decoder) wEntries(p *[]fop.DirEntry) { *p = d.entries() }

// appendRequest appends a call's message to e.b: the caller, then the
// arguments. The codecs are passed in, not made here, because a codec
// passed as a walker escapes: each call's own is reused instead.
func appendRequest(e *encoder, p Proc, c *fop.Caller, r *Request) error {
	e.caller(c)
	if err := walkRequest(e, p, r); err != nil {
		return err
	}
	return e.err
}

// decodeRequest is appendRequest's inverse, reading d.b. It does not set
// c.Client, which the server fills in from the connection.
func decodeRequest(d *decoder, p Proc, c *fop.Caller, r *Request) error {
	d.caller(c)
	if err := walkRequest(d, p, r); err != nil {
		return err
	}
	if err := d.end(); err != nil {
		return fmt.Errorf("%s call: %w", p, err)
	}
	return nil
}

func appendResponse(e *encoder, p Proc, r *Response) error {
	if err := walkResponse(e, p, r); err != nil {
		return err
	}
	return e.err
}

func decodeResponse(d *decoder, p Proc, r *Response) error {
	if err := walkResponse(d, p, r); err != nil {
		return err
	}
	if err := d.end(); err != nil {
		return fmt.Errorf("%s reply: %w", p, err)
	}
	return nil
}
