package posix

import (
	"context"
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Extended attributes, all namespaces, as the caller (the kernel decides
// who may read or write user.*, trusted.* and system.*). Only trusted.gfid
// is refused: changing it would orphan the object's handle.

// xattrTarget is where the *xattrat calls find an object.
type xattrTarget struct {
	fd    int
	path  string
	flags int
}

func (p *Posix) getxattr(ctx context.Context, t xattrTarget, name string) (fop.Dict, error) {
	out := fop.Dict{}
	err := p.as(ctx, func() error {
		if name != "" {
			v, err := getxattrAlloc(t.fd, t.path, t.flags, name)
			if err != nil {
				return err
			}
			out[name] = v
			return nil
		}
		names, err := listxattrAlloc(t.fd, t.path, t.flags)
		if err != nil {
			return err
		}
		for _, n := range names {
			v, err := getxattrAlloc(t.fd, t.path, t.flags, n)
			if err == unix.ENODATA || err == unix.EACCES || err == unix.EPERM {
				continue // removed meanwhile, or not for this caller
			}
			if err != nil {
				return err
			}
			out[n] = v
		}
		return nil
	})
	return out, err
}

func (p *Posix) setxattr(ctx context.Context, t xattrTarget, xattrs fop.Dict, flags int) error {
	if _, ok := xattrs[xattrGFID]; ok {
		return unix.EPERM
	}
	return p.as(ctx, func() error {
		for k, v := range xattrs {
			if err := setxattrat(t.fd, t.path, t.flags, k, v, flags); err != nil {
				return err
			}
		}
		return nil
	})
}

func (p *Posix) removexattr(ctx context.Context, t xattrTarget, name string) error {
	if name == xattrGFID {
		return unix.EPERM
	}
	return p.as(ctx, func() error { return removexattrat(t.fd, t.path, t.flags, name) })
}

func objTarget(o *object) xattrTarget {
	fd, path, flags := o.at()
	return xattrTarget{fd, path, flags}
}

func fdTarget(h *openFile) xattrTarget {
	return xattrTarget{h.fd, "", unix.AT_EMPTY_PATH}
}

// Getxattr returns one xattr, or all with name "".
func (p *Posix) Getxattr(ctx context.Context, loc *fop.Loc, name string) (fop.Dict, error) {
	o, err := p.object(loc)
	if err != nil {
		return nil, fail("getxattr", loc, err)
	}
	defer p.closeObject(o)
	d, err := p.getxattr(ctx, objTarget(o), name)
	if err != nil {
		return nil, fail("getxattr "+name, loc, err)
	}
	return d, nil
}

// Fgetxattr is Getxattr on an open FD.
func (p *Posix) Fgetxattr(ctx context.Context, fd *fop.FD, name string) (fop.Dict, error) {
	h, err := p.fileOf(fd)
	if err != nil {
		return nil, failFD("fgetxattr", fd, err)
	}
	d, err := p.getxattr(ctx, fdTarget(h), name)
	if err != nil {
		return nil, failFD("fgetxattr "+name, fd, err)
	}
	return d, nil
}

// Setxattr sets every xattr in xattrs (flags XATTR_CREATE/XATTR_REPLACE).
func (p *Posix) Setxattr(ctx context.Context, loc *fop.Loc, xattrs fop.Dict, flags int) error {
	o, err := p.object(loc)
	if err != nil {
		return fail("setxattr", loc, err)
	}
	defer p.closeObject(o)
	err = p.dirXattrChange(o.g, o.dir != nil, func() error { return p.setxattr(ctx, objTarget(o), xattrs, flags) })
	if err != nil {
		return fail("setxattr", loc, err)
	}
	return nil
}

// Fsetxattr is Setxattr on an open FD.
func (p *Posix) Fsetxattr(ctx context.Context, fd *fop.FD, xattrs fop.Dict, flags int) error {
	h, err := p.fileOf(fd)
	if err != nil {
		return failFD("fsetxattr", fd, err)
	}
	err = p.dirXattrChange(h.g, p.isDirFD(fd), func() error { return p.setxattr(ctx, fdTarget(h), xattrs, flags) })
	if err != nil {
		return failFD("fsetxattr", fd, err)
	}
	return nil
}

// Removexattr removes one xattr.
func (p *Posix) Removexattr(ctx context.Context, loc *fop.Loc, name string) error {
	o, err := p.object(loc)
	if err != nil {
		return fail("removexattr", loc, err)
	}
	defer p.closeObject(o)
	err = p.dirXattrChange(o.g, o.dir != nil, func() error { return p.removexattr(ctx, objTarget(o), name) })
	if err != nil {
		return fail("removexattr "+name, loc, err)
	}
	return nil
}

// Fremovexattr is Removexattr on an open FD.
func (p *Posix) Fremovexattr(ctx context.Context, fd *fop.FD, name string) error {
	h, err := p.fileOf(fd)
	if err != nil {
		return failFD("fremovexattr", fd, err)
	}
	err = p.dirXattrChange(h.g, p.isDirFD(fd), func() error { return p.removexattr(ctx, fdTarget(h), name) })
	if err != nil {
		return failFD("fremovexattr "+name, fd, err)
	}
	return nil
}

// Xattrop adds each value of xattrs, an array of big-endian counters,
// element-wise to the stored value and returns the results.
func (p *Posix) Xattrop(ctx context.Context, loc *fop.Loc, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	o, err := p.object(loc)
	if err != nil {
		return nil, fail("xattrop", loc, err)
	}
	defer p.closeObject(o)
	d, err := p.xattrop(o.g, objTarget(o), op, xattrs)
	if err != nil {
		return nil, fail("xattrop", loc, err)
	}
	return d, nil
}

// Fxattrop is Xattrop on an open FD.
func (p *Posix) Fxattrop(ctx context.Context, fd *fop.FD, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	h, err := p.fileOf(fd)
	if err != nil {
		return nil, failFD("fxattrop", fd, err)
	}
	d, err := p.xattrop(h.g, fdTarget(h), op, xattrs)
	if err != nil {
		return nil, failFD("fxattrop", fd, err)
	}
	return d, nil
}

// xattrop is done as root: its counters are the cluster layers' own
// bookkeeping, not the caller's data.
func (p *Posix) xattrop(g fop.GFID, t xattrTarget, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	width := 0
	switch op {
	case fop.XattropAddArray32:
		width = 4
	case fop.XattropAddArray64:
		width = 8
	default:
		return nil, unix.EINVAL
	}
	for k, v := range xattrs {
		if len(v)%width != 0 || k == xattrGFID {
			return nil, unix.EINVAL
		}
	}
	mu := &p.xattropMu[int(g[15])%xattropStripes]
	mu.Lock()
	defer mu.Unlock()
	out := fop.Dict{}
	for k, v := range xattrs {
		cur, err := getxattrAlloc(t.fd, t.path, t.flags, k)
		switch {
		case err == unix.ENODATA:
			cur = make([]byte, len(v))
		case err != nil:
			return nil, err
		case len(cur) != len(v):
			return nil, unix.EINVAL
		}
		addArray(cur, v, width)
		if err := setxattrat(t.fd, t.path, t.flags, k, cur, 0); err != nil {
			return nil, err
		}
		out[k] = cur
	}
	return out, nil
}

// addArray adds the big-endian counters of delta to acc, in place.
func addArray(acc, delta []byte, width int) {
	for i := 0; i+width <= len(acc); i += width {
		if width == 4 {
			binary.BigEndian.PutUint32(acc[i:], binary.BigEndian.Uint32(acc[i:])+binary.BigEndian.Uint32(delta[i:]))
		} else {
			binary.BigEndian.PutUint64(acc[i:], binary.BigEndian.Uint64(acc[i:])+binary.BigEndian.Uint64(delta[i:]))
		}
	}
}
