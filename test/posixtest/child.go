package posixtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Environment of a re-executed test binary (see Main).
const (
	envOp     = "POSIXTEST_OP"     // JSON opRequest: perform one operation, print the result, exit
	envCase   = "POSIXTEST_CASE"   // name of the one table test to run
	envDir    = "POSIXTEST_DIR"    // directory that test works in
	envConfig = "POSIXTEST_CONFIG" // JSON Config of the parent's run
	resultTag = "posixtest-result" // prefix of the line an op child reports on
)

// selfExe is what children are started from. The kernel resolves this magic
// link without searching the directories above the binary, so a child that
// already dropped to an unprivileged user can still run a test binary that
// `go test` keeps in a 0700 build directory.
const selfExe = "/proc/self/exe"

// Identities the suite uses besides root. They need no passwd entries.
const (
	NobodyUID   = 65534 // the main unprivileged identity
	NogroupGID  = 65534
	StrangerUID = 65533 // a second unprivileged user, e.g. in sticky directories
	StrangerGID = 65533
	SpareGID    = 65532 // a supplementary group of Nobody, for chgrp checks
)

// Cred is the identity a child process runs as.
type Cred struct {
	UID, GID uint32
	Groups   []uint32
}

// Nobody is the unprivileged identity to pass to RunAsUser.
func Nobody() Cred {
	return Cred{UID: NobodyUID, GID: NogroupGID, Groups: []uint32{NogroupGID, SpareGID}}
}

func stranger() Cred {
	return Cred{UID: StrangerUID, GID: StrangerGID, Groups: []uint32{StrangerGID}}
}

// selfCommand re-executes the test binary, as cred when it is not nil. The
// child is killed when the test ends.
func selfCommand(t *testing.T, cred *Cred, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(t.Context(), selfExe, args...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = os.Environ()
	cmd.Dir = "/"
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: cred.UID, Gid: cred.GID, Groups: cred.Groups}}
	}
	return cmd
}

type opRequest struct {
	Op   string
	Args []string
}

