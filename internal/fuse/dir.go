package fuse

import (
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// dirBatch is how many entries one Readdir asks the layers for. The kernel
// asks for a page at a time (a few dozen entries); the rest waits in the
// dirStream, so a large listing costs a tenth of the round trips.
const dirBatch = 256

// dirStream is an open directory: its FD and the entries fetched ahead of
// the kernel.
type dirStream struct {
	fd *fop.FD

	mu    sync.Mutex
	ahead []fop.DirEntry // continue the listing after cookie `after`
	after uint64
	plus  bool
	at    time.Time
}

// take returns the entries fetched ahead that continue the listing from
// off, if they are fresh enough to hand to the kernel with attributes.
func (ds *dirStream) take(off uint64, plus bool, maxAge time.Duration) []fop.DirEntry {
	ents := ds.ahead
	ds.ahead = nil
	if len(ents) == 0 || ds.after != off || ds.plus != plus || time.Since(ds.at) >= maxAge {
		return nil
	}
	return ents
}

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
	out.Fh = fs.addHandle(&dirStream{fd: fd})
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
	ds := fs.dirStream(in.Fh)
	if dir == nil || ds == nil {
		return fuse.EBADF
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	ents := ds.take(in.Offset, plus, fs.opts.AttrTimeout)
	if ents == nil {
		var err error
		ents, err = fs.top.Readdir(fs.ctx(&in.InHeader, 0), ds.fd, in.Offset, dirBatch, plus, nil)
		if err != nil {
			return fs.status("readdir", fs.inodes.loc(dir), err)
		}
		ds.at = time.Now()
	}
	n := fs.fillDir(out, dir, ents, plus)
	if n > 0 && n < len(ents) {
		ds.ahead, ds.after, ds.plus = ents[n:], ents[n-1].Off, plus
	}
	return fuse.OK
}

// fillDir adds entries to the reply until it is full and returns how many
// it took.
func (fs *FS) fillDir(out *fuse.DirEntryList, dir *inode, ents []fop.DirEntry, plus bool) int {
	for i := range ents {
		e := &ents[i]
		de := fuse.DirEntry{Name: e.Name, Ino: e.Ino, Mode: e.Type, Off: e.Off}
		if e.Attr != nil && de.Ino == 0 {
			de.Ino = fop.InoOf(e.Attr.GFID)
		}
		if !plus {
			if !out.AddDirEntry(de) {
				return i
			}
			continue
		}
		eo := out.AddDirLookupEntry(de)
		if eo == nil {
			return i
		}
		// "." and ".." are not looked up by the kernel; an entry without
		// attributes is left for a LOOKUP (node id 0 says so).
		if e.Attr == nil || e.Name == "." || e.Name == ".." {
			continue
		}
		if fs.entry(eo, dir, e.Name, e.Attr) != fuse.OK {
			*eo = fuse.EntryOut{} // the kernel will LOOKUP it
		}
	}
	return len(ents)
}

// FsyncDir makes a directory durable.
func (fs *FS) FsyncDir(_ <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	<-fs.ready
	ds := fs.dirStream(in.Fh)
	if ds == nil {
		return fuse.EBADF
	}
	err := fs.top.Fsyncdir(fs.ctx(&in.InHeader, 0), ds.fd, in.FsyncFlags&1 != 0)
	return fs.status("fsyncdir", &fop.Loc{GFID: ds.fd.GFID}, err)
}

// ReleaseDir closes a directory. As for Release, the kernel does not wait
// for the answer, so neither need the layers (fop.WithDetached).
func (fs *FS) ReleaseDir(in *fuse.ReleaseIn) {
	ds, ok := fs.dropHandle(in.Fh).(*dirStream)
	if !ok {
		return
	}
	if err := fs.top.Releasedir(fop.WithDetached(fs.ctx(&in.InHeader, 0)), ds.fd); err != nil {
		fs.log.Warn("releasedir failed", "gfid", ds.fd.GFID, "err", err)
	}
}
