// Package mountd is the glusterfs client process: it gets the client
// volfile (from a file or from glusterd), builds and starts the layer
// graph, mounts it with the FUSE bridge (internal/fuse), follows volfile
// changes, and unmounts cleanly on SIGTERM or when the user unmounts.
// cmd/glusterfs is a thin main around Run and Daemonize.
package mountd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/fuse"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/graphswitch"
	"github.com/gluster-go/gluster-go/internal/volfetch"
	"github.com/gluster-go/gluster-go/internal/volfile"
)

// DefaultLogDir is where clients log unless told otherwise.
const DefaultLogDir = "/var/log/glusterfs"

// Config is what the glusterfs command line says.
type Config struct {
	VolfilePath string   // --volfile; or else:
	Servers     []string // --volfile-server, tried in order
	ServerPort  int      // --volfile-server-port
	VolumeID    string   // --volfile-id, "VOL" or "VOL/SUBDIR"
	Subdir      string   // --subdir-mount: mount this directory of the volume
	DumpDir     string   // where SIGUSR1 writes state dumps
	MountPoint  string
	Overrides   []volfetch.Override // --xlator-option

	// FS and Mount tune the FUSE bridge; Run fills in what comes from the
	// graph (WaitUp, Logger, FsName).
	FS    fuse.Options
	Mount fuse.MountOptions
}

// LogFileFor returns GlusterFS's default client log path: the mount
// point without its leading slash, slashes as dashes.
func LogFileFor(logDir, mountPoint string) string {
	name := strings.ReplaceAll(strings.Trim(filepath.Clean(mountPoint), "/"), "/", "-")
	if name == "" {
		name = "root"
	}
	return filepath.Join(logDir, name+".log")
}

// Run mounts the volume and serves it until ctx ends (SIGTERM: unmount)
// or the mount goes away (umount). It changes the working directory to /. ready is called once, with nil when
// the mount answers or with the reason it will not.
func Run(ctx context.Context, cfg Config, reg graph.Registry, log *slog.Logger, ready func(error)) error {
	var once sync.Once
	report := func(err error) {
		if ready != nil {
			once.Do(func() { ready(err) })
		}
	}
	err := run(ctx, cfg, reg, log, report)
	// Reports a failure before the mount answered; later ones are logged.
	report(err)
	return err
}

