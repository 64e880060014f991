package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Debian's binaries are named by absolute path: `make install` puts ours,
// with the same names, in /usr/local/sbin, ahead of /usr/sbin in PATH.
const (
	debGlusterd  = "/usr/sbin/glusterd"
	debGluster   = "/usr/sbin/gluster"
	debGlusterfs = "/usr/sbin/glusterfs"
)

// glusterFS is Debian's GlusterFS: its glusterd with a private working
// directory and socket (so /var/lib/glusterd is left alone), bound to
// 127.0.0.1, one brick created with force, mounted with its FUSE client.
type glusterFS struct {
	work string // everything of this system lives below
	host string // brick host name, resolving to loopback
	vol  string
	log  *slog.Logger

	lock   *portLock
	client fuseClient
}

func newGlusterFS(work, host string, log *slog.Logger) *glusterFS {
	g := &glusterFS{work: work, host: host, vol: "bench", log: log}
	mnt := filepath.Join(work, "mnt")
	g.client = fuseClient{mnt: mnt, argv: []string{debGlusterfs,
		"--volfile-server=" + host, "--volfile-id=" + g.vol,
		"--log-file=" + filepath.Join(work, "client.log"), mnt}}
	return g
}

func (g *glusterFS) name() string { return "glusterfs" }
func (g *glusterFS) dir() string  { return g.client.mnt }
func (g *glusterFS) brick() string {
	return filepath.Join(g.work, "brick")
}
func (g *glusterFS) sock() string { return filepath.Join(g.work, "glusterd.socket") }

func (g *glusterFS) cli(ctx context.Context, args ...string) (string, error) {
	return run(ctx, 2*time.Minute, debGluster,
		append([]string{"--mode=script", "--glusterd-sock=" + g.sock()}, args...)...)
}

func (g *glusterFS) start(ctx context.Context) error {
	g.log.Info("waiting for the port 24007 lock", "path", portLockPath)
	lock, err := lockPort24007(ctx)
	if err != nil {
		return err
	}
	g.lock = lock
	if waitListening("127.0.0.1:24007", 0) {
		return errors.New("start glusterd: 127.0.0.1:24007 is already served by another process")
	}
	for _, d := range []string{"state", "brick", "mnt"} {
		if err := os.MkdirAll(filepath.Join(g.work, d), 0o755); err != nil {
			return err
		}
	}
	conf, err := os.ReadFile("/etc/glusterfs/glusterd.vol")
	if err != nil {
		return fmt.Errorf("start glusterd: %w", err)
	}
	vol := strings.Replace(string(conf), "/var/lib/glusterd", filepath.Join(g.work, "state"), 1)
	vol = strings.Replace(vol, "end-volume",
		"    option transport.socket.bind-address 127.0.0.1\n"+
			"    option glusterd-sockfile "+g.sock()+"\nend-volume", 1)
	volPath := filepath.Join(g.work, "glusterd.vol")
	if err := os.WriteFile(volPath, []byte(vol), 0o644); err != nil {
		return err
	}
	if _, err := run(ctx, time.Minute, debGlusterd, "-f", volPath,
		"-p", filepath.Join(g.work, "glusterd.pid"),
		"-l", filepath.Join(g.work, "glusterd.log"), "-L", "WARNING"); err != nil {
		return err
	}
	if !waitListening("127.0.0.1:24007", 30*time.Second) {
		return errors.New("start glusterd: nothing listens on 127.0.0.1:24007")
	}
	if !waitFor(30*time.Second, func() bool { _, err := os.Stat(g.sock()); return err == nil }) {
		return fmt.Errorf("start glusterd: no socket %s", g.sock())
	}
	if _, err := g.cli(ctx, "volume", "create", g.vol, g.host+":"+g.brick(), "force"); err != nil {
		return err
	}
	if _, err := g.cli(ctx, "volume", "start", g.vol); err != nil {
		return err
	}
	return g.client.mount(ctx)
}

func (g *glusterFS) recycle(ctx context.Context) error { return g.client.recycle(ctx) }

func (g *glusterFS) brickPIDs() []int { return findProcs("glusterfsd", g.brick()) }

func (g *glusterFS) rss() (uint64, uint64) {
	g.client.notePeak()
	return g.client.peak, peakRSS(g.brickPIDs())
}

// stop tears everything down even after a failed start, and only then
// releases the port lock: Debian's glusterd must be gone before anyone
// else may bind 24007.
func (g *glusterFS) stop(ctx context.Context) error {
	errs := []error{g.client.unmount(ctx)}
	if _, err := os.Stat(g.sock()); err == nil {
		// Errors are expected after a failed start; the kills below
		// are what must not fail.
		if _, err := g.cli(ctx, "volume", "stop", g.vol, "force"); err != nil {
			g.log.Warn("volume stop", "err", err)
		}
		if _, err := g.cli(ctx, "volume", "delete", g.vol); err != nil {
			g.log.Warn("volume delete", "err", err)
		}
	}
	if raw, err := os.ReadFile(filepath.Join(g.work, "glusterd.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil {
			stopPID(pid, 15*time.Second)
		}
	}
	// Processes glusterd started for this volume carry our work dir in
	// their command line (brick path, volfile id, log file).
	for _, exe := range []string{"glusterd", "glusterfsd", "glusterfs"} {
		for _, p := range findProcs(exe, g.work) {
			stopPID(p, 10*time.Second)
		}
	}
	if waitListening("127.0.0.1:24007", 0) {
		errs = append(errs, errors.New("stop glusterd: 127.0.0.1:24007 still served"))
	}
	if g.lock != nil {
		g.lock.release()
		g.lock = nil
	}
	if !fuseMounted(g.client.mnt) {
		errs = append(errs, os.RemoveAll(g.work))
	}
	return errors.Join(errs...)
}

// version is the installed GlusterFS release, e.g. "10.3".
func glusterFSVersion(ctx context.Context) string {
	out, err := run(ctx, 10*time.Second, debGlusterfs, "--version")
	if err != nil {
		return "not installed"
	}
	first, _, _ := strings.Cut(out, "\n")
	return strings.TrimPrefix(strings.TrimSpace(first), "glusterfs ")
}
