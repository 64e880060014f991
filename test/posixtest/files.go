package posixtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// MkdirRmdirErrnos checks the errnos of entry operations on the wrong kind
// of object.
func MkdirRmdirErrnos(t *testing.T, dir string) {
	d := filepath.Join(dir, "d")
	f := filepath.Join(dir, "f")
	must(t, os.Mkdir(d, 0o755))
	writeFile(t, f, "x", 0o644)
	must(t, os.WriteFile(filepath.Join(d, "child"), nil, 0o644))

	wantErrno(t, "mkdir existing dir", unix.Mkdir(d, 0o755), unix.EEXIST)
	wantErrno(t, "mkdir over file", unix.Mkdir(f, 0o755), unix.EEXIST)
	wantErrno(t, "mkdir in missing dir", unix.Mkdir(filepath.Join(dir, "no", "x"), 0o755), unix.ENOENT)
	wantErrno(t, "mkdir under a file", unix.Mkdir(filepath.Join(f, "x"), 0o755), unix.ENOTDIR)
	wantErrno(t, "rmdir non-empty", unix.Rmdir(d), unix.ENOTEMPTY)
	wantErrno(t, "rmdir file", unix.Rmdir(f), unix.ENOTDIR)
	wantErrno(t, "rmdir missing", unix.Rmdir(filepath.Join(dir, "no")), unix.ENOENT)
	wantErrno(t, "unlink dir", unix.Unlink(d), unix.EISDIR)
	wantErrno(t, "unlink missing", unix.Unlink(filepath.Join(dir, "no")), unix.ENOENT)
	_, err := unix.Open(d, unix.O_WRONLY, 0)
	wantErrno(t, "open dir for writing", err, unix.EISDIR)
	_, err = unix.Open(f, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	wantErrno(t, "open file O_DIRECTORY", err, unix.ENOTDIR)
	_, err = unix.Open(filepath.Join(dir, "no"), unix.O_RDONLY, 0)
	wantErrno(t, "open missing", err, unix.ENOENT)

	must(t, os.Remove(filepath.Join(d, "child")))
	wantErrno(t, "rmdir emptied dir", unix.Rmdir(d), 0)
	wantErrno(t, "stat removed dir", unix.Access(d, unix.F_OK), unix.ENOENT)
}

// OpenExcl checks O_CREAT|O_EXCL on new names, existing files and symlinks.
func OpenExcl(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	fd, err := unix.Open(f, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o600)
	wantErrno(t, "O_EXCL new", err, 0)
	if err == nil {
		unix.Close(fd)
	}
	_, err = unix.Open(f, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o600)
	wantErrno(t, "O_EXCL existing", err, unix.EEXIST)

	// O_EXCL never follows a symlink, not even a dangling one.
	l := filepath.Join(dir, "dangling")
	must(t, os.Symlink("nowhere", l))
	_, err = unix.Open(l, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o600)
	wantErrno(t, "O_EXCL on dangling symlink", err, unix.EEXIST)
	wantErrno(t, "symlink target not created", unix.Access(filepath.Join(dir, "nowhere"), unix.F_OK), unix.ENOENT)

	// Without O_EXCL, O_CREAT creates the target of a dangling symlink.
	fd, err = unix.Open(l, unix.O_CREAT|unix.O_WRONLY, 0o600)
	wantErrno(t, "O_CREAT through dangling symlink", err, 0)
	if err == nil {
		unix.Close(fd)
	}
	wantErrno(t, "target created", unix.Access(filepath.Join(dir, "nowhere"), unix.F_OK), 0)
}

// OpenTrunc checks that O_TRUNC empties a file and keeps its identity.
func OpenTrunc(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, "0123456789", 0o644)
	before := lstat(t, f)
	fd, err := unix.Open(f, unix.O_WRONLY|unix.O_TRUNC, 0)
	must(t, err)
	var st unix.Stat_t
	must(t, unix.Fstat(fd, &st))
	if st.Size != 0 {
		t.Errorf("size after O_TRUNC open = %d, want 0", st.Size)
	}
	if _, err := unix.Write(fd, []byte("ab")); err != nil {
		t.Error(err)
	}
	unix.Close(fd)
	if got := readFile(t, f); got != "ab" {
		t.Errorf("content = %q, want %q", got, "ab")
	}
	if after := lstat(t, f); after.Ino != before.Ino {
		t.Errorf("inode changed by O_TRUNC: %d -> %d", before.Ino, after.Ino)
	}
}

