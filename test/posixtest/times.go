package posixtest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func tsTime(ts unix.Timespec) time.Time { return time.Unix(ts.Sec, ts.Nsec) }

// waitPast returns once the clock is clearly past ts, so that a timestamp the
// file system takes afterwards (from the kernel's coarse clock) is later
// than ts. Without it two changes in one clock tick carry equal times.
func waitPast(ts unix.Timespec) {
	for time.Since(tsTime(ts)) < 20*time.Millisecond {
		time.Sleep(5 * time.Millisecond)
	}
}

// Utimens checks utimensat with explicit times, UTIME_OMIT and UTIME_NOW.
func Utimens(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, "x", 0o644)
	atime := unix.Timespec{Sec: 1000000000, Nsec: 123456789}
	mtime := unix.Timespec{Sec: 1200000000, Nsec: 987654321}
	c0 := lstat(t, f).Ctim
	waitPast(c0)
	wantErrno(t, "utimensat explicit", unix.UtimesNanoAt(unix.AT_FDCWD, f, []unix.Timespec{atime, mtime}, 0), 0)
	st := lstat(t, f)
	if st.Atim != atime || st.Mtim != mtime {
		t.Errorf("explicit times: atime %v mtime %v, want %v %v", st.Atim, st.Mtim, atime, mtime)
	}
	if !tsTime(st.Ctim).After(tsTime(c0)) {
		t.Errorf("ctime %v did not advance from %v on utimensat", st.Ctim, c0)
	}

	omit := unix.Timespec{Nsec: unix.UTIME_OMIT}
	later := unix.Timespec{Sec: 1300000000, Nsec: 5}
	must(t, unix.UtimesNanoAt(unix.AT_FDCWD, f, []unix.Timespec{omit, later}, 0))
	if st := lstat(t, f); st.Atim != atime || st.Mtim != later {
		t.Errorf("UTIME_OMIT atime: atime %v mtime %v, want %v %v", st.Atim, st.Mtim, atime, later)
	}
	must(t, unix.UtimesNanoAt(unix.AT_FDCWD, f, []unix.Timespec{later, omit}, 0))
	if st := lstat(t, f); st.Atim != later || st.Mtim != later {
		t.Errorf("UTIME_OMIT mtime: atime %v mtime %v, want %v %v", st.Atim, st.Mtim, later, later)
	}

	before := time.Now()
	now := unix.Timespec{Nsec: unix.UTIME_NOW}
	must(t, unix.UtimesNanoAt(unix.AT_FDCWD, f, []unix.Timespec{now, now}, 0))
	after := time.Now()
	// The kernel's coarse clock may trail time.Now by a tick: allow a second.
	st = lstat(t, f)
	for _, ts := range []unix.Timespec{st.Atim, st.Mtim} {
		if got := tsTime(ts); got.Before(before.Add(-time.Second)) || got.After(after.Add(time.Second)) {
			t.Errorf("UTIME_NOW set %v, want between %v and %v", got, before, after)
		}
	}

	// Through a descriptor, and on a symlink itself.
	fh, err := os.Open(f)
	must(t, err)
	defer fh.Close()
	must(t, unix.UtimesNanoAt(int(fh.Fd()), "", []unix.Timespec{atime, mtime}, unix.AT_EMPTY_PATH))
	if st := lstat(t, f); st.Mtim != mtime {
		t.Errorf("futimens: mtime %v, want %v", st.Mtim, mtime)
	}
	l := filepath.Join(dir, "l")
	must(t, os.Symlink("f", l))
	must(t, unix.UtimesNanoAt(unix.AT_FDCWD, l, []unix.Timespec{later, later}, unix.AT_SYMLINK_NOFOLLOW))
	if st := lstat(t, l); st.Mtim != later {
		t.Errorf("symlink mtime %v, want %v", st.Mtim, later)
	}
	if st := lstat(t, f); st.Mtim != mtime {
		t.Errorf("AT_SYMLINK_NOFOLLOW changed the target's mtime to %v", st.Mtim)
	}

	// Reading never moves atime backwards from an explicit value.
	must(t, unix.UtimesNanoAt(unix.AT_FDCWD, f, []unix.Timespec{atime, mtime}, 0))
	readFile(t, f)
	if st := lstat(t, f); tsTime(st.Atim).Before(tsTime(atime)) {
		t.Errorf("atime after read %v is before the explicit %v", st.Atim, atime)
	}
}

