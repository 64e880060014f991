// Package gfapi is the Go client library for gluster-go volumes, the
// counterpart of GlusterFS's libgfapi: a program opens a volume and works
// on its files by path, with no FUSE mount. Under the hood it builds the
// same client layer graph as the glusterfs mount (from the volfile that
// glusterd serves, or from a file) and calls its top layer directly.
//
// Example:
//
//	vol, err := gfapi.Open(ctx, "server1:/vol1", gfapi.WithIdentity(1000, 1000))
//	if err != nil {
//		return err
//	}
//	defer vol.Close()
//	if err := vol.MkdirAll("/reports/2026", 0o755); err != nil {
//		return err
//	}
//	f, err := vol.Create("/reports/2026/q1.txt")
//	if err != nil {
//		return err
//	}
//	if _, err := f.Write([]byte("hello\n")); err != nil {
//		f.Close()
//		return err
//	}
//	if err := f.Close(); err != nil {
//		return err
//	}
//	fi, err := vol.Stat("/reports/2026/q1.txt")
//	fmt.Println(fi.Size(), err) // 6 <nil>
//
// Paths are absolute volume paths ("/a/b"; a relative path is taken from
// the root). Errors are *fs.PathError or *os.LinkError wrapping a
// syscall.Errno, so errors.Is(err, fs.ErrNotExist) works as with package
// os. Every call runs as the identity given with WithIdentity (root by
// default); the bricks check permissions as that user.
package gfapi

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/graphswitch"
	"github.com/gluster-go/gluster-go/internal/layers"
	"github.com/gluster-go/gluster-go/internal/volfetch"
	"github.com/gluster-go/gluster-go/internal/volfile"
)

// defaultUpTimeout bounds the wait for the volume's bricks when opening.
const defaultUpTimeout = 30 * time.Second

type options struct {
	caller    fop.Caller
	log       *slog.Logger
	upTimeout time.Duration
	registry  graph.Registry
	port      int
	dirTTL    time.Duration
}

// Option configures Open and OpenVolfile.
type Option func(*options)

// WithIdentity makes every call run as uid and gid with the given
// supplementary groups.
func WithIdentity(uid, gid uint32, groups ...uint32) Option {
	return func(o *options) {
		o.caller.UID, o.caller.GID, o.caller.Groups = uid, gid, groups
	}
}

// WithLogger sends the graph's logs to l (they are discarded otherwise).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// WithUpTimeout bounds how long Open waits for the volume's bricks to be
// reachable (30 s by default); the context passed to Open bounds it too.
func WithUpTimeout(d time.Duration) Option {
	return func(o *options) { o.upTimeout = d }
}

// WithServerPort sets glusterd's port for servers named without one
// (24007 by default).
func WithServerPort(port int) Option {
	return func(o *options) { o.port = port }
}

// Volume is an open volume. Its methods are safe for concurrent use.
type Volume struct {
	sw         *graphswitch.Switch
	top        fop.Layer
	dirs       *dirCache
	caller     fop.Caller
	stopFollow context.CancelFunc
}

func newOptions(opts []Option) *options {
	o := &options{log: slog.New(slog.DiscardHandler), upTimeout: defaultUpTimeout, dirTTL: dirCacheTTL}
	for _, opt := range opts {
		opt(o)
	}
	if o.registry == nil {
		o.registry = layers.Registry()
	}
	// Calls carry the caller's pid so that brick logs can name it.
	o.caller.PID = uint32(os.Getpid())
	return o
}

// OpenVolfile opens the volume a client volfile describes.
func OpenVolfile(ctx context.Context, path string, opts ...Option) (*Volume, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open volfile: %w", err)
	}
	defer f.Close()
	vf, err := volfile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("open volfile %s: %w", path, err)
	}
	return start(ctx, &volfetch.Volfile{File: vf}, nil, newOptions(opts))
}

// Open opens the volume named by spec, "HOST:/VOLUME" (several hosts,
// tried in order, may be given as "HOST1,HOST2:/VOLUME"): it fetches the
// client volfile from glusterd on HOST and follows its changes.
func Open(ctx context.Context, spec string, opts ...Option) (*Volume, error) {
	hosts, vol, err := volfetch.ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	o := newOptions(opts)
	fetcher := &volfetch.Fetcher{Servers: strings.Split(hosts, ","), Port: o.port, Volume: vol}
	vf, err := fetcher.Fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", spec, err)
	}
	return start(ctx, vf, fetcher, o)
}

func start(ctx context.Context, vf *volfetch.Volfile, fetcher *volfetch.Fetcher, o *options) (*Volume, error) {
	g, err := graph.Build(vf.File, o.registry, graph.Options{Logger: o.log})
	if err != nil {
		return nil, err
	}
	if err := g.Start(ctx); err != nil {
		g.Close()
		return nil, err
	}
	upCtx, cancel := context.WithTimeout(ctx, o.upTimeout)
	defer cancel()
	if err := g.WaitUp(upCtx); err != nil {
		g.Close()
		return nil, fmt.Errorf("volume %s not reachable: %w", g.TopName, err)
	}
	// Calls go through a switch, so that when the volume changes shape
	// (add-brick) a new graph takes over without reopening the volume.
	sw := graphswitch.New(g, o.log)
	followCtx, stop := context.WithCancel(context.Background())
	if fetcher != nil {
		go volfetch.FollowRebuild(followCtx, fetcher, vf, g, sw.Rebuilder(o.registry, graph.Options{Logger: o.log}), o.log)
	}
	return &Volume{sw: sw, top: sw, dirs: newDirCache(o.dirTTL), caller: o.caller, stopFollow: stop}, nil
}

// Close stops following the volfile and closes the graph (the connections
// to the bricks), at once or, if Files are still open, when the last one
// is closed.
func (v *Volume) Close() error {
	v.stopFollow()
	return v.sw.Close()
}

// ctx is the context every call runs with.
func (v *Volume) ctx() context.Context {
	return fop.WithCaller(context.Background(), &v.caller)
}