// opCommand prepares a child that performs op (see doOp). "-test.run=^$"
// keeps a binary whose TestMain forgot Main from running its tests again.
func opCommand(t *testing.T, cred *Cred, op string, args ...string) *exec.Cmd {
	req, err := json.Marshal(opRequest{Op: op, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	cmd := selfCommand(t, cred, "-test.run=^$")
	cmd.Env = append(cmd.Env, envOp+"="+string(req))
	return cmd
}

// runOp performs op in a child and returns the value it printed and its
// error (a syscall.Errno, or nil).
func runOp(t *testing.T, cred *Cred, op string, args ...string) (string, error) {
	t.Helper()
	cmd := opCommand(t, cred, op, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %s %q: %v\n%s", op, args, err, stderr.String())
	}
	val, opErr, ok := parseResult(string(out))
	if !ok {
		t.Fatalf("child %s %q printed no result (does TestMain call posixtest.Main?):\n%s%s", op, args, out, stderr.String())
	}
	return val, opErr
}

// parseResult reads "posixtest-result ERRNO [VALUE]" from a child's output.
func parseResult(out string) (val string, err error, ok bool) {
	for line := range strings.Lines(out) {
		rest, found := strings.CutPrefix(strings.TrimSpace(line), resultTag+" ")
		if !found {
			continue
		}
		num, val, _ := strings.Cut(rest, " ")
		n, convErr := strconv.Atoi(num)
		if convErr != nil {
			return "", nil, false
		}
		if n != 0 {
			err = syscall.Errno(n)
		}
		return val, err, true
	}
	return "", nil, false
}

func printResult(w io.Writer, val string, err error) {
	var errno syscall.Errno
	if err != nil && !errors.As(err, &errno) {
		errno = syscall.EIO
		fmt.Fprintf(os.Stderr, "posixtest: %v\n", err)
	}
	fmt.Fprintf(w, "%s %d %s\n", resultTag, int(errno), val)
}

// serveOp is the child side of runOp and holdLock.
func serveOp(reqJSON string) int {
	var req opRequest
	if err := json.Unmarshal([]byte(reqJSON), &req); err != nil {
		fmt.Fprintf(os.Stderr, "posixtest: op %q: %v\n", reqJSON, err)
		return 2
	}
	if req.Op == "lockhold" {
		return serveLockHold(req.Args)
	}
	val, err := doOp(req.Op, req.Args)
	printResult(os.Stdout, val, err)
	return 0
}

// doOp performs one named operation. It is the vocabulary of actions that a
// test asks of another identity.
func doOp(op string, a []string) (string, error) {
	switch op {
	case "chmod":
		return "", unix.Chmod(a[0], uint32(octal(a[1])))
	case "chown":
		return "", unix.Lchown(a[0], atoi(a[1]), atoi(a[2]))
	case "create":
		fd, err := unix.Open(a[0], unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, uint32(octal(a[1])))
		if err != nil {
			return "", err
		}
		return "", unix.Close(fd)
	case "mkdir":
		return "", unix.Mkdir(a[0], uint32(octal(a[1])))
	case "access": // path mode, checked with the real ids as access(2) does
		return "", unix.Faccessat(unix.AT_FDCWD, a[0], uint32(atoi(a[1])), 0)
	case "mknodchr": // a /dev/null twin
		return "", unix.Mknod(a[0], unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3)))
	case "unlink":
		return "", unix.Unlink(a[0])
	case "rmdir":
		return "", unix.Rmdir(a[0])
	case "rename":
		return "", unix.Rename(a[0], a[1])
	case "write":
		fd, err := unix.Open(a[0], unix.O_WRONLY, 0)
		if err != nil {
			return "", err
		}
		defer unix.Close(fd)
		_, err = unix.Write(fd, []byte(a[1]))
		return "", err
	case "read":
		fd, err := unix.Open(a[0], unix.O_RDONLY, 0)
		if err != nil {
			return "", err
		}
		defer unix.Close(fd)
		buf := make([]byte, 4096)
		n, err := unix.Read(fd, buf)
		if err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case "utimes": // path atime-sec mtime-sec, or path "now"
		if a[1] == "now" {
			return "", unix.UtimesNanoAt(unix.AT_FDCWD, a[0], nil, 0)
		}
		ts := []unix.Timespec{{Sec: int64(atoi(a[1]))}, {Sec: int64(atoi(a[2]))}}
		return "", unix.UtimesNanoAt(unix.AT_FDCWD, a[0], ts, 0)
	case "setxattr":
		return "", unix.Setxattr(a[0], a[1], []byte(a[2]), 0)
	case "getlk": // path start len type -> "TYPE PID"
		fd, err := unix.Open(a[0], unix.O_RDWR, 0)
		if err != nil {
			return "", err
		}
		defer unix.Close(fd)
		lk := flock(a[1:])
		if err := unix.FcntlFlock(uintptr(fd), unix.F_GETLK, &lk); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d %d", lk.Type, lk.Pid), nil
	case "setlk": // path start len type: try once, then release by exiting
		fd, err := unix.Open(a[0], unix.O_RDWR, 0)
		if err != nil {
			return "", err
		}
		defer unix.Close(fd)
		lk := flock(a[1:])
		return "", unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &lk)
	}
	return "", fmt.Errorf("unknown op %q", op)
}

// serveLockHold takes a lock, reports, and keeps it until stdin closes.
func serveLockHold(a []string) int {
	fd, err := unix.Open(a[0], unix.O_RDWR, 0)
	if err == nil {
		lk := flock(a[1:])
		err = unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &lk)
	}
	printResult(os.Stdout, strconv.Itoa(os.Getpid()), err)
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// flock builds a lock from "start len type" where type is r, w or u.
func flock(a []string) unix.Flock_t {
	typ := map[string]int16{"r": unix.F_RDLCK, "w": unix.F_WRLCK, "u": unix.F_UNLCK}[a[2]]
	return unix.Flock_t{Type: typ, Whence: io.SeekStart, Start: int64(atoi(a[0])), Len: int64(atoi(a[1]))}
}

// holdLock starts a child (same identity) that holds a lock on path until
// the returned release function is called; it returns the child's pid, or
// fails the test if the child could not lock.
func holdLock(t *testing.T, path string, start, n int64, typ string) (pid int, release func()) {
	t.Helper()
	cmd := opCommand(t, nil, "lockhold", path, strconv.FormatInt(start, 10), strconv.FormatInt(n, 10), typ)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := false
	stop := func() error {
		if done {
			return nil
		}
		done = true
		stdin.Close()
		return cmd.Wait()
	}
	release = func() {
		if err := stop(); err != nil {
			t.Errorf("lock holder: %v", err)
		}
	}
	// A test that failed before release leaves the holder to the context.
	t.Cleanup(func() { stop() })
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	val, opErr, ok := parseResult(line)
	if !ok || opErr != nil {
		t.Fatalf("lock holder on %s: %q %v", path, line, opErr)
	}
	return atoi(val), release
}

func octal(s string) int64 {
	n, err := strconv.ParseInt(s, 8, 64)
	if err != nil {
		panic(err)
	}
	return n
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}
