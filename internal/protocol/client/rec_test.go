package client_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// rec is a brick stand-in: it records each call's arguments as text and
// answers with fixed results (or fail), so that a call made through
// protocol/client and protocol/server can be compared with the same call
// made on a rec directly.
type rec struct {
	mu      sync.Mutex
	last    string
	log     []string
	fail    error
	forgot  []string
	content []byte
}

var (
	attrA = fop.Attr{GFID: fop.GFID{1: 1}, Ino: 5, Mode: 0o100644, Nlink: 1, UID: 7, Size: 99, Mtime: fop.Timespec{Sec: 1, Nsec: 2}}
	attrB = fop.Attr{GFID: fop.RootGFID, Ino: 1, Mode: 0o40755, Nlink: 3}
	attrC = fop.Attr{GFID: fop.GFID{3: 3}, Ino: 6, Mode: 0o40700, Nlink: 2}
	dictA = fop.Dict{"trusted.x": []byte{1, 2, 3}}
)

func fdText(fd *fop.FD) string { return fmt.Sprintf("fd{%s %#o}", fd.GFID, fd.Flags) }

func (r *rec) note(ctx context.Context, op string, args ...any) error {
	c := fop.CallerFrom(ctx)
	s := fmt.Sprintf("%s uid=%d gid=%d groups=%v pid=%d lk=%d %v", op, c.UID, c.GID, c.Groups, c.PID, c.LkOwner, args)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = s
	r.log = append(r.log, op)
	return r.fail
}

func (r *rec) lastCall() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func (r *rec) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string{}, r.log...)
}

func (r *rec) ForgetClient(client string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forgot = append(r.forgot, client)
}

