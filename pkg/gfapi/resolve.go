package gfapi

import (
	"context"
	"io/fs"
	"path"
	"strings"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// maxSymlinks is Linux's limit on symlinks followed in one resolution.
const maxSymlinks = 40

// clean makes p an absolute, lexically clean volume path.
func clean(p string) string { return path.Clean("/" + p) }

// resolve looks p up component by component from the root, following
// symlinks on the way and, if follow, at the end. It returns the object's
// Loc (with Parent and Name, for entry operations) and attributes.
func (v *Volume) resolve(ctx context.Context, p string, follow bool) (*fop.Loc, fop.Attr, error) {
	p = clean(p)
	for hops := 0; ; hops++ {
		loc, a, link, rest, err := v.walk(ctx, p, follow)
		if err != nil || link == "" {
			return loc, a, err
		}
		if hops == maxSymlinks {
			return nil, fop.Attr{}, syscall.ELOOP
		}
		// Restart from the link's target plus what remained after it.
		if !strings.HasPrefix(link, "/") {
			link = path.Join(path.Dir(loc.Path), link)
		}
		p = clean(link + "/" + rest)
	}
}

// walk resolves p until it meets a symlink it must follow; then it returns
// the symlink's Loc, target and the rest of p after it. Directories on the
// way may come from the dirCache; the last component is always looked up.
func (v *Volume) walk(ctx context.Context, p string, follow bool) (loc *fop.Loc, a fop.Attr, link, rest string, err error) {
	loc = &fop.Loc{GFID: fop.RootGFID, Path: "/"}
	if p == "/" {
		a, _, err = v.top.Lookup(ctx, loc, nil)
		return loc, a, "", "", err
	}
	a = fop.Attr{GFID: fop.RootGFID, Mode: syscall.S_IFDIR}
	parts := strings.Split(p[1:], "/")
	for i, name := range parts {
		if !a.IsDir() {
			return nil, fop.Attr{}, "", "", syscall.ENOTDIR
		}
		last := i == len(parts)-1
		next := &fop.Loc{Parent: a.GFID, Name: name, Path: path.Join(loc.Path, name)}
		if g, ok := v.dirs.get(a.GFID, name); ok && !last {
			next.GFID = g
			loc, a = next, fop.Attr{GFID: g, Mode: syscall.S_IFDIR}
			continue
		}
		na, _, err := v.top.Lookup(ctx, next, nil)
		if err != nil {
			return nil, fop.Attr{}, "", "", err
		}
		if na.IsDir() {
			v.dirs.put(a.GFID, name, na.GFID)
		}
		next.GFID = na.GFID
		loc, a = next, na
		if a.Type() == syscall.S_IFLNK && (!last || follow) {
			target, err := v.top.Readlink(ctx, loc)
			if err != nil {
				return nil, fop.Attr{}, "", "", err
			}
			return loc, a, target, strings.Join(parts[i+1:], "/"), nil
		}
	}
	return loc, a, "", "", nil
}

// parent resolves the directory that holds p and returns the Loc of the
// entry p names in it (GFID unset: the entry may not exist).
func (v *Volume) parent(ctx context.Context, p string) (*fop.Loc, error) {
	p = clean(p)
	if p == "/" {
		return nil, syscall.EEXIST // the root is not an entry of anything
	}
	dir, base := path.Split(p)
	dloc, da, err := v.resolve(ctx, dir, true)
	if err != nil {
		return nil, err
	}
	if !da.IsDir() {
		return nil, syscall.ENOTDIR
	}
	return &fop.Loc{Parent: dloc.GFID, Name: base, Path: path.Join(dloc.Path, base)}, nil
}

// pathErr wraps err as package os does, with the errno the graph meant.
func pathErr(op, p string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: p, Err: fop.Errno(err)}
}
