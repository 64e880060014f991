package posixtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// HardLinks checks link counts, shared identity and link errnos.
func HardLinks(t *testing.T, dir string) {
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	writeFile(t, a, "data", 0o644)
	wantErrno(t, "link", unix.Link(a, b), 0)
	wantErrno(t, "link again", unix.Link(a, c), 0)
	sa, sb := lstat(t, a), lstat(t, b)
	if sa.Ino != sb.Ino || sa.Nlink != 3 || sb.Nlink != 3 {
		t.Errorf("after two links: ino %d/%d nlink %d/%d, want one inode with nlink 3", sa.Ino, sb.Ino, sa.Nlink, sb.Nlink)
	}
	// Data written through one name is seen through the other.
	must(t, os.WriteFile(b, []byte("new data"), 0o644))
	if got := readFile(t, a); got != "new data" {
		t.Errorf("read through first name = %q", got)
	}
	must(t, os.Remove(a))
	if st := lstat(t, c); st.Nlink != 2 {
		t.Errorf("nlink after unlinking one name = %d, want 2", st.Nlink)
	}
	// Metadata is shared too.
	must(t, unix.Chmod(b, 0o600))
	wantMode(t, c, 0o600)

	wantErrno(t, "link to existing name", unix.Link(b, c), unix.EEXIST)
	wantErrno(t, "link missing source", unix.Link(a, filepath.Join(dir, "d")), unix.ENOENT)
	wantErrno(t, "link a directory", unix.Link(dir, filepath.Join(dir, "dirlink")), unix.EPERM)
	wantErrno(t, "link into missing dir", unix.Link(b, filepath.Join(dir, "no", "x")), unix.ENOENT)

	// A hard link to a symlink links the symlink itself.
	l, l2 := filepath.Join(dir, "l"), filepath.Join(dir, "l2")
	must(t, os.Symlink("nowhere", l))
	wantErrno(t, "link a symlink", unix.Link(l, l2), 0)
	if st := lstat(t, l2); st.Mode&unix.S_IFMT != unix.S_IFLNK || st.Nlink != 2 {
		t.Errorf("link of a symlink: mode %#o nlink %d", st.Mode, st.Nlink)
	}
}

// DirLinkCount checks that a directory's nlink is 2 plus its subdirectories.
func DirLinkCount(t *testing.T, dir string) {
	d := filepath.Join(dir, "d")
	must(t, os.Mkdir(d, 0o755))
	nlink := func(want uint64, when string) {
		t.Helper()
		if st := lstat(t, d); st.Nlink != want {
			t.Errorf("nlink %s = %d, want %d", when, st.Nlink, want)
		}
	}
	nlink(2, "of an empty dir")
	for _, n := range []string{"s1", "s2", "s3"} {
		must(t, os.Mkdir(filepath.Join(d, n), 0o755))
	}
	must(t, os.WriteFile(filepath.Join(d, "file"), nil, 0o644))
	nlink(5, "with 3 subdirs and a file")
	must(t, os.Remove(filepath.Join(d, "s1")))
	nlink(4, "after rmdir")
	must(t, os.Rename(filepath.Join(d, "s2"), filepath.Join(dir, "moved")))
	nlink(3, "after renaming a subdir out")
	if st := lstat(t, dir); st.Nlink != 4 {
		t.Errorf("nlink of the rename target's parent = %d, want 4", st.Nlink)
	}
	must(t, os.Rename(filepath.Join(d, "file"), filepath.Join(d, "file2")))
	nlink(3, "after renaming a file inside")
}

// Symlinks checks symlink, readlink, lstat and dangling links.
func Symlinks(t *testing.T, dir string) {
	f, l := filepath.Join(dir, "f"), filepath.Join(dir, "l")
	writeFile(t, f, "target data", 0o644)
	wantErrno(t, "symlink", unix.Symlink("f", l), 0)
	if got, err := os.Readlink(l); err != nil || got != "f" {
		t.Errorf("readlink = %q, %v", got, err)
	}
	st := lstat(t, l)
	if st.Mode&unix.S_IFMT != unix.S_IFLNK || st.Size != 1 {
		t.Errorf("lstat symlink: mode %#o size %d, want S_IFLNK size 1", st.Mode, st.Size)
	}
	if got := readFile(t, l); got != "target data" {
		t.Errorf("read through symlink = %q", got)
	}
	wantErrno(t, "symlink over existing", unix.Symlink("x", l), unix.EEXIST)
	buf := make([]byte, 64)
	_, err := unix.Readlink(f, buf)
	wantErrno(t, "readlink of a file", err, unix.EINVAL)
	_, err = unix.Open(l, unix.O_RDONLY|unix.O_NOFOLLOW, 0)
	wantErrno(t, "open symlink O_NOFOLLOW", err, unix.ELOOP)

	// Long targets and targets with odd bytes come back verbatim.
	long := strings.Repeat("x/", 1000) + "end"
	ll := filepath.Join(dir, "long")
	must(t, os.Symlink(long, ll))
	if got, err := os.Readlink(ll); err != nil || got != long {
		t.Errorf("readlink of a %d-byte target: %d bytes, %v", len(long), len(got), err)
	}

	dangling := filepath.Join(dir, "dangling")
	must(t, os.Symlink("missing", dangling))
	wantErrno(t, "stat dangling", unix.Stat(dangling, &unix.Stat_t{}), unix.ENOENT)
	wantErrno(t, "lstat dangling", unix.Lstat(dangling, &unix.Stat_t{}), 0)
	wantErrno(t, "unlink dangling", unix.Unlink(dangling), 0)

	// A symlink to a directory works as a path component.
	d := filepath.Join(dir, "d")
	must(t, os.Mkdir(d, 0o755))
	must(t, os.WriteFile(filepath.Join(d, "inner"), []byte("in"), 0o644))
	must(t, os.Symlink("d", filepath.Join(dir, "dl")))
	if got := readFile(t, filepath.Join(dir, "dl", "inner")); got != "in" {
		t.Errorf("read through dir symlink = %q", got)
	}
	wantErrno(t, "rmdir a symlink to a dir", unix.Rmdir(filepath.Join(dir, "dl")), unix.ENOTDIR)
}

// SymlinkLoop checks that resolving a symlink cycle fails with ELOOP.
func SymlinkLoop(t *testing.T, dir string) {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	must(t, os.Symlink("b", a))
	must(t, os.Symlink("a", b))
	wantErrno(t, "stat loop", unix.Stat(a, &unix.Stat_t{}), unix.ELOOP)
	_, err := unix.Open(a, unix.O_RDONLY, 0)
	wantErrno(t, "open loop", err, unix.ELOOP)
	_, err = unix.Open(a, unix.O_CREAT|unix.O_WRONLY, 0o644)
	wantErrno(t, "create through loop", err, unix.ELOOP)
	self := filepath.Join(dir, "self")
	must(t, os.Symlink("self", self))
	wantErrno(t, "stat self loop", unix.Stat(self, &unix.Stat_t{}), unix.ELOOP)
	wantErrno(t, "path through loop", unix.Access(filepath.Join(self, "x"), unix.F_OK), unix.ELOOP)
}
