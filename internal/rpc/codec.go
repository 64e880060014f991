package rpc

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// encoder appends little-endian values to a buffer. It refuses what the
// peer's decoder would refuse (err), so that an over-limit value fails its
// own call instead of breaking the connection.
type encoder struct {
	b   []byte
	err error
}

func (e *encoder) tooBig(what string, n, max int, errno syscall.Errno) {
	if e.err == nil {
		e.err = fmt.Errorf("encode %s: %d exceeds limit %d: %w", what, n, max, errno)
	}
}

func (e *encoder) u8(v uint8)   { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16) { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) i64(v int64)  { e.u64(uint64(v)) }

func (e *encoder) bool(v bool) {
	if v {
		e.u8(1)
	} else {
		e.u8(0)
	}
}

// str encodes a name, path or other string (at most MaxName bytes).
func (e *encoder) str(s string) {
	if len(s) > MaxName {
		e.tooBig("string", len(s), MaxName, syscall.ENAMETOOLONG)
	}
	e.u32(uint32(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) bytes(v []byte, max int) {
	if len(v) > max {
		e.tooBig("value", len(v), max, syscall.E2BIG)
	}
	e.u32(uint32(len(v)))
	e.b = append(e.b, v...)
}

func (e *encoder) gfid(g fop.GFID) { e.b = append(e.b, g[:]...) }

func (e *encoder) time(t fop.Timespec) {
	e.i64(t.Sec)
	e.u32(t.Nsec)
}

func (e *encoder) attr(a *fop.Attr) {
	e.gfid(a.GFID)
	e.u64(a.Ino)
	e.u64(a.Dev)
	e.u32(a.Mode)
	e.u32(a.Nlink)
	e.u32(a.UID)
	e.u32(a.GID)
	e.u64(a.Rdev)
	e.u64(a.Size)
	e.u64(a.Blocks)
	e.u32(a.Blksize)
	e.time(a.Atime)
	e.time(a.Mtime)
	e.time(a.Ctime)
}

func (e *encoder) loc(l *fop.Loc) {
	// The path is best effort (logs, ancestry): one too long to send is
	// left out rather than failing the call.
	path := l.Path
	if len(path) > MaxPath {
		path = ""
	}
	e.u32(uint32(len(path)))
	e.b = append(e.b, path...)
	e.gfid(l.GFID)
	e.gfid(l.Parent)
	e.str(l.Name)
}

func (e *encoder) dict(d fop.Dict) {
	if len(d) > MaxDictEntries {
		e.tooBig("dict", len(d), MaxDictEntries, syscall.E2BIG)
	}
	e.u32(uint32(len(d)))
	for k, v := range d {
		e.str(k)
		e.bytes(v, MaxXattrValue)
	}
}

func (e *encoder) setattr(s *fop.SetAttr) {
	e.u32(s.Valid)
	e.u32(s.Mode)
	e.u32(s.UID)
	e.u32(s.GID)
	e.time(s.Atime)
	e.time(s.Mtime)
}

func (e *encoder) flock(f *fop.Flock) {
	e.u16(uint16(f.Type))
	e.i64(f.Start)
	e.i64(f.Len)
	e.u32(f.PID)
	e.u64(f.Owner)
	e.str(f.Client)
}

func (e *encoder) statfs(s *fop.Statfs) {
	e.u64(s.Bsize)
	e.u64(s.Frsize)
	e.u64(s.Blocks)
	e.u64(s.Bfree)
	e.u64(s.Bavail)
	e.u64(s.Files)
	e.u64(s.Ffree)
	e.u32(s.Namemax)
}

// Bits of a directory entry's flags byte.
const (
	entHasAttr = 1 << iota
	entHasXattrs
)

func (e *encoder) entries(es []fop.DirEntry) {
	if len(es) > MaxDirEntries {
		e.tooBig("dir entries", len(es), MaxDirEntries, syscall.E2BIG)
	}
	e.u32(uint32(len(es)))
	for i := range es {
		d := &es[i]
		e.str(d.Name)
		e.u64(d.Off)
		e.u64(d.Ino)
		e.u32(d.Type)
		var fl uint8
		if d.Attr != nil {
			fl |= entHasAttr
		}
		if d.Xattrs != nil {
			fl |= entHasXattrs
		}
		e.u8(fl)
		if d.Attr != nil {
			e.attr(d.Attr)
		}
		if d.Xattrs != nil {
			e.dict(d.Xattrs)
		}
	}
}

// entriesFitting returns how many of es encode within budget bytes.
func entriesFitting(es []fop.DirEntry, budget int) int {
	const attrSize = 16 + 8*5 + 4*5 + 3*12
	size := 4
	for i := range es {
		d := &es[i]
		size += minEntry + len(d.Name)
		if d.Attr != nil {
			size += attrSize
		}
		if d.Xattrs != nil {
			size += 4
			for k, v := range d.Xattrs {
				size += 8 + len(k) + len(v)
			}
		}
		if size > budget {
			return i
		}
	}
	return len(es)
}

func (e *encoder) caller(c *fop.Caller) {
	if len(c.Groups) > MaxGroups {
		e.tooBig("groups", len(c.Groups), MaxGroups, syscall.E2BIG)
	}
	e.u32(c.UID)
	e.u32(c.GID)
	e.u32(c.PID)
	e.u64(c.LkOwner)
	e.u32(uint32(len(c.Groups)))
	for _, g := range c.Groups {
		e.u32(g)
	}
}

// decoder reads what encoder wrote. The first error sticks: later reads
// return zero values, and err says what went wrong first.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("decode %s at byte %d: %w", what, d.off, ErrMalformed)
	}
}

