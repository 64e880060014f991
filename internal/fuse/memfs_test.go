package fuse

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// memFS is a small in-memory layer that stands in for a graph in the
// bridge's tests. It checks nothing but existence and types.
type memFS struct {
	fop.Base
	mu      sync.Mutex
	nodes   map[fop.GFID]*memNode
	locks   map[fop.GFID][]fop.Flock
	flushes atomic.Int64
	// lkEvents, if set, hears "wait" when a SetLkW starts waiting and
	// "cancel" when its context ends.
	lkEvents chan string
}

func (m *memFS) lkEvent(ev string) {
	if m.lkEvents != nil {
		m.lkEvents <- ev
	}
}

type memNode struct {
	attr     fop.Attr
	data     []byte
	target   string
	children map[string]fop.GFID
	xattrs   fop.Dict
}

func newMemFS() *memFS {
	m := &memFS{nodes: map[fop.GFID]*memNode{}, locks: map[fop.GFID][]fop.Flock{}}
	m.nodes[fop.RootGFID] = m.newNode(fop.RootGFID, syscall.S_IFDIR|0o755)
	return m
}

func (m *memFS) newNode(g fop.GFID, mode uint32) *memNode {
	now := fop.TimespecOf(time.Now())
	n := &memNode{attr: fop.Attr{GFID: g, Ino: fop.InoOf(g), Mode: mode, Nlink: 1, Atime: now, Mtime: now, Ctime: now, Blksize: 4096},
		xattrs: fop.Dict{"trusted.gfid": g[:]}}
	if mode&syscall.S_IFMT == syscall.S_IFDIR {
		n.children = map[string]fop.GFID{}
		n.attr.Nlink = 2
	}
	return n
}

func (m *memFS) node(loc *fop.Loc) (*memNode, error) {
	g := loc.GFID
	if g.IsZero() || loc.Name != "" && !loc.Parent.IsZero() {
		p := m.nodes[loc.Parent]
		if p == nil || p.children == nil {
			return nil, syscall.ENOENT
		}
		c, ok := p.children[loc.Name]
		if !ok {
			return nil, syscall.ENOENT
		}
		g = c
	}
	n := m.nodes[g]
	if n == nil {
		return nil, syscall.ENOENT
	}
	return n, nil
}

func (m *memFS) Lookup(_ context.Context, loc *fop.Loc, _ fop.Dict) (fop.Attr, fop.Dict, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node(loc)
	if err != nil {
		return fop.Attr{}, nil, err
	}
	return n.attr, nil, nil
}

func (m *memFS) Stat(_ context.Context, loc *fop.Loc) (fop.Attr, error) {
	a, _, err := m.Lookup(context.Background(), &fop.Loc{GFID: loc.GFID}, nil)
	return a, err
}

func (m *memFS) Fstat(ctx context.Context, fd *fop.FD) (fop.Attr, error) {
	return m.Stat(ctx, &fop.Loc{GFID: fd.GFID})
}

func (m *memFS) Access(context.Context, *fop.Loc, uint32) error { return nil }

func (m *memFS) Setattr(_ context.Context, loc *fop.Loc, s *fop.SetAttr) (fop.Attr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node(&fop.Loc{GFID: loc.GFID})
	if err != nil {
		return fop.Attr{}, err
	}
	if s.Valid&fop.SetMode != 0 {
		n.attr.Mode = n.attr.Mode&syscall.S_IFMT | s.Mode
	}
	if s.Valid&fop.SetUID != 0 {
		n.attr.UID = s.UID
	}
	if s.Valid&fop.SetGID != 0 {
		n.attr.GID = s.GID
	}
	if s.Valid&fop.SetMtime != 0 {
		n.attr.Mtime = s.Mtime
	}
	if s.Valid&fop.SetAtime != 0 {
		n.attr.Atime = s.Atime
	}
	return n.attr, nil
}

func (m *memFS) Fsetattr(ctx context.Context, fd *fop.FD, s *fop.SetAttr) (fop.Attr, error) {
	return m.Setattr(ctx, &fop.Loc{GFID: fd.GFID}, s)
}

func (m *memFS) Truncate(_ context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node(&fop.Loc{GFID: loc.GFID})
	if err != nil {
		return fop.Attr{}, err
	}
	if uint64(len(n.data)) > size {
		n.data = n.data[:size]
	} else {
		n.data = append(n.data, make([]byte, size-uint64(len(n.data)))...)
	}
	n.attr.Size = size
	return n.attr, nil
}

func (m *memFS) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	return m.Truncate(ctx, &fop.Loc{GFID: fd.GFID}, size)
}

