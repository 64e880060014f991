// Package mgmttest runs glusterd (internal/mgmt) inside a test process, on
// a loopback address and a private management port, so that CLI and API
// tests need neither built binaries nor the shared port 24007.
package mgmttest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/mgmt"
)

// Node is one in-process glusterd.
type Node struct {
	*mgmt.Glusterd
	Addr string // host:port of its API
	Dir  string // workdir, logdir and rundir live below it
	// Stop shuts the glusterd down (its bricks keep running); the test's
	// end does it too.
	Stop func()
}

// Start runs a glusterd on ip and port (its raft transport takes port+1)
// with its directories under a new temporary directory until the test
// ends; opts adjust its configuration.
func Start(t testing.TB, ip string, port int, opts ...func(*mgmt.Config)) *Node {
	t.Helper()
	return StartIn(t, t.TempDir(), ip, port, opts...)
}

// StartIn is Start with the directories under dir (a restart on the same
// state uses the same dir).
func StartIn(t testing.TB, dir, ip string, port int, opts ...func(*mgmt.Config)) *Node {
	t.Helper()
	cfg := mgmt.Config{
		Address: ip,
		Port:    port,
		WorkDir: filepath.Join(dir, "lib"),
		LogDir:  filepath.Join(dir, "log"),
		RunDir:  filepath.Join(dir, "run"),
	}
	for _, o := range opts {
		o(&cfg)
	}
	if err := os.MkdirAll(cfg.LogDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logOut, err := os.OpenFile(filepath.Join(cfg.LogDir, "glusterd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logOut.Close() })
	g, err := mgmt.New(cfg, slog.New(slog.NewJSONHandler(logOut, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, func() { close(ready) }) }()
	n := &Node{Addr: net.JoinHostPort(ip, strconv.Itoa(port)), Dir: dir, Glusterd: g}
	n.Stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Logf("glusterd %s:%d: %v", ip, port, err)
		}
	})
	t.Cleanup(n.Stop)
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("glusterd %s:%d: %v", ip, port, err)
	case <-time.After(60 * time.Second):
		t.Fatalf("glusterd %s:%d: not serving", ip, port)
	}
	return n
}

// FreePort returns a port that is free, together with the next one
// (raft's), on every given address.
func FreePort(t testing.TB, ips ...string) int {
	t.Helper()
	free := func(ip string, p int) bool {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err != nil {
			return false
		}
		ln.Close()
		return true
	}
next:
	for p := 24300; p < 24400; p += 2 {
		for _, ip := range ips {
			if !free(ip, p) || !free(ip, p+1) {
				continue next
			}
		}
		return p
	}
	t.Fatal(fmt.Errorf("no free port pair on %v", ips))
	return 0
}