// OpenAppend checks that O_APPEND writes land at the end whatever the
// offset, also when another descriptor extended the file meanwhile.
func OpenAppend(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, "abc", 0o644)
	a, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	defer a.Close()
	b, err := os.OpenFile(f, os.O_WRONLY, 0)
	must(t, err)
	defer b.Close()

	_, err = a.Seek(0, 0)
	must(t, err)
	_, err = a.Write([]byte("def"))
	must(t, err)
	_, err = b.WriteAt([]byte("XYZ123"), 6)
	must(t, err)
	_, err = a.Write([]byte("ghi"))
	must(t, err)
	if off, _ := a.Seek(0, 1); off != 15 {
		t.Errorf("offset after append = %d, want 15", off)
	}
	if got := readFile(t, f); got != "abcdefXYZ123ghi" {
		t.Errorf("content = %q, want %q", got, "abcdefXYZ123ghi")
	}
}

// UnlinkOpenFile checks that an unlinked file stays usable through an open
// descriptor until it is closed.
func UnlinkOpenFile(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	fh, err := os.OpenFile(f, os.O_CREATE|os.O_RDWR, 0o644)
	must(t, err)
	defer fh.Close()
	_, err = fh.Write([]byte("hello"))
	must(t, err)
	must(t, os.Remove(f))

	wantErrno(t, "stat unlinked", unix.Access(f, unix.F_OK), unix.ENOENT)
	var st unix.Stat_t
	must(t, unix.Fstat(int(fh.Fd()), &st))
	if st.Nlink != 0 || st.Size != 5 {
		t.Errorf("fstat of unlinked file: nlink %d size %d, want 0 and 5", st.Nlink, st.Size)
	}
	_, err = fh.WriteAt([]byte(" world"), 5)
	must(t, err)
	buf := make([]byte, 64)
	n, err := fh.ReadAt(buf, 0)
	if string(buf[:n]) != "hello world" {
		t.Errorf("read unlinked file = %q (%v), want %q", buf[:n], err, "hello world")
	}
	must(t, fh.Truncate(4))
	must(t, unix.Fstat(int(fh.Fd()), &st))
	if st.Size != 4 {
		t.Errorf("size after ftruncate of unlinked file = %d, want 4", st.Size)
	}
	// The name is free for a new, unrelated file.
	writeFile(t, f, "new", 0o644)
	if got := readFile(t, f); got != "new" {
		t.Errorf("new file = %q", got)
	}
	n, _ = fh.ReadAt(buf, 0)
	if string(buf[:n]) != "hell" {
		t.Errorf("old descriptor reads %q after the name was reused, want %q", buf[:n], "hell")
	}
}

// NameTooLong checks NAME_MAX (255) and PATH_MAX (4096).
func NameTooLong(t *testing.T, dir string) {
	ok := filepath.Join(dir, strings.Repeat("a", 255))
	wantErrno(t, "create 255-byte name", os.WriteFile(ok, nil, 0o644), 0)
	wantErrno(t, "mkdir over 255-byte name", unix.Mkdir(ok, 0o755), unix.EEXIST)
	wantErrno(t, "mkdir 255-byte name", unix.Mkdir(filepath.Join(dir, strings.Repeat("e", 255)), 0o755), 0)
	long := filepath.Join(dir, strings.Repeat("b", 256))
	_, err := unix.Open(long, unix.O_CREAT|unix.O_WRONLY, 0o644)
	wantErrno(t, "create 256-byte name", err, unix.ENAMETOOLONG)
	wantErrno(t, "mkdir 256-byte name", unix.Mkdir(long, 0o755), unix.ENAMETOOLONG)
	wantErrno(t, "stat 256-byte name", unix.Access(long, unix.F_OK), unix.ENAMETOOLONG)
	wantErrno(t, "symlink 256-byte name", unix.Symlink("x", long), unix.ENAMETOOLONG)
	wantErrno(t, "rename to 256-byte name", unix.Rename(ok, long), unix.ENAMETOOLONG)

	// A path of 4096 bytes or more, whatever exists along it.
	p := dir
	for len(p) <= 4096 {
		p += "/" + strings.Repeat("c", 200)
	}
	_, err = unix.Open(p, unix.O_CREAT|unix.O_WRONLY, 0o644)
	wantErrno(t, "create with a path > PATH_MAX", err, unix.ENAMETOOLONG)
	wantErrno(t, "symlink target > PATH_MAX", unix.Symlink(p, filepath.Join(dir, "l")), unix.ENAMETOOLONG)
}

