package brickd

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/protocol/server"
)

func TestLogFileFor(t *testing.T) {
	if got := LogFileFor("/export/brick1"); got != DefaultLogDir+"/export-brick1.log" {
		t.Fatalf("got %s", got)
	}
}

var reg = graph.Registry{
	server.Type: server.New,
	"test/null": func(*graph.Args) (fop.Layer, error) { return fop.Base{}, nil },
}

func writeVolfile(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "b.vol")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun(t *testing.T) {
	vf := writeVolfile(t, "volume /b\n type test/null\nend-volume\nvolume v-server\n type protocol/server\n subvolumes /b\nend-volume\n")
	pid := filepath.Join(t.TempDir(), "run", "b.pid")
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Volfile: vf, ListenHost: "127.0.0.1", PidFile: pid}, reg, slog.New(slog.DiscardHandler),
			func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	nc, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatalf("brick port: %v", err)
	}
	nc.Close()
	if _, err := os.Stat(pid); err != nil {
		t.Fatalf("pid file: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pid); !os.IsNotExist(err) {
		t.Fatalf("pid file left: %v", err)
	}
}

func TestRunRefusesNonServerTop(t *testing.T) {
	vf := writeVolfile(t, "volume /b\n type test/null\nend-volume\n")
	err := Run(context.Background(), Config{Volfile: vf}, reg, slog.New(slog.DiscardHandler), nil)
	if err == nil || !strings.Contains(err.Error(), "not a server") {
		t.Fatalf("got %v", err)
	}
}
