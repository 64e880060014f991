// Package cluster is the multi-node harness of the end-to-end tests: it
// builds the binaries once per test process, runs N glusterd nodes as real
// processes on 127.0.0.2, 127.0.0.3, ... (each with its own state, log and
// run directories under the test's temp dir), drives them with the gluster
// CLI, mounts volumes with the glusterfs client, kills and restarts nodes
// and bricks, and cleans everything up (processes, mounts) even when the
// test fails.
//
// Tests that use it run as root. Port 24007 is shared with anything else
// on the machine that runs a glusterd, so a Cluster holds the exclusive
// flock on /tmp/gluster-go-24007.lock for its whole life.
package cluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/volfile"
)

// PortLock is the lock file every user of port 24007 holds.
const PortLock = "/tmp/gluster-go-24007.lock"

// MgmtPort is glusterd's port.
const MgmtPort = 24007

// startTimeout bounds how long a process may take to start serving; it is
// a hang detector, not a performance assertion.
const startTimeout = 60 * time.Second

// binaries are the programs the harness needs.
func binaries() []string {
	return []string{"glusterd", "glusterfsd", "glusterfs", "gluster", "mount.glusterfs"}
}

type buildResult struct {
	dir    string
	errs   map[string]error // per binary that failed to build
	fatal  error
	hasCmd map[string]bool // cmd/NAME directories in the module
}

