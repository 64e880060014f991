// Package brickd is the brick process (glusterfsd): it builds a brick's
// layer graph from its volfile (protocol/server on top, storage/posix at
// the bottom), hands the brick port's listener to protocol/server and
// serves until its context ends, then closes the graph, which drops every
// client and releases what they held.
package brickd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/volfile"
)

// DefaultLogDir is where brick logs go unless told otherwise.
const DefaultLogDir = "/var/log/glusterfs/bricks"

// Config is what glusterfsd's flags say.
type Config struct {
	Volfile    string
	Port       int    // brick port; 0: the volfile's listen-port, else any free port
	ListenHost string // "" listens on every address
	PidFile    string
	BrickName  string // informational (logs)
}

// Listener is implemented by the top layer of a brick graph
// (protocol/server), which serves clients on the listener it is given.
type Listener interface {
	Listen(ln net.Listener)
	Addr() net.Addr
}

// LogFileFor returns the default log file of a brick: its path with
// slashes as dashes, as GlusterFS names it.
func LogFileFor(brick string) string {
	name := strings.ReplaceAll(strings.Trim(brick, "/"), "/", "-")
	if name == "" {
		name = "brick"
	}
	return filepath.Join(DefaultLogDir, name+".log")
}

// Run serves the brick until ctx ends. ready, if set, is told the address
// clients connect to once the brick accepts connections.
func Run(ctx context.Context, cfg Config, reg graph.Registry, log *slog.Logger, ready func(net.Addr)) error {
	f, err := os.Open(cfg.Volfile)
	if err != nil {
		return fmt.Errorf("open volfile: %w", err)
	}
	vf, err := volfile.Parse(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("volfile %s: %w", cfg.Volfile, err)
	}
	if vf.Top() == nil {
		return fmt.Errorf("volfile %s: no volumes", cfg.Volfile)
	}
	g, err := graph.Build(vf, reg, graph.Options{Logger: log})
	if err != nil {
		return err
	}
	defer func() {
		if err := g.Close(); err != nil {
			log.Warn("close graph", "err", err)
		}
	}()
	top, ok := g.Top.(Listener)
	if !ok {
		return fmt.Errorf("volfile %s: top volume %s is %s, not a server", cfg.Volfile, vf.Top().Name, vf.Top().Type)
	}
	_, hasPort := vf.Top().Option("transport.socket.listen-port")
	if _, ok := vf.Top().Option("listen-port"); ok {
		hasPort = true
	}
	if cfg.Port != 0 || !hasPort {
		ln, err := net.Listen("tcp", net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.Port)))
		if err != nil {
			return fmt.Errorf("listen on brick port: %w", err)
		}
		top.Listen(ln)
	}
	if err := g.Start(ctx); err != nil {
		return err
	}
	if cfg.PidFile != "" {
		if err := writePidFile(cfg.PidFile); err != nil {
			return err
		}
		defer os.Remove(cfg.PidFile)
	}
	addr := top.Addr()
	log.Info("brick serving", "brick", cfg.BrickName, "addr", addr.String(), "volfile", cfg.Volfile)
	if ready != nil {
		ready(addr)
	}
	<-ctx.Done()
	log.Info("brick shutting down", "brick", cfg.BrickName, "reason", context.Cause(ctx))
	return nil
}

func writePidFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("pid file %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("pid file %s: %w", path, err)
	}
	return nil
}