func run(ctx context.Context, cfg Config, reg graph.Registry, log *slog.Logger, ready func(error)) error {
	mnt, err := filepath.Abs(cfg.MountPoint)
	if err != nil {
		return fmt.Errorf("mount point %s: %w", cfg.MountPoint, err)
	}
	vol, subdir := splitVolumeID(cfg.VolumeID)
	if cfg.Subdir != "" {
		subdir = "/" + strings.Trim(cfg.Subdir, "/")
	}
	vf, fetcher, fsName, err := loadVolfile(ctx, cfg, vol)
	if err != nil {
		return err
	}
	// Every path is resolved by now; a client must not keep the directory
	// it was started from busy (it could not be unmounted).
	if err := os.Chdir("/"); err != nil {
		return err
	}
	if err := clearStale(mnt, log); err != nil {
		return err
	}
	st, err := os.Stat(mnt)
	if err != nil {
		return fmt.Errorf("mount point %s: %w", mnt, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("mount point %s: %w", mnt, syscall.ENOTDIR)
	}

	// The bridge, once mounted, drops the kernel's caches of what other
	// clients change (the bricks' upcalls reaching the top of the graph).
	var bridgeRef atomic.Pointer[fuse.FS]
	gopts := graph.Options{Logger: log, OnUpcall: func(u *fop.Upcall) {
		if b := bridgeRef.Load(); b != nil {
			b.Invalidate(u)
		}
	}}
	g, err := graph.Build(vf.File, reg, gopts)
	if err != nil {
		return err
	}
	// The FUSE bridge serves from a switch, so that add-brick and the
	// like swap in a new graph without a remount.
	sw := graphswitch.New(g, log)
	defer sw.Close()
	if err := g.Start(ctx); err != nil {
		return err
	}
	fo := cfg.FS
	if fo.UpTimeout <= 0 {
		fo.UpTimeout = fuse.DefaultUpTimeout
	}
	if subdir != "" {
		if fo.Root, err = resolveSubdir(ctx, sw, g.WaitUp, fo.UpTimeout, subdir); err != nil {
			return err
		}
		fo.RootPath = subdir
		fsName += subdir
	}
	fo.WaitUp = g.WaitUp
	fo.Logger = log.With("component", "fuse")
	mo := cfg.Mount
	mo.FsName = fsName
	bridge := fuse.New(sw, fo)
	bridgeRef.Store(bridge)
	srv, err := fuse.Mount(mnt, bridge, mo)
	if err != nil {
		return err
	}
	served := make(chan struct{})
	go func() {
		srv.Serve()
		close(served)
	}()
	if err := srv.WaitMount(); err != nil {
		_ = srv.Unmount()
		return fmt.Errorf("mount %s: %w", mnt, err)
	}
	// The mount answers once a stat of its root does (after the graph is
	// up, or after the bounded wait for it).
	if _, err := os.Stat(mnt); err != nil {
		_ = srv.Unmount()
		return fmt.Errorf("mount %s: %w", mnt, err)
	}
	log.Info("mounted", "mountpoint", mnt, "volume", fsName, "volfile-version", vf.Version)
	ready(nil)

	followCtx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	if fetcher != nil {
		go volfetch.FollowRebuild(followCtx, fetcher, vf, g, sw.Rebuilder(reg, gopts), log.With("component", "volfetch"))
	}

	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	for done := false; !done; {
		select {
		case <-served:
			log.Info("unmounted by the system", "mountpoint", mnt)
			return nil
		case <-usr1:
			statedump(cfg.DumpDir, mnt, fsName, vf, bridge.Stats(), log)
		case <-ctx.Done():
			done = true
		}
	}
	log.Info("unmounting", "mountpoint", mnt)
	if err := srv.Unmount(); err != nil {
		// Busy: detach it; the kernel ends the connection when we exit.
		log.Warn("unmount failed, detaching", "mountpoint", mnt, "err", err)
		if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s: %w", mnt, err)
		}
		return nil
	}
	<-served
	return nil
}

// loadVolfile reads the volfile named by cfg (or, from the servers, that of
// volume vol), and for a server-provided one returns the fetcher that
// follows it.
func loadVolfile(ctx context.Context, cfg Config, vol string) (*volfetch.Volfile, *volfetch.Fetcher, string, error) {
	if cfg.VolfilePath != "" {
		f, err := os.Open(cfg.VolfilePath)
		if err != nil {
			return nil, nil, "", fmt.Errorf("volfile: %w", err)
		}
		defer f.Close()
		vf, err := volfile.Parse(f)
		if err != nil {
			return nil, nil, "", fmt.Errorf("volfile %s: %w", cfg.VolfilePath, err)
		}
		volfetch.Apply(vf, cfg.Overrides)
		return &volfetch.Volfile{File: vf}, nil, cfg.VolfilePath, nil
	}
	if len(cfg.Servers) == 0 || vol == "" {
		return nil, nil, "", errors.New("need --volfile, or --volfile-server and --volfile-id")
	}
	fetcher := &volfetch.Fetcher{Servers: cfg.Servers, Port: cfg.ServerPort, Volume: vol, Overrides: cfg.Overrides}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	vf, err := fetcher.Fetch(fctx)
	if err != nil {
		return nil, nil, "", err
	}
	return vf, fetcher, vf.Server + ":/" + vol, nil
}

// clearStale lazily unmounts what a crashed client left behind: a FUSE
// mount whose server is gone answers every call with ENOTCONN (or
// ECONNABORTED, or EIO for a request the kernel had in flight when the
// server died). statfs asks, where stat may be answered from the kernel's
// attribute cache.
func clearStale(mnt string, log *slog.Logger) error {
	var st unix.Statfs_t
	if !deadMount(unix.Statfs(mnt, &st)) {
		return nil
	}
	log.Warn("mount point is a dead mount, detaching it", "mountpoint", mnt)
	if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach stale mount %s: %w", mnt, err)
	}
	return nil
}

// deadMount reports whether err is how a FUSE mount without its server
// answers.
func deadMount(err error) bool {
	return err == syscall.ENOTCONN || err == syscall.ECONNABORTED || err == syscall.EIO
}
