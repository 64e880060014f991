package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The distribute workloads (issue 4) run on the systems set up through
// glusterd (GlusterFS, and ours in cli mode), each on volumes of its own
// next to the single-brick one: small-file creates and cold stats on a
// 3-brick distribute volume, and the throughput of a rebalance that
// spreads a 2-brick volume's files onto a third brick.

const (
	distVol  = "benchdist"
	rebalVol = "benchrebal"
	// rebalFileSize is the size of each file the rebalance moves.
	rebalFileSize = 64 << 10
)

func distributeMetrics() []metric {
	return []metric{
		{"dist_create", "distribute 3 bricks: small files: create + write 4 KiB", "files/s", true},
		{"dist_stat", "distribute 3 bricks: small files: stat, cold", "files/s", true},
		{"rebal_files", "rebalance 2 -> 3 bricks of 64 KiB files: files moved", "files/s", true},
		{"rebal_mibs", "  the same rebalance", "MiB/s", true},
	}
}

// distributeKeys are the metrics the distribute workloads produce.
func distributeKeys() []string {
	var keys []string
	for _, m := range distributeMetrics() {
		keys = append(keys, m.key)
	}
	return keys
}

// distributed runs the distribute workloads on a managed system; other
// systems have none.
func (s *suite) distributed(ctx context.Context, sys system, raw string) (map[string]float64, error) {
	m, ok := sys.(*managed)
	if !ok {
		return nil, nil
	}
	out := map[string]float64{}
	var bricks []string
	for i := 1; i <= 3; i++ {
		bricks = append(bricks, filepath.Join(m.work, fmt.Sprintf("%s-b%d", distVol, i)))
	}
	client, cleanup, err := m.volume(ctx, distVol, nil, bricks)
	defer cleanup()
	if err != nil {
		return out, err
	}
	created, _, err := s.smallPhase(ctx, raw, client.mnt, "create")()
	if err != nil {
		return out, err
	}
	out["dist_create"] = created["create"]
	if err := client.recycle(ctx); err != nil {
		return out, err
	}
	stat, _, err := s.smallPhase(ctx, raw, client.mnt, "stat")()
	if err != nil {
		return out, err
	}
	out["dist_stat"] = stat["stat"]
	cleanup()
	s.inodes.noteFreed()

	files, mibs, err := s.rebalance(ctx, m)
	if err != nil {
		return out, err
	}
	out["rebal_files"], out["rebal_mibs"] = files, mibs
	return out, nil
}

// rebalance fills a 2-brick volume with 64 KiB files, adds a third brick
// and times `volume rebalance start` until every node reports completed;
// throughput counts the files the rebalance says it moved.
func (s *suite) rebalance(ctx context.Context, m *managed) (files, mibs float64, err error) {
	b := []string{filepath.Join(m.work, rebalVol+"-b1"), filepath.Join(m.work, rebalVol+"-b2")}
	b3 := filepath.Join(m.work, rebalVol+"-b3")
	client, cleanup, err := m.volume(ctx, rebalVol, nil, b)
	defer os.RemoveAll(b3)
	defer cleanup()
	if err != nil {
		return 0, 0, err
	}
	dir := filepath.Join(client.mnt, "rebal")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, err
	}
	data := make([]byte, rebalFileSize)
	for i := range s.sz.files {
		data[0] = byte(i)
		if err := os.WriteFile(filepath.Join(dir, "f"+strconv.Itoa(i)), data, 0o644); err != nil {
			return 0, 0, err
		}
	}
	if _, err := m.gluster(ctx, "volume", "add-brick", rebalVol, m.host+":"+b3, "force"); err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if _, err := m.gluster(ctx, "volume", "rebalance", rebalVol, "start"); err != nil {
		return 0, 0, err
	}
	var last string
	moved := 0
	if !waitFor(30*time.Minute, func() bool {
		last, _ = m.gluster(ctx, "volume", "rebalance", rebalVol, "status")
		var done bool
		moved, done = rebalanceDone(last)
		return done
	}) {
		return 0, 0, fmt.Errorf("rebalance did not finish: %s", tail(last, 300))
	}
	secs := time.Since(start).Seconds()
	if moved == 0 {
		return 0, 0, fmt.Errorf("rebalance moved no file: %s", tail(last, 300))
	}
	return float64(moved) / secs, float64(moved) * rebalFileSize / (1 << 20) / secs, nil
}

var rebalRow = regexp.MustCompile(`^\s*\S+\s+(\d+)\s+\S+\s+\d+\s+\d+\s+\d+\s+(.+?)\s+\d+:\d\d:\d\d\s*$`)

// rebalanceDone reads a rebalance status table: the files moved, and
// whether every node's row says completed.
func rebalanceDone(status string) (moved int, done bool) {
	rows := 0
	done = true
	for _, l := range strings.Split(status, "\n") {
		r := rebalRow.FindStringSubmatch(l)
		if r == nil {
			continue
		}
		rows++
		n, _ := strconv.Atoi(r[1])
		moved += n
		done = done && r[2] == "completed"
	}
	return moved, done && rows > 0
}
