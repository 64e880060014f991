package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"
)

// The replica 2 workloads (issue 5) run on the systems set up through
// glusterd (GlusterFS, and ours in cli mode): a second volume, benchrep,
// replica 2 over two bricks of the same host, next to the single-brick
// one. They measure sequential write and read and small-file creates
// through the replicate layer, and how fast a brick that was down while
// files were written is healed once it is back.

const repVol = "benchrep"

func replicaMetrics() []metric {
	return []metric{
		{"rep_seqwrite", "replica 2: fio sequential write, 1 MiB blocks, end_fsync", "MiB/s", true},
		{"rep_seqread", "replica 2: fio sequential read, 1 MiB blocks, cold", "MiB/s", true},
		{"rep_create", "replica 2: small files: create + write 4 KiB", "files/s", true},
		{"rep_heal_mibs", "replica 2: heal of a brick that missed the small files' writes", "MiB/s", true},
		{"rep_heal_files", "  the same heal", "files/s", true},
	}
}

// healFileSize is the size of each file the heal workload writes while a
// brick is down.
const healFileSize = 64 << 10

// replicated runs the replica 2 workloads on a managed system and returns
// the figures it got; systems not set up through glusterd (the local
// disk, ours in manual mode) have none.
func (s *suite) replicated(ctx context.Context, sys system, raw string) (map[string]float64, error) {
	m, ok := sys.(*managed)
	if !ok {
		return nil, nil
	}
	bricks := []string{filepath.Join(m.work, "rep-b1"), filepath.Join(m.work, "rep-b2")}
	client, cleanup, err := m.volume(ctx, repVol, []string{"replica", "2"}, bricks)
	defer cleanup()
	if err != nil {
		return nil, err
	}
	mnt := client.mnt
	out := map[string]float64{}
	w, err := s.fio(ctx, raw, mnt, "rep_seqwrite", "write", "1M", s.sz.seqMiB, 0, "--end_fsync=1")
	if err != nil {
		return out, err
	}
	out["rep_seqwrite"] = w.bw
	if err := client.recycle(ctx); err != nil {
		return out, err
	}
	r, err := s.fio(ctx, raw, mnt, "rep_seqread", "read", "1M", s.sz.seqMiB, 0)
	if err != nil {
		return out, err
	}
	out["rep_seqread"] = r.bw
	if err := os.Remove(filepath.Join(mnt, "fio.data")); err != nil {
		return out, err
	}
	created, _, err := s.smallPhase(ctx, raw, mnt, "create")()
	if err != nil {
		return out, err
	}
	out["rep_create"] = created["create"]
	mibs, files, err := s.heal(ctx, m, mnt, bricks[1])
	if err != nil {
		return out, err
	}
	out["rep_heal_mibs"], out["rep_heal_files"] = mibs, files
	return out, nil
}

// heal kills the glusterfsd of brick, writes the small-file set again
// (bigger files), restarts the brick with `volume start force` and times
// until `volume heal statistics heal-count` counts nothing on any brick
// (GlusterFS's heal info runs glfsheal, which cannot reach a glusterd on
// a private socket; heal-count asks glusterd).
func (s *suite) heal(ctx context.Context, m *managed, mnt, brick string) (mibs, files float64, err error) {
	pids := findProcs("glusterfsd", brick)
	if len(pids) == 0 {
		return 0, 0, fmt.Errorf("no glusterfsd serves %s", brick)
	}
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGKILL)
		waitGone(p, 10*time.Second)
	}
	n := s.sz.files
	data := make([]byte, healFileSize)
	dir := filepath.Join(mnt, "heal")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, err
	}
	for i := range n {
		data[0] = byte(i)
		if err := os.WriteFile(filepath.Join(dir, "f"+strconv.Itoa(i)), data, 0o644); err != nil {
			return 0, 0, err
		}
	}
	start := time.Now()
	if _, err := m.gluster(ctx, "volume", "start", repVol, "force"); err != nil {
		return 0, 0, err
	}
	// Both systems' daemons heal once they see the brick back; the
	// command only makes sure a crawl starts then.
	m.gluster(ctx, "volume", "heal", repVol)
	var last string
	if !waitFor(20*time.Minute, func() bool {
		last, _ = m.gluster(ctx, "volume", "heal", repVol, "statistics", "heal-count")
		return healed(last)
	}) {
		return 0, 0, fmt.Errorf("heal did not finish: %s", tail(last, 300))
	}
	secs := time.Since(start).Seconds()
	return float64(n*healFileSize) / (1 << 20) / secs, float64(n) / secs, nil
}

var entriesRe = regexp.MustCompile(`(?m)^Number of entries: (\S+)$`)

// healed reports whether heal-count shows both bricks with no entries.
func healed(info string) bool {
	ms := entriesRe.FindAllStringSubmatch(info, -1)
	if len(ms) != 2 {
		return false
	}
	for _, m := range ms {
		if m[1] != "0" {
			return false
		}
	}
	return true
}
