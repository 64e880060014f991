package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkReplicateHeal measures how fast a replica 2 volume heals a
// brick that was down while files were written: MiB/s and files/s from
// the brick's return until heal info lists nothing. As root:
// go test -run - -bench ReplicateHeal -benchtime 1x ./test/e2e
func BenchmarkReplicateHeal(b *testing.B) {
	const files, size = 1000, 128 << 10
	for range b.N {
		b.StopTimer()
		c, bricks := replicaVolume(b, 2)
		mp := c.Mount("rv", 0)
		c.KillBrick("rv", bricks[1])
		for i := range files {
			if err := os.WriteFile(filepath.Join(mp, fmt.Sprintf("f%04d", i)), pattern(uint64(i), size), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		b.StartTimer()
		mustContain(b, c.MustGluster(0, "volume", "start", "rv", "force"), "volume start: rv: success")
		waitHealed(b, c, "rv", 2)
		b.StopTimer()
		secs := time.Since(start).Seconds()
		if got, want := c.MustChecksum(brickDir(bricks[1])), c.MustChecksum(brickDir(bricks[0])); got != want {
			b.Fatal("the healed brick differs")
		}
		b.ReportMetric(float64(files*size)/(1<<20)/secs, "MiB/s")
		b.ReportMetric(files/secs, "files/s")
	}
}
