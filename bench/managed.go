package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Debian's binaries are named by absolute path: `make install` puts ours,
// with the same names, in /usr/local/sbin, ahead of /usr/sbin in PATH.
const (
	debGlusterd  = "/usr/sbin/glusterd"
	debGluster   = "/usr/sbin/gluster"
	debGlusterfs = "/usr/sbin/glusterfs"
)

// managed is a system set up the way a user does it: start glusterd,
// `gluster volume create VOL HOST:BRICK force`, `volume start`, mount with
// `glusterfs -s HOST --volfile-id VOL`. Debian's GlusterFS and ours
// differ only in the command lines, so one type drives both.
type managed struct {
	sysName string
	work    string // everything of this system lives below
	addr    string // loopback address glusterd listens on
	log     *slog.Logger

	// prepare writes whatever the daemon's command line refers to.
	prepare  func() error
	glusterd []string // daemonizes; returns once it serves, writes pidFile
	cli      []string // gluster binary and its leading flags
	host     string   // brick host name
	client   fuseClient

	lock *portLock
	// brickSockets are the unix sockets the bricks were told to create
	// (GlusterFS's glusterfsd -S), which nobody removes after them.
	brickSockets []string
}

const benchVol = "bench"

func (m *managed) name() string    { return m.sysName }
func (m *managed) dir() string     { return m.client.mnt }
func (m *managed) brick() string   { return filepath.Join(m.work, "brick") }
func (m *managed) pidFile() string { return filepath.Join(m.work, "glusterd.pid") }

func newManaged(name, work, addr, host string, log *slog.Logger, glusterfsBin string) *managed {
	mnt := filepath.Join(work, "mnt")
	return &managed{sysName: name, work: work, addr: addr, host: host, log: log,
		client: fuseClient{mnt: mnt, argv: []string{glusterfsBin,
			"--volfile-server=" + host, "--volfile-id=" + benchVol,
			"--log-file=" + filepath.Join(work, "client.log"), mnt}}}
}

// newGlusterFS is Debian's GlusterFS: its glusterd with a private working
// directory and socket (so /var/lib/glusterd is left alone), bound to the
// brick host's loopback address. GlusterFS refuses "localhost" and
// 127.0.0.1 as brick hosts, even with force, but takes a host name that
// resolves to 127.0.0.1 or another 127.x address.
func newGlusterFS(work, host string, log *slog.Logger) *managed {
	addr := "127.0.0.1"
	if ip := net.ParseIP(host); ip != nil {
		addr = host
	}
	m := newManaged("glusterfs", work, addr, host, log, debGlusterfs)
	sock := filepath.Join(work, "glusterd.socket")
	volPath := filepath.Join(work, "glusterd.vol")
	m.prepare = func() error {
		conf, err := os.ReadFile("/etc/glusterfs/glusterd.vol")
		if err != nil {
			return fmt.Errorf("start glusterd: %w", err)
		}
		vol := strings.Replace(string(conf), "/var/lib/glusterd", filepath.Join(work, "state"), 1)
		vol = strings.Replace(vol, "end-volume",
			"    option transport.socket.bind-address "+m.addr+"\n"+
				"    option glusterd-sockfile "+sock+"\nend-volume", 1)
		return os.WriteFile(volPath, []byte(vol), 0o644)
	}
	m.glusterd = []string{debGlusterd, "-f", volPath, "-p", m.pidFile(),
		"-l", filepath.Join(work, "glusterd.log"), "-L", "WARNING"}
	m.cli = []string{debGluster, "--mode=script", "--glusterd-sock=" + sock}
	return m
}

// newOursManaged is gluster-go driven through our glusterd and CLI, on
// 127.0.0.2 (ours refuses 127.0.0.1 brick hosts, as DESIGN.md says).
func newOursManaged(work, bin string, log *slog.Logger) *managed {
	const addr = "127.0.0.2"
	m := newManaged("ours", work, addr, addr, log, filepath.Join(bin, "glusterfs"))
	m.prepare = func() error { return nil }
	m.glusterd = []string{filepath.Join(bin, "glusterd"), "--address=" + addr,
		"--workdir=" + filepath.Join(work, "state"), "--logdir=" + filepath.Join(work, "log"),
		"--rundir=" + filepath.Join(work, "run"), "-p", m.pidFile(), "-L", "WARNING"}
	m.cli = []string{filepath.Join(bin, "gluster"), "--mode=script", "--remote-host=" + addr}
	return m
}

func (m *managed) gluster(ctx context.Context, args ...string) (string, error) {
	return run(ctx, 2*time.Minute, m.cli[0], append(m.cli[1:], args...)...)
}

func (m *managed) mgmtAddr() string { return net.JoinHostPort(m.addr, "24007") }

