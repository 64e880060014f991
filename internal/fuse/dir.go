package fuse

import (
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// direntGuess is a typical entry's size in a READDIR reply, to ask the
// layers for about as many entries as fit.
const direntGuess = 32

// OpenDir opens a directory for listing.
func (fs *FS) OpenDir(_ <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	n := fs.begin(in.NodeId)
	if n == nil {
		return fuse.ENOENT
	}
	loc := fs.inodes.loc(n)
	fd := fop.NewFD(n.gfid, in.Flags)
	if err := fs.top.Opendir(fs.ctx(&in.InHeader, 0), loc, fd); err != nil {
		return fs.status("opendir", loc, err)
	}
	out.Fh = fs.addHandle(fd)
	return fuse.OK
}

// ReadDir lists names and types.
func (fs *FS) ReadDir(_ <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return fs.readDir(in, out, false)
}

// ReadDirPlus lists names with attributes, so that ls -l needs no lookups.
func (fs *FS) ReadDirPlus(_ <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return fs.readDir(in, out, true)
}

func (fs *FS) readDir(in *fuse.ReadIn, out *fuse.DirEntryList, plus bool) fuse.Status {
	dir := fs.begin(in.NodeId)
	fd := fs.handle(in.Fh)
	if dir == nil || fd == nil {
		return fuse.EBADF
	}
	guess := direntGuess
	if plus {
		guess += 128 // the EntryOut in front of each entry
	}
	want := max(int(in.Size)/guess, 1)
	ents, err := fs.top.Readdir(fs.ctx(&in.InHeader, 0), fd, in.Offset, want, plus, nil)
	if err != nil {
		return fs.status("readdir", fs.inodes.loc(dir), err)
	}
	for i := range ents {
		e := &ents[i]
		de := fuse.DirEntry{Name: e.Name, Ino: e.Ino, Mode: e.Type, Off: e.Off}
		if e.Attr != nil && de.Ino == 0 {
			de.Ino = fop.InoOf(e.Attr.GFID)
		}
		if !plus {
			if !out.AddDirEntry(de) {
				break
			}
			continue
		}
		eo := out.AddDirLookupEntry(de)
		if eo == nil {
			break // the rest comes with the next request, from e.Off
		}
		// "." and ".." are not looked up by the kernel; an entry without
		// attributes is left for a LOOKUP (node id 0 says so).
		if e.Attr == nil || e.Name == "." || e.Name == ".." {
			continue
		}
		fs.entry(eo, dir, e.Name, e.Attr)
	}
	return fuse.OK
}

// FsyncDir makes a directory durable.
func (fs *FS) FsyncDir(_ <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	<-fs.ready
	fd := fs.handle(in.Fh)
	if fd == nil {
		return fuse.EBADF
	}
	err := fs.top.Fsyncdir(fs.ctx(&in.InHeader, 0), fd, in.FsyncFlags&1 != 0)
	return fs.status("fsyncdir", &fop.Loc{GFID: fd.GFID}, err)
}

// ReleaseDir closes a directory.
func (fs *FS) ReleaseDir(in *fuse.ReleaseIn) {
	fd := fs.dropHandle(in.Fh)
	if fd == nil {
		return
	}
	if err := fs.top.Releasedir(fs.ctx(&in.InHeader, 0), fd); err != nil {
		fs.log.Warn("releasedir failed", "gfid", fd.GFID, "err", err)
	}
}