// take returns the next n bytes, or nil after an error.
func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b)-d.off < n {
		d.fail(what + ": truncated")
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) u8() uint8 {
	if p := d.take(1, "u8"); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if p := d.take(2, "u16"); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if p := d.take(4, "u32"); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if p := d.take(8, "u64"); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) i64() int64 { return int64(d.u64()) }

func (d *decoder) bool() bool {
	switch d.u8() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bool")
	return false
}

// count reads a length and checks it against max and against what is left
// (each element takes at least min bytes), before anything is allocated.
func (d *decoder) count(max, min int, what string) int {
	n := d.u32()
	if d.err != nil {
		return 0
	}
	if uint64(n) > uint64(max) {
		d.fail(fmt.Sprintf("%s: %d exceeds limit %d", what, n, max))
		return 0
	}
	if uint64(n)*uint64(min) > uint64(len(d.b)-d.off) {
		d.fail(what + ": truncated")
		return 0
	}
	return int(n)
}

func (d *decoder) str(max int, what string) string {
	n := d.count(max, 1, what)
	return string(d.take(n, what))
}

// bytes copies, since the frame buffer is reused.
func (d *decoder) bytes(max int, what string) []byte {
	n := d.count(max, 1, what)
	p := d.take(n, what)
	if p == nil {
		return nil
	}
	return append([]byte{}, p...)
}

func (d *decoder) gfid() (g fop.GFID) {
	copy(g[:], d.take(16, "gfid"))
	return g
}

func (d *decoder) time() fop.Timespec {
	return fop.Timespec{Sec: d.i64(), Nsec: d.u32()}
}

func (d *decoder) attr(a *fop.Attr) {
	a.GFID = d.gfid()
	a.Ino = d.u64()
	a.Dev = d.u64()
	a.Mode = d.u32()
	a.Nlink = d.u32()
	a.UID = d.u32()
	a.GID = d.u32()
	a.Rdev = d.u64()
	a.Size = d.u64()
	a.Blocks = d.u64()
	a.Blksize = d.u32()
	a.Atime = d.time()
	a.Mtime = d.time()
	a.Ctime = d.time()
}

func (d *decoder) loc(l *fop.Loc) {
	l.Path = d.str(MaxPath, "loc path")
	l.GFID = d.gfid()
	l.Parent = d.gfid()
	l.Name = d.str(MaxName, "loc name")
}

// dict returns nil for an empty dict, so that "no xattrs" round-trips.
func (d *decoder) dict() fop.Dict {
	n := d.count(MaxDictEntries, 8, "dict")
	if n == 0 {
		return nil
	}
	m := make(fop.Dict, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str(MaxName, "dict key")
		m[k] = d.bytes(MaxXattrValue, "dict value")
	}
	return m
}

func (d *decoder) setattr(s *fop.SetAttr) {
	s.Valid = d.u32()
	s.Mode = d.u32()
	s.UID = d.u32()
	s.GID = d.u32()
	s.Atime = d.time()
	s.Mtime = d.time()
}

func (d *decoder) flock(f *fop.Flock) {
	f.Type = int16(d.u16())
	f.Start = d.i64()
	f.Len = d.i64()
	f.PID = d.u32()
	f.Owner = d.u64()
	f.Client = d.str(MaxName, "lock client")
}

func (d *decoder) statfs(s *fop.Statfs) {
	s.Bsize = d.u64()
	s.Frsize = d.u64()
	s.Blocks = d.u64()
	s.Bfree = d.u64()
	s.Bavail = d.u64()
	s.Files = d.u64()
	s.Ffree = d.u64()
	s.Namemax = d.u32()
}

// minEntry is the smallest encoded directory entry.
const minEntry = 4 + 8 + 8 + 4 + 1

func (d *decoder) entries() []fop.DirEntry {
	n := d.count(MaxDirEntries, minEntry, "dir entries")
	if n == 0 {
		return nil
	}
	es := make([]fop.DirEntry, n)
	for i := 0; i < n && d.err == nil; i++ {
		e := &es[i]
		e.Name = d.str(MaxName, "entry name")
		e.Off = d.u64()
		e.Ino = d.u64()
		e.Type = d.u32()
		fl := d.u8()
		if fl&^(entHasAttr|entHasXattrs) != 0 {
			d.fail("entry flags")
		}
		if fl&entHasAttr != 0 {
			e.Attr = new(fop.Attr)
			d.attr(e.Attr)
		}
		if fl&entHasXattrs != 0 {
			e.Xattrs = d.dict()
			if e.Xattrs == nil {
				e.Xattrs = fop.Dict{}
			}
		}
	}
	if d.err != nil {
		return nil
	}
	return es
}

func (d *decoder) caller(c *fop.Caller) {
	c.UID = d.u32()
	c.GID = d.u32()
	c.PID = d.u32()
	c.LkOwner = d.u64()
	n := d.count(MaxGroups, 4, "groups")
	if n == 0 {
		c.Groups = nil
		return
	}
	c.Groups = make([]uint32, n)
	for i := range c.Groups {
		c.Groups[i] = d.u32()
	}
}

// end checks that the whole message was used.
func (d *decoder) end() error {
	if d.err == nil && d.off != len(d.b) {
		d.fail(fmt.Sprintf("%d trailing bytes", len(d.b)-d.off))
	}
	return d.err
}
