package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// run executes a command and returns its combined output; the error names
// the command and carries the output's tail so a failed step explains itself.
func run(ctx context.Context, timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Output goes to a file, not a pipe: a daemonizing child keeps its
	// stdout open, and Wait would block on a pipe until the daemon exits.
	f, err := os.CreateTemp("", "bench-cmd-*.out")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout = f
	cmd.Stderr = f
	err = cmd.Run()
	out, _ := os.ReadFile(f.Name())
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, tail(string(out), 600))
	}
	return string(out), nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// findProcs returns the pids of processes whose argv[0] has base name exe
// and whose command line contains every string of want.
func findProcs(exe string, want ...string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(raw) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if filepath.Base(args[0]) != exe {
			continue
		}
		line := strings.Join(args, " ")
		ok := true
		for _, w := range want {
			if !strings.Contains(line, w) {
				ok = false
				break
			}
		}
		if ok {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procFlag returns the word after flag in a process's command line.
func procFlag(pid int, flag string) string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	args := strings.Split(string(raw), "\x00")
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// vmHWM returns a process's peak resident set size in bytes.
func vmHWM(pid int) (uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("VmHWM of pid %d: not found", pid)
}

// peakRSS returns the largest VmHWM among pids (0 if none can be read).
func peakRSS(pids []int) uint64 {
	var peak uint64
	for _, p := range pids {
		if v, err := vmHWM(p); err == nil && v > peak {
			peak = v
		}
	}
	return peak
}

// stopPID sends SIGTERM, waits up to grace for the process to go away, then
// sends SIGKILL. It only ever targets the one pid it is given.
func stopPID(pid int, grace time.Duration) {
	if pid <= 0 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	if waitGone(pid, grace) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	waitGone(pid, 5*time.Second)
}

// waitGone polls until pid no longer exists or is a zombie.
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		// The state follows the parenthesised command name.
		if i := bytes.LastIndexByte(st, ')'); i > 0 && i+2 < len(st) && st[i+2] == 'Z' {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fuseMounts lists the FUSE mount points of this mount namespace.
func fuseMounts() []string {
	raw, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var dirs []string
	for _, l := range strings.Split(string(raw), "\n") {
		f := strings.Fields(l)
		// Field 4 is the mount point; the fs type follows the " - " separator.
		if len(f) < 7 {
			continue
		}
		for i, x := range f {
			if x == "-" && i+1 < len(f) && strings.HasPrefix(f[i+1], "fuse") {
				dirs = append(dirs, unescapeMount(f[4]))
			}
		}
	}
	return dirs
}

// fuseMounted reports whether dir is a FUSE mount point.
func fuseMounted(dir string) bool { return slices.Contains(fuseMounts(), dir) }

// fuseMountsUnder lists the FUSE mount points below dir.
func fuseMountsUnder(dir string) []string {
	var under []string
	for _, m := range fuseMounts() {
		if strings.HasPrefix(m, dir+"/") {
			under = append(under, m)
		}
	}
	return under
}

func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

// unmount detaches a FUSE mount, lazily if it is busy or hung.
func unmount(ctx context.Context, dir string) error {
	if !fuseMounted(dir) {
		return nil
	}
	if _, err := run(ctx, 30*time.Second, "umount", dir); err == nil {
		return nil
	}
	if _, err := run(ctx, 10*time.Second, "umount", "-l", dir); err != nil {
		return err
	}
	return nil
}

// dropCaches flushes dirty data and empties the kernel's page, dentry and
// inode caches so that reads come from the brick's disk.
func dropCaches() error {
	unix.Sync()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0); err != nil {
		return fmt.Errorf("drop caches: %w", err)
	}
	return nil
}

// portLock is the exclusive flock every user of port 24007 holds (see the
// project's contract), so Debian's glusterd never meets ours or a test's.
type portLock struct{ f *os.File }

const portLockPath = "/tmp/gluster-go-24007.lock"

func lockPort24007(ctx context.Context) (*portLock, error) {
	f, err := os.OpenFile(portLockPath, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", portLockPath, err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return &portLock{f: f}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", portLockPath, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (l *portLock) release() { l.f.Close() }

// freePort asks the kernel for a free TCP port on addr.
func freePort(addr string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitListening polls until addr accepts TCP connections.
func waitListening(addr string, d time.Duration) bool {
	return waitFor(d, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}
