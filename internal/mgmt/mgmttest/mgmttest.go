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
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/mgmt"
)

// Node is one in-process glusterd.
type Node struct {
	*mgmt.Glusterd
	Addr string // host:port of its API
	Dir  string // workdir, logdir and rundir live below it
}

// Start runs a glusterd on ip and port (its raft transport takes port+1)
// until the test ends.
func Start(t testing.TB, ip string, port int) *Node {
	t.Helper()
	dir := t.TempDir()
	cfg := mgmt.Config{
		Address: ip,
		Port:    port,
		WorkDir: filepath.Join(dir, "lib"),
		LogDir:  filepath.Join(dir, "log"),
		RunDir:  filepath.Join(dir, "run"),
	}
	if err := os.MkdirAll(cfg.LogDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logOut, err := os.Create(filepath.Join(cfg.LogDir, "glusterd.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logOut.Close() })
	g, err := mgmt.New(cfg, slog.New(slog.NewJSONHandler(logOut, nil)), logOut)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, func() { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Logf("glusterd %s:%d: %v", ip, port, err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("glusterd %s:%d: %v", ip, port, err)
	case <-time.After(60 * time.Second):
		t.Fatalf("glusterd %s:%d: not serving", ip, port)
	}
	return &Node{Glusterd: g, Addr: net.JoinHostPort(ip, strconv.Itoa(port)), Dir: dir}
}

// FreePort returns a port that is free on ip together with the next one
// (raft's).
func FreePort(t testing.TB, ip string) int {
	t.Helper()
	for p := 24300; p < 24400; p += 2 {
		a, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		b, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p+1)))
		a.Close()
		if err != nil {
			continue
		}
		b.Close()
		return p
	}
	t.Fatal(fmt.Errorf("no free port pair on %s", ip))
	return 0
}