// UtimensPermissions checks who may set times: the owner any, a writer only
// "now", others none.
func UtimensPermissions(t *testing.T, dir string) {
	u := user()
	pub := publicDir(t, dir, "pub", 0o777)
	f := filepath.Join(pub, "f")
	ownedFile(t, u, f, "x", 0o444)
	wantErrno(t, "owner sets explicit times on 0444 file", u.do(t, "utimes", f, "100", "200"), 0)
	if st := lstat(t, f); st.Atim.Sec != 100 || st.Mtim.Sec != 200 {
		t.Errorf("times = %d %d, want 100 200", st.Atim.Sec, st.Mtim.Sec)
	}
	wantErrno(t, "owner sets now on 0444 file", u.do(t, "utimes", f, "now"), 0)

	withOtherUser(t, func(t *testing.T, o actor) {
		wantErrno(t, "other sets explicit times", o.do(t, "utimes", f, "100", "200"), unix.EPERM)
		wantErrno(t, "other sets now without write access", o.do(t, "utimes", f, "now"), unix.EACCES)
		must(t, unix.Chmod(f, 0o666))
		wantErrno(t, "other sets now with write access", o.do(t, "utimes", f, "now"), 0)
		wantErrno(t, "other sets explicit times with write access", o.do(t, "utimes", f, "100", "200"), unix.EPERM)
	})
}

// TimesOnChange checks which operations move mtime and ctime.
func TimesOnChange(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, "x", 0o644)
	// checkMoved runs op and compares path's times before with then's after.
	checkMoved := func(path, then, what string, op func() error, mtimeMoves bool) {
		t.Helper()
		st0 := lstat(t, path)
		waitPast(st0.Ctim)
		must(t, op())
		st := lstat(t, then)
		if !tsTime(st.Ctim).After(tsTime(st0.Ctim)) {
			t.Errorf("%s: ctime stayed %v", what, st.Ctim)
		}
		if moved := st.Mtim != st0.Mtim; moved != mtimeMoves {
			t.Errorf("%s: mtime %v -> %v, want moved=%v", what, st0.Mtim, st.Mtim, mtimeMoves)
		}
	}
	check := func(path, what string, op func() error, mtimeMoves bool) {
		t.Helper()
		checkMoved(path, path, what, op, mtimeMoves)
	}
	fh, err := os.OpenFile(f, os.O_RDWR, 0)
	must(t, err)
	defer fh.Close()
	check(f, "write", func() error { _, err := fh.WriteAt([]byte("yy"), 1); return err }, true)
	check(f, "ftruncate", func() error { return fh.Truncate(1) }, true)
	check(f, "truncate", func() error { return os.Truncate(f, 10) }, true)
	check(f, "chmod", func() error { return os.Chmod(f, 0o600) }, false)
	check(f, "link", func() error { return os.Link(f, filepath.Join(dir, "f2")) }, false)
	f3 := filepath.Join(dir, "f3")
	checkMoved(f, f3, "rename", func() error { return os.Rename(f, f3) }, false)
	f = f3
	check(f, "setxattr", func() error { return unix.Setxattr(f, "user.t", []byte("v"), 0) }, false)
	check(dir, "create in dir", func() error { return os.WriteFile(filepath.Join(dir, "g"), nil, 0o644) }, true)
	check(dir, "unlink in dir", func() error { return os.Remove(filepath.Join(dir, "g")) }, true)
	check(dir, "mkdir in dir", func() error { return os.Mkdir(filepath.Join(dir, "sub"), 0o755) }, true)
	check(dir, "rename in dir", func() error { return os.Rename(filepath.Join(dir, "f2"), filepath.Join(dir, "f4")) }, true)
}