func (m *memFS) Readlink(_ context.Context, loc *fop.Loc) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node(&fop.Loc{GFID: loc.GFID})
	if err != nil {
		return "", err
	}
	return n.target, nil
}

// add links a new object into loc's parent.
func (m *memFS) add(ctx context.Context, loc *fop.Loc, mode uint32, fill func(*memNode)) (fop.Attr, fop.Attr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.nodes[loc.Parent]
	if p == nil || p.children == nil {
		return fop.Attr{}, fop.Attr{}, syscall.ENOENT
	}
	if _, ok := p.children[loc.Name]; ok {
		return fop.Attr{}, fop.Attr{}, syscall.EEXIST
	}
	n := m.newNode(loc.GFID, mode)
	c := fop.CallerFrom(ctx)
	n.attr.UID, n.attr.GID = c.UID, c.GID
	if fill != nil {
		fill(n)
	}
	m.nodes[loc.GFID] = n
	p.children[loc.Name] = loc.GFID
	if n.children != nil {
		p.attr.Nlink++
	}
	return n.attr, p.attr, nil
}

func (m *memFS) Mknod(ctx context.Context, loc *fop.Loc, mode, umask uint32, rdev uint64, _ fop.Dict) (fop.Attr, fop.Attr, error) {
	return m.add(ctx, loc, mode&^umask, func(n *memNode) { n.attr.Rdev = rdev })
}

func (m *memFS) Mkdir(ctx context.Context, loc *fop.Loc, mode, umask uint32, _ fop.Dict) (fop.Attr, fop.Attr, error) {
	return m.add(ctx, loc, syscall.S_IFDIR|mode&^umask&0o7777, nil)
}

func (m *memFS) Symlink(ctx context.Context, loc *fop.Loc, target string, _ uint32, _ fop.Dict) (fop.Attr, fop.Attr, error) {
	return m.add(ctx, loc, syscall.S_IFLNK|0o777, func(n *memNode) { n.target, n.attr.Size = target, uint64(len(target)) })
}

func (m *memFS) Create(ctx context.Context, loc *fop.Loc, _, mode, umask uint32, _ *fop.FD, _ fop.Dict) (fop.Attr, fop.Attr, error) {
	return m.add(ctx, loc, syscall.S_IFREG|mode&^umask&0o7777, nil)
}

func (m *memFS) Link(_ context.Context, old, new *fop.Loc) (fop.Attr, fop.Attr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node(&fop.Loc{GFID: old.GFID})
	if err != nil {
		return fop.Attr{}, fop.Attr{}, err
	}
	p := m.nodes[new.Parent]
	if _, ok := p.children[new.Name]; ok {
		return fop.Attr{}, fop.Attr{}, syscall.EEXIST
	}
	p.children[new.Name] = old.GFID
	n.attr.Nlink++
	return n.attr, p.attr, nil
}

func (m *memFS) remove(loc *fop.Loc, dir bool) (fop.Attr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node(&fop.Loc{Parent: loc.Parent, Name: loc.Name})
	if err != nil {
		return fop.Attr{}, err
	}
	p := m.nodes[loc.Parent]
	switch {
	case dir && n.children == nil:
		return fop.Attr{}, syscall.ENOTDIR
	case !dir && n.children != nil:
		return fop.Attr{}, syscall.EISDIR
	case dir && len(n.children) > 0:
		return fop.Attr{}, syscall.ENOTEMPTY
	}
	delete(p.children, loc.Name)
	if dir {
		p.attr.Nlink--
	}
	n.attr.Nlink--
	return p.attr, nil
}

func (m *memFS) Unlink(_ context.Context, loc *fop.Loc) (fop.Attr, error) {
	return m.remove(loc, false)
}
func (m *memFS) Rmdir(_ context.Context, loc *fop.Loc) (fop.Attr, error) { return m.remove(loc, true) }

func (m *memFS) Rename(_ context.Context, old, new *fop.Loc, _ uint32) (fop.Attr, fop.Attr, fop.Attr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node(&fop.Loc{Parent: old.Parent, Name: old.Name})
	if err != nil {
		return fop.Attr{}, fop.Attr{}, fop.Attr{}, err
	}
	op, np := m.nodes[old.Parent], m.nodes[new.Parent]
	delete(op.children, old.Name)
	np.children[new.Name] = n.attr.GFID
	return n.attr, op.attr, np.attr, nil
}

func (m *memFS) Open(_ context.Context, loc *fop.Loc, flags uint32, _ *fop.FD) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node(&fop.Loc{GFID: loc.GFID})
	if err != nil {
		return err
	}
	if flags&syscall.O_TRUNC != 0 {
		n.data, n.attr.Size = nil, 0
	}
	return nil
}

