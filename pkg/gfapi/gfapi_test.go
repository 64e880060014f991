package gfapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// openPosix opens a one-brick volume (storage/posix on a temp dir).
func openPosix(t *testing.T, opts ...Option) (*Volume, string) {
	t.Helper()
	brick := t.TempDir()
	vf := filepath.Join(t.TempDir(), "vol.vol")
	text := fmt.Sprintf("volume vol\n    type storage/posix\n    option directory %s\nend-volume\n", brick)
	if err := os.WriteFile(vf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := OpenVolfile(context.Background(), vf, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v, brick
}

func TestFiles(t *testing.T) {
	v, brick := openPosix(t)
	if err := v.MkdirAll("/a/b/c", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := v.MkdirAll("/a/b", 0o755); err != nil {
		t.Fatalf("MkdirAll of an existing dir: %v", err)
	}
	f, err := v.Create("/a/b/c/file")
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("0123456789"), 30000)
	if n, err := f.Write(want); err != nil || n != len(want) {
		t.Fatalf("write: %d %v", n, err)
	}
	if _, err := f.Seek(5, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(f, buf); err != nil || string(buf) != "5678901234" {
		t.Errorf("read after seek: %q %v", buf, err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != int64(len(want)) || fi.Name() != "file" {
		t.Errorf("fstat: %v %v", fi, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second close: %v", err)
	}
	// The brick is a plain tree: the file sits at its volume path.
	if got, err := os.ReadFile(filepath.Join(brick, "a/b/c/file")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("on the brick: %d bytes, %v", len(got), err)
	}

	r, err := v.Open("/a/b/c/file")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("ReadAll: %d bytes, %v", len(got), err)
	}
	if _, err := r.ReadAt(buf, int64(len(want))-3); err != io.EOF {
		t.Errorf("ReadAt across the end: %v", err)
	}
	r.Close()

	if err := v.Truncate("/a/b/c/file", 4); err != nil {
		t.Fatal(err)
	}
	if err := v.Chmod("/a/b/c/file", 0o600); err != nil {
		t.Fatal(err)
	}
	if err := v.Chown("/a/b/c/file", 123, -1); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2001, 2, 3, 4, 5, 6, 7000, time.UTC)
	if err := v.Chtimes("/a/b/c/file", time.Time{}, mtime); err != nil {
		t.Fatal(err)
	}
	fi, err := v.Stat("a/b/c/file") // relative: from the root
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Size() != 4 || fi.Mode() != 0o600 || st.Uid != 123 || !fi.ModTime().Equal(mtime) {
		t.Errorf("after truncate/chmod/chown/chtimes: size %d mode %v uid %d mtime %v", fi.Size(), fi.Mode(), st.Uid, fi.ModTime())
	}

	if err := v.Rename("/a/b/c/file", "/a/moved"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Stat("/a/b/c/file"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old name after rename: %v", err)
	}
	before, err := v.Stat("/a/moved")
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Link("/a/moved", "/a/hard"); err != nil {
		t.Fatal(err)
	}
	after, err := v.Stat("/a/hard")
	if err != nil || after.Sys().(*syscall.Stat_t).Nlink != before.Sys().(*syscall.Stat_t).Nlink+1 {
		t.Errorf("hard link count: %v -> %v (%v)", before.Sys(), after, err)
	}
	if err := v.Symlink("b/../moved", "/a/sym"); err != nil {
		t.Fatal(err)
	}
	if tgt, err := v.Readlink("/a/sym"); err != nil || tgt != "b/../moved" {
		t.Errorf("readlink: %q %v", tgt, err)
	}
	if fi, err := v.Lstat("/a/sym"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("lstat of a symlink: %v %v", fi, err)
	}
	if fi, err := v.Stat("/a/sym"); err != nil || fi.Size() != 4 {
		t.Errorf("stat through a symlink: %v %v", fi, err)
	}

	ents, err := v.ReadDir("/a")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"b", "hard", "moved", "sym"}) {
		t.Errorf("ReadDir: %v", names)
	}
	if !ents[0].IsDir() || ents[3].Type() != fs.ModeSymlink {
		t.Errorf("entry types: %v %v", ents[0].Type(), ents[3].Type())
	}

	if err := v.Remove("/a/b"); err == nil {
		t.Error("Remove of a non-empty directory succeeded")
	}
	for _, p := range []string{"/a/b/c", "/a/b", "/a/sym", "/a/hard", "/a/moved"} {
		if err := v.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Rmdir("/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Stat("/a"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after rmdir: %v", err)
	}
	if st, err := v.Statfs(); err != nil || st.Bsize == 0 || st.Blocks == 0 {
		t.Errorf("statfs: %+v %v", st, err)
	}
}

func TestOpenFileFlags(t *testing.T) {
	v, _ := openPosix(t)
	if _, err := v.Open("/nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open of a missing file: %v", err)
	}
	f, err := v.OpenFile("/log", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("one\n"))
	f.Close()
	if _, err := v.OpenFile("/log", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, fs.ErrExist) {
		t.Errorf("O_EXCL on an existing file: %v", err)
	}
	f, err = v.OpenFile("/log", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("two\n"))
	f.Close()
	r, _ := v.Open("/log")
	got, _ := io.ReadAll(r)
	r.Close()
	if string(got) != "one\ntwo\n" {
		t.Errorf("after append: %q", got)
	}
	f, err = v.OpenFile("/log", os.O_RDWR|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, _ := v.Stat("/log"); fi.Size() != 0 {
		t.Errorf("O_TRUNC left %d bytes", fi.Size())
	}
	nf, err := v.OpenFile("/log", os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		t.Fatalf("O_NOFOLLOW on a file: %v", err)
	}
	nf.Close()
	if err := v.Symlink("log", "/sym"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.OpenFile("/sym", os.O_RDONLY|syscall.O_NOFOLLOW, 0); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("O_NOFOLLOW on a symlink: %v", err)
	}
	if _, err := v.OpenFile("/log/x", os.O_RDWR|os.O_CREATE, 0o644); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("create under a file: %v", err)
	}
}

func TestXattrs(t *testing.T) {
	v, _ := openPosix(t)
	f, err := v.Create("/x")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := v.Setxattr("/x", "user.k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if val, err := v.Getxattr("/x", "user.k"); err != nil || string(val) != "v" {
		t.Errorf("getxattr: %q %v", val, err)
	}
	names, err := v.Listxattr("/x")
	if err != nil || !slices.Equal(names, []string{"user.k"}) {
		t.Errorf("listxattr (trusted.gfid must not show): %v %v", names, err)
	}
	if err := v.Setxattr("/x", "trusted.gfid", make([]byte, 16), 0); !errors.Is(err, syscall.EPERM) {
		t.Errorf("setxattr trusted.*: %v", err)
	}
	if _, err := v.Getxattr("/x", "trusted.gfid"); !errors.Is(err, syscall.ENODATA) {
		t.Errorf("getxattr trusted.*: %v", err)
	}
	if err := v.Removexattr("/x", "user.k"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Getxattr("/x", "user.k"); !errors.Is(err, syscall.ENODATA) {
		t.Errorf("after removexattr: %v", err)
	}
}

// TestIdentity checks that calls run as the configured user: the bricks
// refuse what that user may not do.
func TestIdentity(t *testing.T) {
	v, brick := openPosix(t, WithIdentity(4321, 4321))
	// Explicit: storage/posix clears the process umask.
	if err := os.Chmod(brick, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := v.Mkdir("/d", 0o755); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("mkdir in root's directory as uid 4321: %v", err)
	}
	if err := os.Chmod(brick, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := v.Mkdir("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	fi, err := v.Stat("/d")
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 4321 {
		t.Errorf("created as uid %d", st.Uid)
	}
}

func TestSymlinkLoop(t *testing.T) {
	v, _ := openPosix(t)
	if err := v.Symlink("l2", "/l1"); err != nil {
		t.Fatal(err)
	}
	if err := v.Symlink("l1", "/l2"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Stat("/l1"); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("stat of a symlink loop: %v", err)
	}
}
