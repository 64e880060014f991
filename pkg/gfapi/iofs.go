package gfapi

import (
	"io"
	"io/fs"
	"syscall"
)

// FS returns the volume as a read-only io/fs.FS (fs.WalkDir, fs.Glob,
// http.FS...). Names are fs.FS's: unrooted, "." for the root.
func (v *Volume) FS() fs.FS { return volFS{v} }

type volFS struct{ v *Volume }

var (
	_ fs.ReadDirFS  = volFS{}
	_ fs.StatFS     = volFS{}
	_ fs.ReadLinkFS = volFS{}
)

func (f volFS) check(op, name string) error {
	if !fs.ValidPath(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return nil
}

// Open opens a file for reading, or a directory for listing.
func (f volFS) Open(name string) (fs.File, error) {
	if err := f.check("open", name); err != nil {
		return nil, err
	}
	fi, err := f.v.Stat(name)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return &dirFile{v: f.v, name: name, info: fi}, nil
	}
	return f.v.OpenFile(name, syscall.O_RDONLY, 0)
}

func (f volFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := f.check("readdir", name); err != nil {
		return nil, err
	}
	return f.v.ReadDir(name)
}

func (f volFS) Stat(name string) (fs.FileInfo, error) {
	if err := f.check("stat", name); err != nil {
		return nil, err
	}
	return f.v.Stat(name)
}

func (f volFS) ReadLink(name string) (string, error) {
	if err := f.check("readlink", name); err != nil {
		return "", err
	}
	return f.v.Readlink(name)
}

func (f volFS) Lstat(name string) (fs.FileInfo, error) {
	if err := f.check("lstat", name); err != nil {
		return nil, err
	}
	return f.v.Lstat(name)
}

// dirFile is an open directory of volFS; it lists the directory on the
// first ReadDir.
type dirFile struct {
	v       *Volume
	name    string
	info    fs.FileInfo
	entries []fs.DirEntry
	listed  bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: syscall.EISDIR}
}

// ReadDir follows fs.ReadDirFile: n > 0 returns at most n entries and
// io.EOF at the end; n <= 0 returns the rest.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.listed {
		ents, err := d.v.ReadDir(d.name)
		if err != nil {
			return nil, err
		}
		d.entries, d.listed = ents, true
	}
	if n <= 0 {
		ents := d.entries
		d.entries = nil
		return ents, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	ents := d.entries[:n]
	d.entries = d.entries[n:]
	return ents, nil
}
