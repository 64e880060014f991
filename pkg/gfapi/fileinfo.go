package gfapi

import (
	"io/fs"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// unixMode converts permission and special bits to st_mode bits.
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= syscall.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		u |= syscall.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		u |= syscall.S_ISVTX
	}
	return u
}

// fileMode converts st_mode to fs.FileMode, as package os does.
func fileMode(u uint32) fs.FileMode {
	m := fs.FileMode(u & 0o777)
	switch u & syscall.S_IFMT {
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	}
	if u&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if u&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if u&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// fileInfo is an object's attributes as fs.FileInfo. Sys returns a
// *syscall.Stat_t (inode number, owner, link count, times).
type fileInfo struct {
	name string
	attr fop.Attr
}

func newFileInfo(name string, a *fop.Attr) *fileInfo { return &fileInfo{name: name, attr: *a} }

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return int64(fi.attr.Size) }
func (fi *fileInfo) Mode() fs.FileMode  { return fileMode(fi.attr.Mode) }
func (fi *fileInfo) ModTime() time.Time { return fi.attr.Mtime.Time() }
func (fi *fileInfo) IsDir() bool        { return fi.attr.IsDir() }

func (fi *fileInfo) Sys() any {
	a := &fi.attr
	ino := a.Ino
	if ino == 0 {
		ino = fop.InoOf(a.GFID)
	}
	return &syscall.Stat_t{
		Dev: a.Dev, Ino: ino, Nlink: uint64(a.Nlink), Mode: a.Mode, Uid: a.UID, Gid: a.GID,
		Rdev: a.Rdev, Size: int64(a.Size), Blksize: int64(a.Blksize), Blocks: int64(a.Blocks),
		Atim: syscall.Timespec{Sec: a.Atime.Sec, Nsec: int64(a.Atime.Nsec)},
		Mtim: syscall.Timespec{Sec: a.Mtime.Sec, Nsec: int64(a.Mtime.Nsec)},
		Ctim: syscall.Timespec{Sec: a.Ctime.Sec, Nsec: int64(a.Ctime.Nsec)},
	}
}

// dirEntry is one ReadDir result; readdirplus gave its attributes.
type dirEntry struct {
	name string
	typ  uint32
	attr *fop.Attr
}

func newDirEntry(e *fop.DirEntry) *dirEntry {
	return &dirEntry{name: e.Name, typ: e.Type, attr: e.Attr}
}

func (d *dirEntry) Name() string      { return d.name }
func (d *dirEntry) IsDir() bool       { return d.typ == syscall.S_IFDIR }
func (d *dirEntry) Type() fs.FileMode { return fileMode(d.typ).Type() }

func (d *dirEntry) Info() (fs.FileInfo, error) {
	if d.attr == nil {
		// Layers below always fill readdirplus attributes; a missing one
		// means the entry vanished while listing.
		return nil, &fs.PathError{Op: "stat", Path: d.name, Err: syscall.ENOENT}
	}
	return newFileInfo(d.name, d.attr), nil
}
