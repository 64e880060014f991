package logfile

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenWritesAtLevel(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sub", "x.log")
	log, closeFn, err := Open(file, "warning", false)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("not shown")
	log.Warn("shown", "k", "v")
	closeFn()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "not shown") || !strings.Contains(string(b), "msg=shown k=v") {
		t.Fatalf("log holds %q", b)
	}
}

func TestLevels(t *testing.T) {
	log, _, err := Open("-", "NONE", true)
	if err != nil || log.Enabled(context.Background(), slog.LevelError) {
		t.Fatalf("NONE: %v", err)
	}
	if _, _, err := Open("-", "LOUD", false); err == nil {
		t.Fatal("an unknown level was accepted")
	}
}
