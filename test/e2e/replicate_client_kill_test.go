package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestReplicateKillClientDuringSmallFiles kills the client (SIGKILL)
// while four threads create small files, each in its own directory: the
// replicate layer holds each directory's entry lock and dirty mark across
// creates, and opens every new file's data transaction with the create,
// so whatever was in flight is left marked dirty and indexed on the
// bricks. The self-heal daemon then makes both bricks identical.
func TestReplicateKillClientDuringSmallFiles(t *testing.T) {
	c, bricks := replicaVolume(t, 2)
	mp := c.Mount("rv", 0)
	const threads = 4
	for w := range threads {
		must(t, os.Mkdir(filepath.Join(mp, fmt.Sprintf("d%d", w)), 0o755))
	}
	// Let every thread get well into its directory before the kill.
	var started, wg sync.WaitGroup
	started.Add(threads)
	early := make(chan error, threads)
	for w := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if i == 100 {
					started.Done()
				}
				p := filepath.Join(mp, fmt.Sprintf("d%d", w), fmt.Sprintf("f%05d", i))
				if err := os.WriteFile(p, pattern(uint64(w<<20|i), 4096), 0o644); err != nil {
					if i < 100 {
						early <- err
						started.Done()
					}
					return // the client is gone
				}
			}
		}()
	}
	started.Wait()
	select {
	case err := <-early:
		t.Fatalf("a thread failed before the kill: %v", err)
	default:
	}
	pidFile := filepath.Join(c.Root, "client-"+filepath.Base(mp)+".pid")
	b, err := os.ReadFile(pidFile)
	must(t, err)
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	must(t, err)
	must(t, syscall.Kill(pid, syscall.SIGKILL))
	wg.Wait()
	c.Unmount(mp)

	// Creates were streaming in every directory: what was in flight (the
	// directories' entry transactions, the files being written) is
	// marked dirty on the bricks and listed in their indices.
	marked := 0
	for _, br := range bricks {
		ents, err := os.ReadDir(filepath.Join(brickDir(br), ".glusterfs", "indices", "dirty"))
		must(t, err)
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), "dirty-") { // the index's base file
				marked++
			}
		}
	}
	if marked == 0 {
		t.Error("the killed client left nothing marked dirty")
	}
	waitHealed(t, c, "rv", 2)
	sameBricks(t, c, bricks)
	mp = c.Mount("rv", 1)
	if got, want := c.MustChecksum(brickDir(bricks[0])), c.MustChecksum(mp); got != want {
		t.Errorf("bricks differ from the mount")
	}
}
