package posixtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// hangGuard bounds waits that only a broken file system would not end, so
// that the test fails and cleans up instead of hanging. It is not a
// performance limit.
const hangGuard = time.Minute

func setlk(fd uintptr, cmd int, typ int16, start, n int64) error {
	lk := unix.Flock_t{Type: typ, Whence: 0, Start: start, Len: n}
	return unix.FcntlFlock(fd, cmd, &lk)
}

func getlk(t *testing.T, fd uintptr, typ int16, start, n int64) unix.Flock_t {
	t.Helper()
	lk := unix.Flock_t{Type: typ, Whence: 0, Start: start, Len: n}
	must(t, unix.FcntlFlock(fd, unix.F_GETLK, &lk))
	return lk
}

// FcntlLocks checks POSIX byte-range locks between two processes: conflicts,
// F_GETLK naming the holder, downgrade and unlock.
func FcntlLocks(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, "0123456789", 0o666)
	fh, err := os.OpenFile(f, os.O_RDWR, 0)
	must(t, err)
	defer fh.Close()
	fd := fh.Fd()
	other := self()
	// Ops on a self actor run in-process; locks need a second process.
	try := func(start, n int, typ string) error {
		_, err := runOp(t, other.cred, "setlk", f, itoa(start), itoa(n), typ)
		return err
	}
	must(t, setlk(fd, unix.F_SETLK, unix.F_WRLCK, 0, 100))
	wantErrno(t, "child write-locks a write-locked range", try(0, 100, "w"), unix.EAGAIN)
	wantErrno(t, "child read-locks inside a write-locked range", try(50, 10, "r"), unix.EAGAIN)
	wantErrno(t, "child write-locks a disjoint range", try(100, 100, "w"), 0)
	val, err := runOp(t, other.cred, "getlk", f, "10", "5", "w")
	must(t, err)
	if want := fmt.Sprintf("%d %d", unix.F_WRLCK, os.Getpid()); val != want {
		t.Errorf("child F_GETLK = %q (type pid), want %q", val, want)
	}

	must(t, setlk(fd, unix.F_SETLK, unix.F_RDLCK, 0, 100))
	wantErrno(t, "child read-locks a read-locked range", try(0, 100, "r"), 0)
	wantErrno(t, "child write-locks a read-locked range", try(0, 100, "w"), unix.EAGAIN)
	val, err = runOp(t, other.cred, "getlk", f, "0", "100", "r")
	must(t, err)
	if want := fmt.Sprintf("%d", unix.F_UNLCK); val[:len(want)] != want {
		t.Errorf("child F_GETLK for a read lock over a read lock = %q, want type F_UNLCK", val)
	}
	must(t, setlk(fd, unix.F_SETLK, unix.F_UNLCK, 0, 0))
	wantErrno(t, "child write-locks after unlock", try(0, 100, "w"), 0)

	// The other way round: a child holds the whole file.
	pid, release := holdLock(t, f, 0, 0, "w")
	lk := getlk(t, fd, unix.F_RDLCK, 5, 1)
	if lk.Type != unix.F_WRLCK || int(lk.Pid) != pid {
		t.Errorf("F_GETLK = type %d pid %d, want F_WRLCK held by %d", lk.Type, lk.Pid, pid)
	}
	wantErrno(t, "lock a range the child holds", setlk(fd, unix.F_SETLK, unix.F_RDLCK, 5, 1), unix.EAGAIN)
	release()
	wantErrno(t, "lock after the child exited", setlk(fd, unix.F_SETLK, unix.F_WRLCK, 0, 0), 0)
	// A process never conflicts with itself, through any descriptor.
	fh2, err := os.OpenFile(f, os.O_RDWR, 0)
	must(t, err)
	defer fh2.Close()
	wantErrno(t, "same process, second descriptor", setlk(fh2.Fd(), unix.F_SETLK, unix.F_WRLCK, 0, 0), 0)
}

// FcntlLockReleasedOnAnyClose checks the POSIX rule that closing any
// descriptor of a file drops all of the process's locks on it.
func FcntlLockReleasedOnAnyClose(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, "x", 0o666)
	fh, err := os.OpenFile(f, os.O_RDWR, 0)
	must(t, err)
	defer fh.Close()
	must(t, setlk(fh.Fd(), unix.F_SETLK, unix.F_WRLCK, 0, 0))
	_, err = runOp(t, nil, "setlk", f, "0", "0", "w")
	wantErrno(t, "child locks while parent holds", err, unix.EAGAIN)
	other, err := os.Open(f)
	must(t, err)
	must(t, other.Close())
	_, err = runOp(t, nil, "setlk", f, "0", "0", "w")
	wantErrno(t, "child locks after parent closed another descriptor", err, 0)
}

// FcntlLockWait checks that F_SETLKW waits for the holder and then gets the
// lock.
func FcntlLockWait(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, "x", 0o666)
	fh, err := os.OpenFile(f, os.O_RDWR, 0)
	must(t, err)
	defer fh.Close()
	_, release := holdLock(t, f, 0, 0, "w")
	done := make(chan error, 1)
	go func() { done <- setlk(fh.Fd(), unix.F_SETLKW, unix.F_WRLCK, 0, 0) }()
	// Only a wrong answer can arrive before the release; never a false alarm.
	select {
	case err := <-done:
		t.Fatalf("F_SETLKW returned %v while another process held the lock", errText(err))
	default:
	}
	release()
	select {
	case err := <-done:
		wantErrno(t, "F_SETLKW after release", err, 0)
	case <-time.After(hangGuard):
		t.Fatalf("F_SETLKW still waits %v after the holder exited", hangGuard)
	}
	lk := getlk(t, fh.Fd(), unix.F_WRLCK, 0, 0)
	if lk.Type != unix.F_UNLCK {
		t.Errorf("F_GETLK by the holder itself = type %d, want F_UNLCK", lk.Type)
	}
}