// built caches one build per test process (tests in one package share it).
var built = sync.OnceValue(func() buildResult {
	r := buildResult{errs: map[string]error{}, hasCmd: map[string]bool{}}
	if dir := os.Getenv("GLUSTER_BIN"); dir != "" {
		r.dir = dir
		for _, b := range binaries() {
			r.hasCmd[b] = true
		}
		return r
	}
	root, err := moduleRoot()
	if err != nil {
		r.fatal = err
		return r
	}
	ents, _ := os.ReadDir(filepath.Join(root, "cmd"))
	for _, e := range ents {
		r.hasCmd[e.Name()] = e.IsDir()
	}
	if r.dir, err = os.MkdirTemp("", "gluster-go-bin-"); err != nil {
		r.fatal = err
		return r
	}
	goBuild := func(pkg string) error {
		cmd := exec.Command("go", "build", "-o", r.dir+"/", pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
		return nil
	}
	if goBuild("./cmd/...") == nil {
		return r
	}
	// One broken command must not stop the tests of the others.
	for name, isDir := range r.hasCmd {
		if isDir {
			if err := goBuild("./cmd/" + name); err != nil {
				r.errs[name] = err
			}
		}
	}
	return r
})

// Build builds (once per process) all of cmd/... and returns the directory
// holding the binaries; with $GLUSTER_BIN set it uses that directory. Of
// the binaries named in need, it skips the test when one's command does
// not exist yet and fails it when one does not compile.
func Build(t testing.TB, need ...string) string {
	t.Helper()
	r := built()
	if r.fatal != nil {
		t.Fatal(r.fatal)
	}
	for _, b := range need {
		if !r.hasCmd[b] {
			t.Skipf("cmd/%s does not exist yet", b)
		}
		if err := r.errs[b]; err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(r.dir, b)); err != nil {
			t.Fatalf("binary %s: %v", b, err)
		}
	}
	return r.dir
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// Cluster is a pool of glusterd nodes on loopback addresses.
type Cluster struct {
	T     testing.TB
	Bin   string // directory of the binaries
	Root  string // everything of this cluster lives below it
	Nodes []*Node

	mu     sync.Mutex
	mounts []string // mount points to unmount at cleanup
}

// Node is one glusterd.
type Node struct {
	Index   int
	Addr    string // 127.0.0.(2+Index)
	WorkDir string // state (/var/lib/glusterd)
	LogDir  string
	RunDir  string
	proc    *Proc // nil while it does not run
}

// Option configures New.
type Option func(*Cluster)

// New starts n glusterd nodes on 127.0.0.2 ... 127.0.0.(n+1), without
// probing them into one pool (tests do that with Gluster, as users do).
func New(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	bin := Build(t, binaries()...)
	lockPort(t)
	c := &Cluster{T: t, Bin: bin, Root: t.TempDir()}
	for _, o := range opts {
		o(c)
	}
	t.Cleanup(c.cleanup)
	for i := range n {
		nd := &Node{Index: i, Addr: fmt.Sprintf("127.0.0.%d", 2+i)}
		base := filepath.Join(c.Root, fmt.Sprintf("node%d", i+1))
		nd.WorkDir, nd.LogDir, nd.RunDir = filepath.Join(base, "lib"), filepath.Join(base, "log"), filepath.Join(base, "run")
		c.Nodes = append(c.Nodes, nd)
		c.start(nd)
	}
	return c
}

// lockPort takes the exclusive lock on port 24007 until the test ends.
func lockPort(t testing.TB) {
	t.Helper()
	unlock, err := Flock(PortLock, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
}

// Flock takes an exclusive lock on path, waiting up to wait for it, and
// returns the function that releases it.
func Flock(path string, wait time.Duration) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// glusterdArgs is glusterd's command line for nd.
func glusterdArgs(nd *Node) []string {
	return []string{
		"--foreground",
		"--address=" + nd.Addr,
		"--workdir=" + nd.WorkDir,
		"--logdir=" + nd.LogDir,
		"--rundir=" + nd.RunDir,
	}
}

func (c *Cluster) start(nd *Node) {
	c.T.Helper()
	for _, d := range []string{nd.WorkDir, nd.LogDir, nd.RunDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			c.T.Fatal(err)
		}
	}
	out, err := os.OpenFile(filepath.Join(nd.LogDir, "glusterd.stderr"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		c.T.Fatal(err)
	}
	defer out.Close()
	// We hold the port lock, so a listener here is a leftover (a glusterd
	// of a killed test run) that would answer in place of ours.
	if conn, err := net.DialTimeout("tcp", net.JoinHostPort(nd.Addr, strconv.Itoa(MgmtPort)), time.Second); err == nil {
		conn.Close()
		c.T.Fatalf("%s:%d is already in use by another process (a leftover glusterd?); not starting node%d", nd.Addr, MgmtPort, nd.Index+1)
	}
	cmd := exec.Command(filepath.Join(c.Bin, "glusterd"), glusterdArgs(nd)...)
	cmd.Stdout, cmd.Stderr = out, out
	if nd.proc, err = StartProc(cmd); err != nil {
		c.T.Fatalf("start glusterd on %s: %v", nd.Addr, err)
	}
	if err := WaitListen(nd.Addr, MgmtPort, nd.proc.Exited); err != nil {
		c.T.Fatalf("glusterd on %s: %v\n%s", nd.Addr, err, tail(filepath.Join(nd.LogDir, "glusterd.stderr"), 30))
	}
}

// WaitListen waits until addr:port accepts connections, or fails when
// exited (the server's process) closes first or after a minute (a hang
// guard).
func WaitListen(addr string, port int, exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	for {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(addr, strconv.Itoa(port)), time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("exited before serving")
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not serving after %v: %w", startTimeout, err)
		}
	}
}

// Node returns node i (0-based).
func (c *Cluster) Node(i int) *Node { return c.Nodes[i] }

// Gluster runs the gluster CLI against node i in script mode and returns
// its combined output; err is non-nil when it exits non-zero.
func (c *Cluster) Gluster(i int, args ...string) (string, error) {
	nd := c.Nodes[i]
	full := append([]string{"--mode=script", "--remote-host=" + nd.Addr}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.Bin, "gluster"), full...)
	out, err := cmd.CombinedOutput()
	c.T.Logf("node%d$ gluster %s\n%s", i+1, strings.Join(args, " "), out)
	if err != nil {
		return string(out), fmt.Errorf("gluster %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// MustGluster is Gluster that fails the test on error.
func (c *Cluster) MustGluster(i int, args ...string) string {
	c.T.Helper()
	out, err := c.Gluster(i, args...)
	if err != nil {
		c.T.Fatal(err)
	}
	return out
}

// Kill SIGKILLs node i's glusterd (its bricks keep running, as in
// GlusterFS) and waits for it to be gone.
func (c *Cluster) Kill(i int) {
	nd := c.Nodes[i]
	nd.proc.Kill()
	nd.proc = nil
}

// Restart kills node i's glusterd if it runs and starts it again on the
// same state.
func (c *Cluster) Restart(i int) {
	c.T.Helper()
	c.Kill(i)
	c.start(c.Nodes[i])
}

// BrickDir returns (creating its parent) a brick directory for node i:
// ROOT/nodeN/bricks/NAME. The brick itself is left for glusterd to create.
func (c *Cluster) BrickDir(i int, name string) string {
	c.T.Helper()
	parent := filepath.Join(c.Root, fmt.Sprintf("node%d", i+1), "bricks")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		c.T.Fatal(err)
	}
	return filepath.Join(parent, name)
}

// Brick returns "ADDR:DIR" for a brick of node i, as the CLI wants it.
func (c *Cluster) Brick(i int, name string) string {
	return c.Nodes[i].Addr + ":" + c.BrickDir(i, name)
}

// BrickPid finds the glusterfsd serving brick "HOST:/PATH" of vol: from its
// pid file (RUNDIR/vols/VOL/HOST-PATH-WITH-DASHES.pid) or, failing that,
// from the process list.
func (c *Cluster) BrickPid(vol, brick string) (int, error) {
	host, path, ok := strings.Cut(brick, ":")
	if !ok {
		return 0, fmt.Errorf("brick %q: want HOST:/PATH", brick)
	}
	name := host + "-" + strings.ReplaceAll(strings.Trim(path, "/"), "/", "-") + ".pid"
	for _, nd := range c.Nodes {
		if nd.Addr != host {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(nd.RunDir, "vols", vol, name)); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && alive(pid) {
				return pid, nil
			}
		}
	}
	for _, p := range processes() {
		if filepath.Base(p.args[0]) == "glusterfsd" && containsArg(p.args, path) {
			return p.pid, nil
		}
	}
	return 0, fmt.Errorf("no glusterfsd for %s of %s", brick, vol)
}

// KillBrick SIGKILLs the glusterfsd serving brick "HOST:/PATH" of vol.
func (c *Cluster) KillBrick(vol, brick string) {
	c.T.Helper()
	pid, err := c.BrickPid(vol, brick)
	if err != nil {
		c.T.Fatal(err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	for alive(pid) {
		time.Sleep(20 * time.Millisecond)
	}
}

// Mount mounts vol with the glusterfs client, fetching the volfile from
// node i (then from the backups, in order), and returns the mount point.
// glusterfs returns once the mount answers. The mount goes away at
// cleanup.
func (c *Cluster) Mount(vol string, i int, backups ...int) string {
	c.T.Helper()
	mp, err := c.TryMount(vol, append([]int{i}, backups...))
	if err != nil {
		c.T.Fatal(err)
	}
	return mp
}

// TryMount mounts vol from the given nodes' glusterds (tried in order)
// with extra glusterfs arguments, on a new directory under Root.
func (c *Cluster) TryMount(vol string, servers []int, extra ...string) (string, error) {
	var args []string
	for _, i := range servers {
		args = append(args, "--volfile-server="+c.Nodes[i].Addr)
	}
	args = append(args, "--volfile-id="+vol)
	return c.mountClient(vol, append(args, extra...))
}

// Volfile fetches vol's client volfile from node i's glusterd, for tests
// that change it before mounting (MountVolfile).
func (c *Cluster) Volfile(i int, vol string) (*volfile.File, error) {
	u := fmt.Sprintf("http://%s/v1/volfile?id=%s", net.JoinHostPort(c.Nodes[i].Addr, strconv.Itoa(MgmtPort)), url.QueryEscape(vol))
	resp, err := http.Get(u)
	if err != nil {
		return nil, fmt.Errorf("volfile %s: %w", vol, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("volfile %s: %s: %s", vol, resp.Status, bytes.TrimSpace(b))
	}
	return volfile.Parse(resp.Body)
}

// MountVolfile mounts the graph of f (glusterfs --volfile) with extra
// glusterfs arguments, on a new directory under Root.
func (c *Cluster) MountVolfile(f *volfile.File, extra ...string) (string, error) {
	name := "volfile"
	if top := f.Top(); top != nil {
		name = top.Name
	}
	p := filepath.Join(c.Root, fmt.Sprintf("client-%s-%d.vol", name, time.Now().UnixNano()))
	if err := os.WriteFile(p, []byte(f.String()), 0o644); err != nil {
		return "", err
	}
	return c.mountClient(name, append([]string{"--volfile=" + p}, extra...))
}

// mountClient runs glusterfs with args plus a log file, a pid file and a
// new mount point, which it returns once glusterfs says the mount answers.
func (c *Cluster) mountClient(name string, args []string) (string, error) {
	c.mu.Lock()
	mp := filepath.Join(c.Root, "mnt", fmt.Sprintf("%s-%d", name, len(c.mounts)))
	c.mounts = append(c.mounts, mp)
	c.mu.Unlock()
	if err := os.MkdirAll(mp, 0o755); err != nil {
		return "", err
	}
	base := filepath.Join(c.Root, "client-"+filepath.Base(mp))
	args = append(args, "--log-file="+base+".log", "--pid-file="+base+".pid", mp)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(c.Bin, "glusterfs"), args...).CombinedOutput()
	c.T.Logf("$ glusterfs %s\n%s", strings.Join(args, " "), out)
	if err != nil {
		return "", fmt.Errorf("glusterfs %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return mp, nil
}

// TrackMount registers a mount point made another way (mount -t
// glusterfs, fstab) so that cleanup unmounts it.
func (c *Cluster) TrackMount(mp string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mounts = append(c.mounts, mp)
}

// Unmount unmounts mp (lazily if it is busy).
func (c *Cluster) Unmount(mp string) {
	c.T.Helper()
	if err := Unmount(mp); err != nil {
		c.T.Error(err)
	}
}

// Unmount unmounts a FUSE mount point, lazily when a plain unmount fails,
// and is a no-op when nothing is mounted there.
func Unmount(mp string) error {
	if !Mounted(mp) {
		return nil
	}
	if out, err := exec.Command("umount", mp).CombinedOutput(); err == nil {
		return nil
	} else if !Mounted(mp) {
		return nil
	} else if out2, err2 := exec.Command("umount", "-l", mp).CombinedOutput(); err2 != nil {
		return fmt.Errorf("umount %s: %s; umount -l: %s", mp, bytes.TrimSpace(out), bytes.TrimSpace(out2))
	}
	return nil
}

// Mounted reports whether mp is a mount point (per /proc/self/mountinfo).
func Mounted(mp string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescape(fields[4]) == mp {
			return true
		}
	}
	return false
}

// MountInfo returns the file system type and source of the mount at mp
// (e.g. "fuse.glusterfs", "127.0.0.2:/gv0").
func MountInfo(mp string) (fstype, source string, ok bool) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		pre, post, found := strings.Cut(sc.Text(), " - ")
		fields, rest := strings.Fields(pre), strings.Fields(post)
		if found && len(fields) > 4 && len(rest) > 1 && unescape(fields[4]) == mp {
			fstype, source, ok = rest[0], unescape(rest[1]), true
		}
	}
	return fstype, source, ok
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cleanup unmounts every mount, kills every process started below Root
// (glusterd, bricks, clients) and, if the test failed, logs the tails of
// the logs.
func (c *Cluster) cleanup() {
	c.mu.Lock()
	mounts := append([]string(nil), c.mounts...)
	c.mu.Unlock()
	for _, mp := range mounts {
		if err := Unmount(mp); err != nil {
			c.T.Log(err)
		}
	}
	// Any FUSE mount below Root that a test made without telling us.
	for _, mp := range mountsUnder(c.Root) {
		if err := Unmount(mp); err != nil {
			c.T.Log(err)
		}
	}
	for i := range c.Nodes {
		c.Kill(i)
	}
	killUnder(c.Root)
	if c.T.Failed() {
		c.dumpLogs()
	}
}

func mountsUnder(root string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 {
			if mp := unescape(fields[4]); strings.HasPrefix(mp, root+"/") {
				out = append(out, mp)
			}
		}
	}
	// Deepest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

type proc struct {
	pid  int
	args []string
}

// processes lists the running processes with their arguments.
func processes() []proc {
	ents, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		out = append(out, proc{pid: pid, args: strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")})
	}
	return out
}

func containsArg(args []string, s string) bool {
	for _, a := range args {
		if a == s || strings.Contains(a, s) {
			return true
		}
	}
	return false
}

// killUnder SIGKILLs every process whose arguments mention root: the
// cluster's glusterds, bricks and clients, even those a test started
// itself or that outlived their parent.
func killUnder(root string) {
	self := os.Getpid()
	var pids []int
	for _, p := range processes() {
		if p.pid != self && containsArg(p.args, root+"/") {
			syscall.Kill(p.pid, syscall.SIGKILL)
			pids = append(pids, p.pid)
		}
	}
	for _, pid := range pids {
		for alive(pid) {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesized command name.
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z' && b[i+2] != 'X'
	}
	return true
}

func (c *Cluster) dumpLogs() {
	filepath.WalkDir(c.Root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == "bricks" || d.Name() == "mnt" || d.Name() == "raft") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".log") || strings.HasSuffix(p, ".stderr")) {
			c.T.Logf("==> %s <==\n%s", p, tail(p, 40))
		}
		return nil
	})
}

// tail returns the last n lines of a file.
func tail(p string, n int) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
