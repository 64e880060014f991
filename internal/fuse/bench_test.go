package fuse

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkSmallFiles measures the bridge's cost per small-file create
// and stat over an in-memory layer: the FUSE round trips without a brick.
func BenchmarkSmallFiles(b *testing.B) {
	dir := b.TempDir()
	fs := New(newMemFS(), DefaultOptions())
	srv, err := Mount(dir, fs, MountOptions{FsName: "bench:/mem"})
	if err != nil {
		b.Skipf("cannot mount FUSE here: %v", err)
	}
	go srv.Serve()
	b.Cleanup(func() { _ = srv.Unmount() })
	if err := srv.WaitMount(); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 4096)
	b.ResetTimer()
	for i := range b.N {
		p := filepath.Join(dir, strconv.Itoa(i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		if _, err := os.Stat(p); err != nil {
			b.Fatal(err)
		}
	}
}