func (m *managed) start(ctx context.Context) error {
	m.log.Info("waiting for the port 24007 lock", "path", portLockPath)
	lock, err := lockPort24007(ctx)
	if err != nil {
		return err
	}
	m.lock = lock
	if waitListening(m.mgmtAddr(), 0) {
		return fmt.Errorf("start glusterd: %s is already served by another process", m.mgmtAddr())
	}
	for _, d := range []string{"state", "log", "run", "brick", "mnt"} {
		if err := os.MkdirAll(filepath.Join(m.work, d), 0o755); err != nil {
			return err
		}
	}
	if err := m.prepare(); err != nil {
		return err
	}
	if _, err := run(ctx, time.Minute, m.glusterd[0], m.glusterd[1:]...); err != nil {
		return err
	}
	if !waitListening(m.mgmtAddr(), 30*time.Second) {
		return fmt.Errorf("start glusterd: nothing listens on %s", m.mgmtAddr())
	}
	// The CLI may still find glusterd busy starting up: retry a little.
	var cerr error
	waitFor(30*time.Second, func() bool {
		_, cerr = m.gluster(ctx, "volume", "create", benchVol, m.host+":"+m.brick(), "force")
		return cerr == nil
	})
	if cerr != nil {
		return cerr
	}
	if _, err := m.gluster(ctx, "volume", "start", benchVol); err != nil {
		return err
	}
	for _, p := range m.brickPIDs() {
		if sock := procFlag(p, "-S"); sock != "" {
			m.brickSockets = append(m.brickSockets, sock)
		}
	}
	return m.client.mount(ctx)
}

func (m *managed) recycle(ctx context.Context) error { return m.client.recycle(ctx) }

func (m *managed) brickPIDs() []int { return findProcs("glusterfsd", m.brick()) }

func (m *managed) procs() ([]int, []int) { return m.client.pids(), m.brickPIDs() }

func (m *managed) rss() (uint64, uint64) {
	m.client.notePeak()
	return m.client.peak, peakRSS(m.brickPIDs())
}

// stop tears everything down even after a failed start, and only then
// releases the port lock: glusterd must be gone before anyone else may
// bind 24007.
func (m *managed) stop(ctx context.Context) error {
	errs := []error{m.client.unmount(ctx)}
	if m.lock == nil {
		return errors.Join(errs...)
	}
	if waitListening(m.mgmtAddr(), 0) {
		// Errors are expected after a failed start; the kills below are
		// what must not fail.
		if _, err := m.gluster(ctx, "volume", "stop", benchVol, "force"); err != nil {
			m.log.Warn("volume stop", "system", m.sysName, "err", err)
		}
		if _, err := m.gluster(ctx, "volume", "delete", benchVol); err != nil {
			m.log.Warn("volume delete", "system", m.sysName, "err", err)
		}
	}
	if raw, err := os.ReadFile(m.pidFile()); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil {
			stopPID(pid, 15*time.Second)
		}
	}
	// Processes started for this volume carry our work dir in their
	// command line (volfile, brick path, log file).
	for _, exe := range []string{"glusterd", "glusterfsd", "glusterfs"} {
		for _, p := range findProcs(exe, m.work) {
			stopPID(p, 10*time.Second)
		}
	}
	for _, sock := range m.brickSockets {
		if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	m.brickSockets = nil
	if waitListening(m.mgmtAddr(), 0) {
		errs = append(errs, fmt.Errorf("stop glusterd: %s still served", m.mgmtAddr()))
	}
	m.lock.release()
	m.lock = nil
	if !fuseMounted(m.client.mnt) {
		errs = append(errs, os.RemoveAll(m.work))
	}
	return errors.Join(errs...)
}

// glusterFSVersion is the installed GlusterFS release, e.g. "10.3".
func glusterFSVersion(ctx context.Context) string {
	out, err := run(ctx, 10*time.Second, debGlusterfs, "--version")
	if err != nil {
		return "not installed"
	}
	first, _, _ := strings.Cut(out, "\n")
	return strings.TrimPrefix(strings.TrimSpace(first), "glusterfs ")
}

// volume creates ("volume create VOL LAYOUT... BRICKS... force", bricks
// of m's host), starts and mounts a volume, and returns its client and a
// function that unmounts and removes it all (also after an error; calls
// after the first do nothing).
func (m *managed) volume(ctx context.Context, vol string, layout, bricks []string) (fuseClient, func(), error) {
	mnt := filepath.Join(m.work, vol+"-mnt")
	client := fuseClient{mnt: mnt, argv: []string{m.client.argv[0], "--volfile-server=" + m.host,
		"--volfile-id=" + vol, "--log-file=" + filepath.Join(m.work, vol+"-client.log"), mnt}}
	args := append([]string{"volume", "create", vol}, layout...)
	for _, b := range bricks {
		args = append(args, m.host+":"+b)
	}
	if _, err := m.gluster(ctx, append(args, "force")...); err != nil {
		return client, func() {}, err
	}
	cleanup := sync.OnceFunc(func() {
		ctx := context.WithoutCancel(ctx)
		if err := client.unmount(ctx); err != nil {
			m.log.Warn("unmount", "volume", vol, "err", err)
		}
		m.gluster(ctx, "volume", "stop", vol, "force")
		m.gluster(ctx, "volume", "delete", vol)
		for _, b := range bricks {
			os.RemoveAll(b)
		}
	})
	if _, err := m.gluster(ctx, "volume", "start", vol); err != nil {
		return client, cleanup, err
	}
	return client, cleanup, client.mount(ctx)
}