// Truncate checks growing and shrinking by path and by descriptor.
func Truncate(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, "0123456789", 0o644)
	must(t, os.Truncate(f, 4))
	if got := readFile(t, f); got != "0123" {
		t.Errorf("after shrink: %q", got)
	}
	must(t, os.Truncate(f, 8))
	if got := readFile(t, f); got != "0123\x00\x00\x00\x00" {
		t.Errorf("after grow: %q, want zeros past the old end", got)
	}
	fh, err := os.OpenFile(f, os.O_RDWR, 0)
	must(t, err)
	defer fh.Close()
	must(t, fh.Truncate(2))
	var st unix.Stat_t
	must(t, unix.Fstat(int(fh.Fd()), &st))
	if st.Size != 2 {
		t.Errorf("size after ftruncate(2) = %d", st.Size)
	}
	must(t, fh.Truncate(1<<20))
	if st := lstat(t, f); st.Size != 1<<20 {
		t.Errorf("size after ftruncate(1MiB) = %d", st.Size)
	}
	wantErrno(t, "truncate negative", unix.Truncate(f, -1), unix.EINVAL)
	wantErrno(t, "truncate dir", unix.Truncate(dir, 0), unix.EISDIR)
	wantErrno(t, "truncate missing", unix.Truncate(filepath.Join(dir, "no"), 0), unix.ENOENT)
	ro, err := os.Open(f)
	must(t, err)
	defer ro.Close()
	wantErrno(t, "ftruncate read-only fd", unix.Ftruncate(int(ro.Fd()), 0), unix.EINVAL)
}

// SparseFile checks holes: they read as zeros, take no blocks, and
// SEEK_DATA/SEEK_HOLE find them.
func SparseFile(t *testing.T, dir string) {
	const far = 64 << 20
	f := filepath.Join(dir, "sparse")
	fh, err := os.OpenFile(f, os.O_CREATE|os.O_RDWR, 0o644)
	must(t, err)
	defer fh.Close()
	data := bytes.Repeat([]byte("d"), 4096)
	_, err = fh.WriteAt(data, 0)
	must(t, err)
	_, err = fh.WriteAt(data, far)
	must(t, err)
	must(t, fh.Sync())

	var st unix.Stat_t
	must(t, unix.Fstat(int(fh.Fd()), &st))
	if st.Size != far+4096 {
		t.Errorf("size = %d, want %d", st.Size, far+4096)
	}
	if st.Blocks*512 > 1<<20 {
		t.Errorf("st_blocks = %d (%d bytes) for 8 KiB of data in a %d-byte file: holes are allocated", st.Blocks, st.Blocks*512, st.Size)
	}
	buf := make([]byte, 4096)
	_, err = fh.ReadAt(buf, far/2)
	must(t, err)
	if !bytes.Equal(buf, make([]byte, 4096)) {
		t.Error("a hole does not read as zeros")
	}

	fd := int(fh.Fd())
	seek := func(off int64, whence int) (int64, error) { return unix.Seek(fd, off, whence) }
	if off, err := seek(0, unix.SEEK_DATA); err != nil || off != 0 {
		t.Errorf("SEEK_DATA 0 = %d, %v; want 0", off, err)
	}
	if off, err := seek(0, unix.SEEK_HOLE); err != nil || off < 4096 || off >= far {
		t.Errorf("SEEK_HOLE 0 = %d, %v; want the end of the first block", off, err)
	}
	if off, err := seek(8192, unix.SEEK_DATA); err != nil || off < 8192 || off > far {
		t.Errorf("SEEK_DATA 8192 = %d, %v; want at most %d", off, err, far)
	}
	if off, err := seek(far, unix.SEEK_HOLE); err != nil || off != far+4096 {
		t.Errorf("SEEK_HOLE in the last block = %d, %v; want EOF %d", off, err, far+4096)
	}
	_, err = seek(far+4096, unix.SEEK_DATA)
	wantErrno(t, "SEEK_DATA at EOF", err, unix.ENXIO)
	_, err = seek(far+8192, unix.SEEK_HOLE)
	wantErrno(t, "SEEK_HOLE past EOF", err, unix.ENXIO)
}