func (m *memFS) Read(_ context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.nodes[fd.GFID]
	if off >= int64(len(n.data)) {
		return 0, nil
	}
	return copy(buf, n.data[off:]), nil
}

func (m *memFS) Write(_ context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.nodes[fd.GFID]
	if end := int(off) + len(data); end > len(n.data) {
		n.data = append(n.data, make([]byte, end-len(n.data))...)
	}
	copy(n.data[off:], data)
	n.attr.Size = uint64(len(n.data))
	return len(data), n.attr, nil
}

func (m *memFS) Flush(context.Context, *fop.FD) error {
	m.flushes.Add(1)
	return nil
}
func (m *memFS) Fsync(ctx context.Context, fd *fop.FD, _ bool) (fop.Attr, error) {
	return m.Fstat(ctx, fd)
}
func (m *memFS) Release(context.Context, *fop.FD) error           { return nil }
func (m *memFS) Opendir(context.Context, *fop.Loc, *fop.FD) error { return nil }
func (m *memFS) Releasedir(context.Context, *fop.FD) error        { return nil }
func (m *memFS) Fsyncdir(context.Context, *fop.FD, bool) error    { return nil }
func (m *memFS) Statfs(context.Context, *fop.Loc) (fop.Statfs, error) {
	return fop.Statfs{Bsize: 4096, Frsize: 4096, Blocks: 1000, Bfree: 500, Bavail: 500, Files: 100, Ffree: 50, Namemax: 255}, nil
}

// Readdir lists children sorted by name; the cookie is the index + 1.
func (m *memFS) Readdir(_ context.Context, fd *fop.FD, off uint64, max int, plus bool, _ fop.Dict) ([]fop.DirEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.nodes[fd.GFID]
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range d.children {
			if !yield(k) {
				return
			}
		}
	})
	var out []fop.DirEntry
	for i := int(off); i < len(names) && len(out) < max; i++ {
		n := m.nodes[d.children[names[i]]]
		e := fop.DirEntry{Name: names[i], Off: uint64(i + 1), Ino: n.attr.Ino, Type: n.attr.Type()}
		if plus {
			a := n.attr
			e.Attr = &a
		}
		out = append(out, e)
	}
	return out, nil
}

func (m *memFS) Getxattr(_ context.Context, loc *fop.Loc, name string) (fop.Dict, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node(&fop.Loc{GFID: loc.GFID})
	if err != nil {
		return nil, err
	}
	if name == "" {
		return maps.Clone(n.xattrs), nil
	}
	v, ok := n.xattrs[name]
	if !ok {
		return nil, syscall.ENODATA
	}
	return fop.Dict{name: v}, nil
}

func (m *memFS) Setxattr(_ context.Context, loc *fop.Loc, x fop.Dict, _ int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node(&fop.Loc{GFID: loc.GFID})
	if err != nil {
		return err
	}
	for k, v := range x {
		n.xattrs[k] = v
	}
	return nil
}

func (m *memFS) Removexattr(_ context.Context, loc *fop.Loc, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.node(&fop.Loc{GFID: loc.GFID})
	if err != nil {
		return err
	}
	if _, ok := n.xattrs[name]; !ok {
		return syscall.ENODATA
	}
	delete(n.xattrs, name)
	return nil
}

// Lk keeps whole-file write locks only, enough to see conflicts and
// interruption: a conflicting SetLkW waits until ctx ends.
func (m *memFS) Lk(ctx context.Context, fd *fop.FD, cmd int, l *fop.Flock) (fop.Flock, error) {
	waited := false
	for {
		m.mu.Lock()
		held := m.locks[fd.GFID]
		var conflict *fop.Flock
		for i := range held {
			if held[i].Owner != l.Owner {
				conflict = &held[i]
			}
		}
		switch {
		case cmd == fop.GetLk:
			m.mu.Unlock()
			if conflict != nil {
				return *conflict, nil
			}
			return fop.Flock{Type: syscall.F_UNLCK}, nil
		case l.Type == syscall.F_UNLCK:
			m.locks[fd.GFID] = slices.DeleteFunc(held, func(h fop.Flock) bool { return h.Owner == l.Owner })
			m.mu.Unlock()
			return *l, nil
		case conflict == nil:
			m.locks[fd.GFID] = append(held, *l)
			m.mu.Unlock()
			return *l, nil
		}
		m.mu.Unlock()
		if cmd == fop.SetLk {
			return fop.Flock{}, syscall.EAGAIN
		}
		if !waited {
			m.lkEvent("wait")
			waited = true
		}
		select {
		case <-ctx.Done():
			m.lkEvent("cancel")
			return fop.Flock{}, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