func (r *rec) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	return attrA, dictA, r.note(ctx, "lookup", *loc, xreq)
}
func (r *rec) Stat(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	return attrA, r.note(ctx, "stat", *loc)
}
func (r *rec) Fstat(ctx context.Context, fd *fop.FD) (fop.Attr, error) {
	return attrA, r.note(ctx, "fstat", fdText(fd))
}
func (r *rec) Setattr(ctx context.Context, loc *fop.Loc, set *fop.SetAttr) (fop.Attr, error) {
	return attrA, r.note(ctx, "setattr", *loc, *set)
}
func (r *rec) Fsetattr(ctx context.Context, fd *fop.FD, set *fop.SetAttr) (fop.Attr, error) {
	return attrA, r.note(ctx, "fsetattr", fdText(fd), *set)
}
func (r *rec) Truncate(ctx context.Context, loc *fop.Loc, size uint64) (fop.Attr, error) {
	return attrA, r.note(ctx, "truncate", *loc, size)
}
func (r *rec) Ftruncate(ctx context.Context, fd *fop.FD, size uint64) (fop.Attr, error) {
	return attrA, r.note(ctx, "ftruncate", fdText(fd), size)
}
func (r *rec) Access(ctx context.Context, loc *fop.Loc, mask uint32) error {
	return r.note(ctx, "access", *loc, mask)
}
func (r *rec) Readlink(ctx context.Context, loc *fop.Loc) (string, error) {
	return "../target", r.note(ctx, "readlink", *loc)
}
func (r *rec) Mknod(ctx context.Context, loc *fop.Loc, mode, umask uint32, rdev uint64, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return attrA, attrB, r.note(ctx, "mknod", *loc, mode, umask, rdev, xdata)
}
func (r *rec) Mkdir(ctx context.Context, loc *fop.Loc, mode, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return attrC, attrB, r.note(ctx, "mkdir", *loc, mode, umask, xdata)
}
func (r *rec) Symlink(ctx context.Context, loc *fop.Loc, target string, umask uint32, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return attrA, attrB, r.note(ctx, "symlink", *loc, target, umask, xdata)
}
func (r *rec) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	return attrA, attrB, r.note(ctx, "create", *loc, flags, mode, umask, fdText(fd), xdata)
}
func (r *rec) Link(ctx context.Context, old, new *fop.Loc) (fop.Attr, fop.Attr, error) {
	return attrA, attrB, r.note(ctx, "link", *old, *new)
}
func (r *rec) Unlink(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	return attrB, r.note(ctx, "unlink", *loc)
}
func (r *rec) Rmdir(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	return attrB, r.note(ctx, "rmdir", *loc)
}
func (r *rec) Rename(ctx context.Context, old, new *fop.Loc, flags uint32) (fop.Attr, fop.Attr, fop.Attr, error) {
	return attrA, attrB, attrC, r.note(ctx, "rename", *old, *new, flags)
}
func (r *rec) Open(ctx context.Context, loc *fop.Loc, flags uint32, fd *fop.FD) error {
	return r.note(ctx, "open", *loc, flags, fdText(fd))
}
func (r *rec) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	r.mu.Lock()
	n := 0
	if off < int64(len(r.content)) {
		n = copy(buf, r.content[off:])
	}
	r.mu.Unlock()
	return n, r.note(ctx, "read", fdText(fd), len(buf), off)
}
func (r *rec) Write(ctx context.Context, fd *fop.FD, data []byte, off int64) (int, fop.Attr, error) {
	r.mu.Lock()
	if end := int(off) + len(data); end > len(r.content) {
		r.content = append(r.content, make([]byte, end-len(r.content))...)
	}
	copy(r.content[off:], data)
	r.mu.Unlock()
	return len(data), attrA, r.note(ctx, "write", fdText(fd), len(data), off)
}
func (r *rec) Flush(ctx context.Context, fd *fop.FD) error {
	return r.note(ctx, "flush", fdText(fd))
}
func (r *rec) Fsync(ctx context.Context, fd *fop.FD, datasync bool) (fop.Attr, error) {
	return attrA, r.note(ctx, "fsync", fdText(fd), datasync)
}
func (r *rec) Release(ctx context.Context, fd *fop.FD) error {
	return r.note(ctx, "release", fdText(fd))
}
func (r *rec) Opendir(ctx context.Context, loc *fop.Loc, fd *fop.FD) error {
	return r.note(ctx, "opendir", *loc, fdText(fd))
}
func (r *rec) Readdir(ctx context.Context, fd *fop.FD, off uint64, max int, plus bool, xreq fop.Dict) ([]fop.DirEntry, error) {
	a := attrA
	es := []fop.DirEntry{{Name: "a", Off: 1, Ino: 5, Type: 0o100000}}
	if plus {
		es = append(es, fop.DirEntry{Name: "b", Off: 2, Ino: 6, Type: 0o100000, Attr: &a, Xattrs: dictA})
	}
	return es, r.note(ctx, "readdir", fdText(fd), off, max, plus, xreq)
}
func (r *rec) Fsyncdir(ctx context.Context, fd *fop.FD, datasync bool) error {
	return r.note(ctx, "fsyncdir", fdText(fd), datasync)
}
func (r *rec) Releasedir(ctx context.Context, fd *fop.FD) error {
	return r.note(ctx, "releasedir", fdText(fd))
}
func (r *rec) Statfs(ctx context.Context, loc *fop.Loc) (fop.Statfs, error) {
	return fop.Statfs{Bsize: 4096, Blocks: 10, Bfree: 5, Namemax: 255}, r.note(ctx, "statfs", *loc)
}
func (r *rec) Getxattr(ctx context.Context, loc *fop.Loc, name string) (fop.Dict, error) {
	return dictA, r.note(ctx, "getxattr", *loc, name)
}
func (r *rec) Fgetxattr(ctx context.Context, fd *fop.FD, name string) (fop.Dict, error) {
	return dictA, r.note(ctx, "fgetxattr", fdText(fd), name)
}
func (r *rec) Setxattr(ctx context.Context, loc *fop.Loc, xattrs fop.Dict, flags int) error {
	return r.note(ctx, "setxattr", *loc, xattrs, flags)
}
func (r *rec) Fsetxattr(ctx context.Context, fd *fop.FD, xattrs fop.Dict, flags int) error {
	return r.note(ctx, "fsetxattr", fdText(fd), xattrs, flags)
}
func (r *rec) Removexattr(ctx context.Context, loc *fop.Loc, name string) error {
	return r.note(ctx, "removexattr", *loc, name)
}
func (r *rec) Fremovexattr(ctx context.Context, fd *fop.FD, name string) error {
	return r.note(ctx, "fremovexattr", fdText(fd), name)
}
func (r *rec) Xattrop(ctx context.Context, loc *fop.Loc, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	return dictA, r.note(ctx, "xattrop", *loc, op, xattrs)
}
func (r *rec) Fxattrop(ctx context.Context, fd *fop.FD, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	return dictA, r.note(ctx, "fxattrop", fdText(fd), op, xattrs)
}
func (r *rec) Lk(ctx context.Context, fd *fop.FD, cmd int, lock *fop.Flock) (fop.Flock, error) {
	return fop.Flock{Type: 1, Start: 5, Len: 6, PID: 7, Owner: 8, Client: "holder"}, r.note(ctx, "lk", fdText(fd), cmd, *lock)
}
func (r *rec) Inodelk(ctx context.Context, domain string, loc *fop.Loc, cmd int, lock *fop.Flock) error {
	return r.note(ctx, "inodelk", domain, *loc, cmd, *lock)
}
func (r *rec) Finodelk(ctx context.Context, domain string, fd *fop.FD, cmd int, lock *fop.Flock) error {
	return r.note(ctx, "finodelk", domain, fdText(fd), cmd, *lock)
}
func (r *rec) Entrylk(ctx context.Context, domain string, loc *fop.Loc, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	return r.note(ctx, "entrylk", domain, *loc, name, cmd, typ)
}
func (r *rec) Fentrylk(ctx context.Context, domain string, fd *fop.FD, name string, cmd fop.EntrylkCmd, typ fop.EntrylkType) error {
	return r.note(ctx, "fentrylk", domain, fdText(fd), name, cmd, typ)
}
func (r *rec) Fallocate(ctx context.Context, fd *fop.FD, mode uint32, off, length int64) (fop.Attr, error) {
	return attrA, r.note(ctx, "fallocate", fdText(fd), mode, off, length)
}
func (r *rec) Discard(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return attrA, r.note(ctx, "discard", fdText(fd), off, length)
}
func (r *rec) Zerofill(ctx context.Context, fd *fop.FD, off, length int64) (fop.Attr, error) {
	return attrA, r.note(ctx, "zerofill", fdText(fd), off, length)
}
func (r *rec) Seek(ctx context.Context, fd *fop.FD, off int64, whence int) (int64, error) {
	return off + 4096, r.note(ctx, "seek", fdText(fd), off, whence)
}
func (r *rec) Rchecksum(ctx context.Context, fd *fop.FD, off int64, length uint32) (uint32, []byte, error) {
	return 0xabcd, []byte{1, 2, 3, 4}, r.note(ctx, "rchecksum", fdText(fd), off, length)
}
