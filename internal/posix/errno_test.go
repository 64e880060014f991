package posix

import (
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// TestErrnoTable checks the errno of each operation's edge cases, as
// fop.Errno reports them at the front ends.
func TestErrnoTable(t *testing.T) {
	b := newBrick(t)
	ctx := b.ctx
	d := b.mkdir(ctx, fop.RootGFID, "d", 0o755)
	sub := b.mkdir(ctx, d.GFID, "sub", 0o755)
	b.create(ctx, sub.GFID, "inner", 0o644, "")
	b.mkdir(ctx, fop.RootGFID, "e", 0o755)
	f := b.create(ctx, fop.RootGFID, "f", 0o644, "data")
	s, _, _ := b.Symlink(ctx, at(fop.RootGFID, "s"), "f", 0, nil)
	name := func(parent fop.GFID, n string) *fop.Loc { return &fop.Loc{Parent: parent, Name: n} }
	fd := fop.NewFD(f.GFID, 0)
	if err := b.Open(ctx, byGFID(f.GFID), unix.O_RDONLY, fd); err != nil {
		t.Fatal(err)
	}
	defer b.Release(ctx, fd)

	tests := []struct {
		name string
		err  error
		want syscall.Errno
	}{
		{"mkdir existing", err2(b.Mkdir(ctx, at(fop.RootGFID, "d"), 0o755, 0, nil)), unix.EEXIST},
		{"rmdir a file", err1(b.Rmdir(ctx, name(fop.RootGFID, "f"))), unix.ENOTDIR},
		{"unlink a dir", err1(b.Unlink(ctx, name(fop.RootGFID, "d"))), unix.EISDIR},
		{"rmdir non-empty", err1(b.Rmdir(ctx, name(d.GFID, "sub"))), unix.ENOTEMPTY},
		{"open a dir", b.Open(ctx, byGFID(d.GFID), unix.O_RDONLY, fop.NewFD(d.GFID, 0)), unix.EISDIR},
		{"opendir a file", b.Opendir(ctx, byGFID(f.GFID), fop.NewFD(f.GFID, 0)), unix.ENOTDIR},
		{"readlink a file", err1(b.Readlink(ctx, byGFID(f.GFID))), unix.EINVAL},
		{"readlink a dir", err1(b.Readlink(ctx, byGFID(d.GFID))), unix.EINVAL},
		{"lookup under a file", err2(b.Lookup(ctx, name(f.GFID, "x"), nil)), unix.ENOTDIR},
		{"create under unknown parent", err2(b.Mkdir(ctx, at(fop.NewGFID(), "x"), 0o755, 0, nil)), unix.ENOENT},
		{"lookup of unknown gfid", err2(b.Lookup(ctx, byGFID(fop.NewGFID()), nil)), unix.ENOENT},
		{"entry op without parent", err2(b.Mkdir(ctx, &fop.Loc{Name: "x"}, 0o755, 0, nil)), unix.EINVAL},
		{"rename dir into itself", err3(b.Rename(ctx, name(fop.RootGFID, "d"), name(sub.GFID, "loop"), 0)), unix.EINVAL},
		{"rename dir over non-empty dir", err3(b.Rename(ctx, name(fop.RootGFID, "e"), name(fop.RootGFID, "d"), 0)), unix.ENOTEMPTY},
		{"rename file over dir", err3(b.Rename(ctx, name(fop.RootGFID, "f"), name(fop.RootGFID, "d"), 0)), unix.EISDIR},
		{"rename missing", err3(b.Rename(ctx, name(fop.RootGFID, "none"), name(fop.RootGFID, "y"), 0)), unix.ENOENT},
		{"link onto existing name", err2(b.Link(ctx, byGFID(f.GFID), at(fop.RootGFID, "s"))), unix.EEXIST},
		{"truncate a dir", err1(b.Truncate(ctx, byGFID(d.GFID), 0)), unix.EISDIR},
		{"truncate a symlink", err1(b.Truncate(ctx, byGFID(s.GFID), 0)), unix.ELOOP},
		{"ftruncate read-only fd", err1(b.Ftruncate(ctx, fd, 0)), unix.EINVAL},
		{"write read-only fd", err2(b.Write(ctx, fd, []byte("x"), 0)), unix.EBADF},
		{"replace missing xattr", b.Setxattr(ctx, byGFID(f.GFID), fop.Dict{"user.none": nil}, unix.XATTR_REPLACE), unix.ENODATA},
		{"remove missing xattr", b.Removexattr(ctx, byGFID(f.GFID), "user.none"), unix.ENODATA},
		{"remove trusted.gfid", b.Removexattr(ctx, byGFID(f.GFID), xattrGFID), unix.EPERM},
		{"seek with SEEK_SET", err1(b.Seek(ctx, fd, 0, unix.SEEK_SET)), unix.EINVAL},
		{"seek data past end", err1(b.Seek(ctx, fd, 100, unix.SEEK_DATA)), unix.ENXIO},
		{"xattrop unknown op", err1(b.Xattrop(ctx, byGFID(f.GFID), 9, fop.Dict{"trusted.x": {0, 0, 0, 1}})), unix.EINVAL},
		{"xattrop odd length", err1(b.Xattrop(ctx, byGFID(f.GFID), fop.XattropAddArray32, fop.Dict{"trusted.x": {1}})), unix.EINVAL},
		{"lk below features/locks", err1(b.Lk(ctx, fd, fop.GetLk, &fop.Flock{})), unix.EOPNOTSUPP},
		{"read unknown fd", err1(b.Read(ctx, fop.NewFD(f.GFID, 0), make([]byte, 1), 0)), unix.EBADF},
		{"readdir of a file fd", err1(b.Readdir(ctx, fd, 0, 1, false, nil)), unix.EBADF},
	}
	for _, tt := range tests {
		if got := fop.Errno(tt.err); got != tt.want {
			t.Errorf("%s: %v (%v), want %v", tt.name, got, tt.err, tt.want)
		}
	}
}

func err1[A any](_ A, err error) error                 { return err }
func err2[A, B any](_ A, _ B, err error) error         { return err }
func err3[A, B, C any](_ A, _ B, _ C, err error) error { return err }
