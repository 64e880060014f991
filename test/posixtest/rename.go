package posixtest

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// RenameFiles checks renaming files over files, to new names and across
// directories.
func RenameFiles(t *testing.T, dir string) {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, "from a", 0o644)
	writeFile(t, b, "from b", 0o644)
	ino := lstat(t, a).Ino
	wantErrno(t, "rename file over file", unix.Rename(a, b), 0)
	wantErrno(t, "old name gone", unix.Access(a, unix.F_OK), unix.ENOENT)
	if st := lstat(t, b); st.Ino != ino || st.Nlink != 1 {
		t.Errorf("target: ino %d nlink %d, want ino %d nlink 1", st.Ino, st.Nlink, ino)
	}
	if got := readFile(t, b); got != "from a" {
		t.Errorf("target content = %q", got)
	}

	sub := filepath.Join(dir, "sub")
	must(t, os.Mkdir(sub, 0o755))
	wantErrno(t, "rename into subdir", unix.Rename(b, filepath.Join(sub, "c")), 0)
	wantErrno(t, "rename to itself", unix.Rename(filepath.Join(sub, "c"), filepath.Join(sub, "c")), 0)
	wantErrno(t, "rename missing", unix.Rename(a, filepath.Join(dir, "x")), unix.ENOENT)
	wantErrno(t, "rename into missing dir", unix.Rename(filepath.Join(sub, "c"), filepath.Join(dir, "no", "c")), unix.ENOENT)

	// Renaming one hard link over another of the same inode is a no-op.
	c, d := filepath.Join(sub, "c"), filepath.Join(sub, "d")
	must(t, os.Link(c, d))
	wantErrno(t, "rename over own hard link", unix.Rename(c, d), 0)
	if _, err := os.Lstat(c); err != nil {
		t.Errorf("rename over own hard link removed the source: %v", err)
	}

	// An open descriptor follows the file, and a replaced file stays readable.
	e := filepath.Join(dir, "e")
	writeFile(t, e, "old e", 0o644)
	fh, err := os.Open(e)
	must(t, err)
	defer fh.Close()
	wantErrno(t, "rename over open file", unix.Rename(c, e), 0)
	buf := make([]byte, 16)
	if n, _ := fh.ReadAt(buf, 0); string(buf[:n]) != "old e" {
		t.Errorf("replaced file read through open fd = %q", buf[:n])
	}
}

// RenameDirs checks directory renames and their errnos.
func RenameDirs(t *testing.T, dir string) {
	mk := func(p ...string) string {
		path := filepath.Join(append([]string{dir}, p...)...)
		must(t, os.MkdirAll(path, 0o755))
		return path
	}
	src, empty, full := mk("src"), mk("empty"), mk("full")
	must(t, os.WriteFile(filepath.Join(src, "inside"), []byte("x"), 0o644))
	must(t, os.WriteFile(filepath.Join(full, "occupant"), nil, 0o644))
	f := filepath.Join(dir, "file")
	writeFile(t, f, "", 0o644)

	wantErrno(t, "dir onto non-empty dir", unix.Rename(src, full), unix.ENOTEMPTY)
	wantErrno(t, "file over dir", unix.Rename(f, empty), unix.EISDIR)
	wantErrno(t, "dir over file", unix.Rename(src, f), unix.ENOTDIR)
	child := mk("src", "child")
	wantErrno(t, "dir into its own child", unix.Rename(src, filepath.Join(child, "x")), unix.EINVAL)
	wantErrno(t, "dir onto its own child", unix.Rename(src, child), unix.EINVAL)
	wantErrno(t, "dir over empty dir", unix.Rename(src, empty), 0)
	if got := readFile(t, filepath.Join(empty, "inside")); got != "x" {
		t.Errorf("content after dir rename = %q", got)
	}
	wantErrno(t, "old dir gone", unix.Access(src, unix.F_OK), unix.ENOENT)
	wantErrno(t, "rename dir to new name", unix.Rename(empty, filepath.Join(full, "moved")), 0)
	if _, err := os.Stat(filepath.Join(full, "moved", "child")); err != nil {
		t.Errorf("subtree after rename: %v", err)
	}
	// ".." of the moved dir is its new parent.
	if a, b := lstat(t, filepath.Join(full, "moved", "..")), lstat(t, full); a.Ino != b.Ino {
		t.Errorf("moved dir's .. is inode %d, want %d", a.Ino, b.Ino)
	}
}

// RenameNoReplace checks renameat2(RENAME_NOREPLACE).
func RenameNoReplace(t *testing.T, dir string) {
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	writeFile(t, a, "a", 0o644)
	writeFile(t, b, "b", 0o644)
	rn := func(from, to string) error {
		return unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	}
	wantErrno(t, "RENAME_NOREPLACE over file", rn(a, b), unix.EEXIST)
	if got := readFile(t, b); got != "b" {
		t.Errorf("target changed by failed rename: %q", got)
	}
	wantErrno(t, "RENAME_NOREPLACE to new name", rn(a, c), 0)
	wantErrno(t, "old name gone", unix.Access(a, unix.F_OK), unix.ENOENT)
	d := filepath.Join(dir, "d")
	must(t, os.Mkdir(d, 0o755))
	wantErrno(t, "RENAME_NOREPLACE over empty dir", rn(c, d), unix.EEXIST)
}
