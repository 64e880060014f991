package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// system is one file system under test: the local disk, Debian's GlusterFS
// or gluster-go. The suite runs the same workloads in dir() of each.
type system interface {
	name() string
	// start brings up the servers and mounts the volume.
	start(ctx context.Context) error
	dir() string
	// recycle unmounts and mounts again so that the next phase starts with
	// cold client caches (a fresh client process).
	recycle(ctx context.Context) error
	// rss returns the peak resident set sizes (bytes) of the client and
	// brick processes seen so far; 0 where there is no such process.
	rss() (client, brick uint64)
	// procs lists the current client and brick processes.
	procs() (client, brick []int)
	// stop unmounts, stops every process start began and removes the data.
	stop(ctx context.Context) error
}

// localDisk is the reference: a plain directory on the disk that holds the
// bricks of the other systems.
type localDisk struct{ path string }

func (l *localDisk) name() string                { return "local" }
func (l *localDisk) start(context.Context) error { return os.MkdirAll(l.path, 0o755) }
func (l *localDisk) dir() string                 { return l.path }
func (l *localDisk) rss() (uint64, uint64)       { return 0, 0 }
func (l *localDisk) procs() ([]int, []int)       { return nil, nil }
func (l *localDisk) stop(context.Context) error  { return os.RemoveAll(l.path) }

// recycle can only empty the kernel's caches: there is no client to restart.
func (l *localDisk) recycle(context.Context) error { return dropCaches() }

// fuseClient mounts a volume with a glusterfs client binary and keeps the
// peak RSS of every client process it has started.
type fuseClient struct {
	mnt  string
	argv []string // the mount command; the mount point is its last word
	peak uint64
}

func (c *fuseClient) mount(ctx context.Context) error {
	if err := os.MkdirAll(c.mnt, 0o755); err != nil {
		return err
	}
	if _, err := run(ctx, 90*time.Second, c.argv[0], c.argv[1:]...); err != nil {
		return err
	}
	if !waitFor(30*time.Second, func() bool { return fuseMounted(c.mnt) }) {
		return fmt.Errorf("mount %s: no FUSE mount appeared", c.mnt)
	}
	// The mount must answer, not just exist.
	if _, err := os.Stat(c.mnt + "/."); err != nil {
		return fmt.Errorf("mount %s: %w", c.mnt, err)
	}
	return nil
}

func (c *fuseClient) pids() []int { return findProcs("glusterfs", c.mnt) }

func (c *fuseClient) notePeak() {
	c.peak = max(c.peak, peakRSS(c.pids()))
}

// unmount records the client's peak RSS, unmounts and waits for the client
// process to exit (killing it if it does not).
func (c *fuseClient) unmount(ctx context.Context) error {
	pids := c.pids()
	c.peak = max(c.peak, peakRSS(pids))
	err := unmount(ctx, c.mnt)
	for _, p := range pids {
		if !waitGone(p, 15*time.Second) {
			stopPID(p, 5*time.Second)
		}
	}
	return err
}

func (c *fuseClient) recycle(ctx context.Context) error {
	if err := c.unmount(ctx); err != nil {
		return err
	}
	if err := dropCaches(); err != nil {
		return err
	}
	return c.mount(ctx)
}