// Mknod checks fifos, and device nodes, which only root may create.
func Mknod(t *testing.T, dir string) {
	fifo := filepath.Join(dir, "fifo")
	must(t, unix.Mkfifo(fifo, 0o644))
	if st := lstat(t, fifo); st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("mkfifo made mode %#o", st.Mode)
	}
	p := filepath.Join(dir, "fifo2")
	must(t, unix.Mknod(p, unix.S_IFIFO|0o600, 0))
	fd, err := unix.Open(p, unix.O_RDWR, 0)
	must(t, err)
	_, err = unix.Write(fd, []byte("ping"))
	must(t, err)
	buf := make([]byte, 8)
	if n, err := unix.Read(fd, buf); err != nil || string(buf[:n]) != "ping" {
		t.Errorf("read from fifo = %q, %v", buf[:n], err)
	}
	unix.Close(fd)
	if st := lstat(t, p); st.Size != 0 {
		t.Errorf("fifo size = %d after a write through it, want 0", st.Size)
	}

	reg := filepath.Join(dir, "reg")
	must(t, unix.Mknod(reg, unix.S_IFREG|0o600, 0))
	if st := lstat(t, reg); st.Mode != unix.S_IFREG|0o600 || st.Size != 0 {
		t.Errorf("mknod S_IFREG: mode %#o size %d", st.Mode, st.Size)
	}
	wantErrno(t, "mknod existing", unix.Mknod(reg, unix.S_IFIFO|0o600, 0), unix.EEXIST)

	dev := filepath.Join(dir, "null")
	rdev := int(unix.Mkdev(1, 3))
	err = unix.Mknod(dev, unix.S_IFCHR|0o666, rdev)
	if os.Geteuid() != 0 {
		wantErrno(t, "mknod char device as non-root", err, unix.EPERM)
		return
	}
	must(t, err)
	if st := lstat(t, dev); st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != uint64(rdev) {
		t.Errorf("char device: mode %#o rdev %#x, want S_IFCHR rdev %#x", st.Mode, st.Rdev, rdev)
	}
	wantErrno(t, "mknod char device as non-root", user().do(t, "mknodchr", filepath.Join(publicDir(t, dir, "pub", 0o777), "null2")), unix.EPERM)
}

// Fsync checks fsync and fdatasync on files and directories.
func Fsync(t *testing.T, dir string) {
	fh, err := os.Create(filepath.Join(dir, "f"))
	must(t, err)
	defer fh.Close()
	_, err = fh.Write(bytes.Repeat([]byte("x"), 1<<16))
	must(t, err)
	wantErrno(t, "fsync", unix.Fsync(int(fh.Fd())), 0)
	_, err = fh.Write([]byte("more"))
	must(t, err)
	wantErrno(t, "fdatasync", unix.Fdatasync(int(fh.Fd())), 0)
	ro, err := os.Open(fh.Name())
	must(t, err)
	defer ro.Close()
	wantErrno(t, "fsync read-only fd", unix.Fsync(int(ro.Fd())), 0)
	d, err := os.Open(dir)
	must(t, err)
	defer d.Close()
	wantErrno(t, "fsync dir", unix.Fsync(int(d.Fd())), 0)
	wantErrno(t, "fdatasync dir", unix.Fdatasync(int(d.Fd())), 0)
}

// Statfs checks that statfs reports a sane file system.
func Statfs(t *testing.T, dir string) {
	var s unix.Statfs_t
	must(t, unix.Statfs(dir, &s))
	if s.Bsize <= 0 || s.Blocks == 0 || s.Bfree > s.Blocks || s.Bavail > s.Bfree {
		t.Errorf("statfs: bsize %d blocks %d bfree %d bavail %d", s.Bsize, s.Blocks, s.Bfree, s.Bavail)
	}
	if s.Files != 0 && s.Ffree > s.Files {
		t.Errorf("statfs: files %d ffree %d", s.Files, s.Ffree)
	}
	if s.Namelen != 255 {
		t.Errorf("statfs: namelen %d, want 255", s.Namelen)
	}
	fh, err := os.Open(dir)
	must(t, err)
	defer fh.Close()
	var fs unix.Statfs_t
	must(t, unix.Fstatfs(int(fh.Fd()), &fs))
	if fs.Blocks != s.Blocks || fs.Bsize != s.Bsize {
		t.Errorf("fstatfs %d×%d differs from statfs %d×%d", fs.Blocks, fs.Bsize, s.Blocks, s.Bsize)
	}
}
