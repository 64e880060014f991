// Package brickd is the brick process (glusterfsd): it builds a brick's
// layer graph from its volfile (protocol/server on top, storage/posix at
// the bottom), hands the brick port's listener to protocol/server and
// serves until its context ends, then closes the graph, which drops every
// client and releases what they held. SIGUSR1 writes a state dump; SIGHUP
// re-reads the volfile and applies changed options live.
package brickd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/volfile"
)

// DefaultLogDir is where brick logs go unless told otherwise.
const DefaultLogDir = "/var/log/glusterfs/bricks"

// DefaultStatedumpDir is where SIGUSR1 writes state dumps, unless the
// server volume's statedump-path option says otherwise.
const DefaultStatedumpDir = "/var/run/gluster"

// Dumper is implemented by layers with state worth a look in a state dump
// (connected clients, held locks). Statedump writes "key=value" lines.
type Dumper interface {
	Statedump(w io.Writer)
}

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
	// Catch the signals first: a SIGHUP from glusterd while the brick
	// starts must not kill it (its default action); it is applied once
	// the brick serves.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGHUP)
	defer signal.Stop(sigs)
	vf, err := readVolfile(cfg.Volfile)
	if err != nil {
		return err
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
	for {
		select {
		case <-ctx.Done():
			log.Info("brick shutting down", "brick", cfg.BrickName, "reason", context.Cause(ctx))
			return nil
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if next, err := reload(cfg.Volfile, vf, g); err != nil {
					log.Error("reload volfile", "volfile", cfg.Volfile, "err", err)
				} else {
					vf = next
					log.Info("volfile reloaded", "volfile", cfg.Volfile)
				}
				continue
			}
			dir, ok := vf.Top().Option("statedump-path")
			if !ok {
				dir = DefaultStatedumpDir
			}
			if path, err := statedump(dir, cfg, vf, g); err != nil {
				log.Error("statedump", "err", err)
			} else {
				log.Info("statedump written", "file", path)
			}
		}
	}
}

// reload applies the options of the volfile as it is now on disk (glusterd
// rewrites it on "volume set" and sends SIGHUP, as GlusterFS's glusterfsd
// re-fetches its volfile on SIGHUP). A volfile whose graph has a different
// shape needs a brick restart.
func reload(path string, cur *volfile.File, g *graph.Graph) (*volfile.File, error) {
	next, err := readVolfile(path)
	if err != nil {
		return nil, err
	}
	if err := g.Reconfigure(cur, next); err != nil {
		return nil, err
	}
	return next, nil
}

func readVolfile(path string) (*volfile.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open volfile: %w", err)
	}
	defer f.Close()
	vf, err := volfile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("volfile %s: %w", path, err)
	}
	if vf.Top() == nil {
		return nil, fmt.Errorf("volfile %s: no volumes", path)
	}
	return vf, nil
}

// statedump writes the brick's state, as GlusterFS's glusterdump.PID.dump.TS:
// the graph, then a section per layer that has something to say.
func statedump(dir string, cfg Config, vf *volfile.File, g *graph.Graph) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("statedump: %w", err)
	}
	now := time.Now()
	path := filepath.Join(dir, fmt.Sprintf("glusterdump.%d.dump.%d", os.Getpid(), now.Unix()))
	var b bytes.Buffer
	fmt.Fprintf(&b, "DUMP-START-TIME: %s\n\n[global]\npid=%d\nbrick=%s\nvolfile=%s\n\n[graph]\n",
		now.UTC().Format("2006-01-02 15:04:05.000000"), os.Getpid(), cfg.BrickName, cfg.Volfile)
	for _, v := range vf.Volumes {
		fmt.Fprintf(&b, "%s=%s\n", v.Name, v.Type)
	}
	for i := len(vf.Volumes) - 1; i >= 0; i-- {
		v := vf.Volumes[i]
		if d, ok := g.Layer(v.Name).(Dumper); ok {
			fmt.Fprintf(&b, "\n[%s.%s]\n", v.Type, v.Name)
			d.Statedump(&b)
		}
	}
	fmt.Fprintf(&b, "\nDUMP-END-TIME: %s\n", time.Now().UTC().Format("2006-01-02 15:04:05.000000"))
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return "", fmt.Errorf("statedump: %w", err)
	}
	return path, nil
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
