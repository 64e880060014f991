package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// metric is one row of the results table.
type metric struct {
	key, label, unit string
	higherIsBetter   bool
}

func metrics() []metric {
	return []metric{
		{"seqwrite", "fio sequential write, 1 MiB blocks, end_fsync", "MiB/s", true},
		{"seqread", "fio sequential read, 1 MiB blocks, cold", "MiB/s", true},
		{"randread", "fio random read, 4 KiB blocks, cold", "IOPS", true},
		{"randread_lat", "  mean latency of a 4 KiB random read", "µs", false},
		{"create", "small files: create + write 4 KiB", "files/s", true},
		{"stat", "small files: stat, cold", "files/s", true},
		{"read", "small files: open + read 4 KiB, cold", "files/s", true},
		{"delete", "small files: unlink, cold", "files/s", true},
		{"rss_client", "peak RSS of the FUSE client (VmHWM)", "MiB", false},
		{"rss_brick", "peak RSS of the brick process (VmHWM)", "MiB", false},
	}
}

// sizes of the workloads; --quick shrinks them.
type sizes struct {
	seqMiB, randMiB int
	randSecs        int
	files, threads  int
}

func fullSizes() sizes {
	return sizes{seqMiB: 512, randMiB: 256, randSecs: 30, files: 4000, threads: 4}
}
func quickSizes() sizes { return sizes{seqMiB: 64, randMiB: 32, randSecs: 5, files: 400, threads: 4} }

// outcome is what one system scored: a value or an error per metric key;
// per workload, the CPU seconds its client and brick processes used and,
// with --trace=strace, the system calls they made per file operation.
type outcome struct {
	vals  map[string]float64
	errs  map[string]string
	cpu   map[string][2]float64
	calls map[string][2]float64
}

func newOutcome() outcome {
	return outcome{vals: map[string]float64{}, errs: map[string]string{},
		cpu: map[string][2]float64{}, calls: map[string][2]float64{}}
}

// median merges the outcomes of repeated runs: the median of each figure
// (upper median for an even count), and the first error of a metric that
// never succeeded.
func median(runs []outcome) outcome {
	m := newOutcome()
	pick := func(xs []float64) float64 {
		slices.Sort(xs)
		return xs[len(xs)/2]
	}
	for _, mt := range metrics() {
		var xs []float64
		for _, r := range runs {
			if v, ok := r.vals[mt.key]; ok {
				xs = append(xs, v)
			} else if e, ok := r.errs[mt.key]; ok && m.errs[mt.key] == "" {
				m.errs[mt.key] = e
			}
		}
		if len(xs) > 0 {
			m.vals[mt.key] = pick(xs)
			delete(m.errs, mt.key)
		}
		// The same for both per-workload client/brick pairs.
		for _, pairs := range []func(outcome) map[string][2]float64{
			func(o outcome) map[string][2]float64 { return o.cpu },
			func(o outcome) map[string][2]float64 { return o.calls },
		} {
			var cs, bs []float64
			for _, r := range runs {
				if c, ok := pairs(r)[mt.key]; ok {
					cs, bs = append(cs, c[0]), append(bs, c[1])
				}
			}
			if len(cs) > 0 {
				pairs(m)[mt.key] = [2]float64{pick(cs), pick(bs)}
			}
		}
	}
	return m
}

// suite runs the workloads, the same way on every system.
type suite struct {
	sz        sizes
	smallfile string // path of the built bench/smallfile binary
	raw       string // directory for raw fio/smallfile output
	log       *slog.Logger
	trace     string // "", "perf" or "strace": trace the client and brick per workload
	inodes    *inodeClock
}

func (s *suite) run(ctx context.Context, sys system, rep int) outcome {
	o := newOutcome()
	fail := func(err error, keys ...string) {
		for _, k := range keys {
			if _, ok := o.errs[k]; !ok {
				o.errs[k] = err.Error()
			}
		}
	}
	all := []string{}
	for _, m := range metrics() {
		all = append(all, m.key)
	}
	raw := filepath.Join(s.raw, fmt.Sprintf("%s-%d", sys.name(), rep))
	if err := os.MkdirAll(raw, 0o755); err != nil {
		fail(err, all...)
		return o
	}
	log := s.log.With("system", sys.name())
	defer func() {
		if err := sys.stop(context.WithoutCancel(ctx)); err != nil {
			log.Error("stop", "err", err)
		}
		s.inodes.noteFreed()
	}()
	log.Info("starting")
	if err := sys.start(ctx); err != nil {
		log.Error("start", "err", err)
		fail(fmt.Errorf("start: %w", err), all...)
		return o
	}
	// steps run in order; a failed remount leaves nothing to measure on.
	// Each returns its figures and the number of file operations it did.
	steps := []struct {
		keys    []string
		recycle bool // remount + drop caches first
		do      func() (map[string]float64, float64, error)
	}{
		{[]string{"seqwrite"}, false, func() (map[string]float64, float64, error) {
			r, err := s.fio(ctx, raw, sys.dir(), "seqwrite", "write", "1M", s.sz.seqMiB, 0, "--end_fsync=1")
			return map[string]float64{"seqwrite": r.bw}, r.ios, err
		}},
		{[]string{"seqread"}, true, func() (map[string]float64, float64, error) {
			r, err := s.fio(ctx, raw, sys.dir(), "seqread", "read", "1M", s.sz.seqMiB, 0)
			return map[string]float64{"seqread": r.bw}, r.ios, err
		}},
		{[]string{"randread", "randread_lat"}, true, func() (map[string]float64, float64, error) {
			r, err := s.fio(ctx, raw, sys.dir(), "randread", "randread", "4k", s.sz.randMiB, s.sz.randSecs)
			if err == nil {
				err = os.Remove(filepath.Join(sys.dir(), "fio.data"))
			}
			return map[string]float64{"randread": r.iops, "randread_lat": r.latUS}, r.ios, err
		}},
		{[]string{"create"}, true, s.smallPhase(ctx, raw, sys.dir(), "create")},
		{[]string{"stat"}, true, s.smallPhase(ctx, raw, sys.dir(), "stat")},
		{[]string{"read"}, true, s.smallPhase(ctx, raw, sys.dir(), "read")},
		{[]string{"delete"}, true, s.smallPhase(ctx, raw, sys.dir(), "delete")},
	}
	for i, st := range steps {
		if st.recycle {
			if err := sys.recycle(ctx); err != nil {
				log.Error("remount", "err", err)
				for _, rest := range steps[i:] {
					fail(fmt.Errorf("remount: %w", err), rest.keys...)
				}
				break
			}
		}
		key := st.keys[0]
		log.Info("running", "workload", key)
		client, brick := sys.procs()
		var tr tracer
		if s.trace != "" && len(client)+len(brick) > 0 {
			var err error
			if tr, err = startTrace(s.trace, client, brick, filepath.Join(raw, key)); err != nil {
				log.Warn("trace", "err", err)
			}
		}
		c0, b0 := cpuSeconds(client), cpuSeconds(brick)
		vals, ops, err := st.do()
		if len(client)+len(brick) > 0 {
			o.cpu[key] = [2]float64{cpuSeconds(client) - c0, cpuSeconds(brick) - b0}
		}
		if tr != nil {
			calls, terr := tr.stop(ctx)
			if terr != nil {
				log.Warn("trace", "err", terr)
			} else if err == nil && ops > 0 && calls != [2]float64{} {
				o.calls[key] = [2]float64{calls[0] / ops, calls[1] / ops}
			}
		}
		if err != nil {
			log.Error("workload", "workload", key, "err", err)
			fail(err, st.keys...)
			continue
		}
		for k, v := range vals {
			o.vals[k] = v
		}
		log.Info("done", "workload", key, "value", vals[key])
	}
	client, brick := sys.rss()
	if client > 0 {
		o.vals["rss_client"] = float64(client) / (1 << 20)
	}
	if brick > 0 {
		o.vals["rss_brick"] = float64(brick) / (1 << 20)
	}
	return o
}

type fioResult struct{ bw, iops, latUS, ios float64 }

// fio runs one fio job on DIR/fio.data (one file shared by the three jobs:
// the write lays it out for the reads) and parses its JSON output.
func (s *suite) fio(ctx context.Context, raw, dir, job, rw, bs string, mib, secs int, extra ...string) (fioResult, error) {
	out := filepath.Join(raw, job+".json")
	args := []string{"--name=" + job, "--filename=" + filepath.Join(dir, "fio.data"),
		"--rw=" + rw, "--bs=" + bs, "--size=" + strconv.Itoa(mib) + "M",
		"--ioengine=psync", "--iodepth=1", "--numjobs=1", "--fallocate=none",
		"--output-format=json", "--output=" + out}
	if secs > 0 {
		args = append(args, "--runtime="+strconv.Itoa(secs))
	}
	args = append(args, extra...)
	if _, err := run(ctx, 10*time.Minute, "fio", args...); err != nil {
		return fioResult{}, err
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return fioResult{}, err
	}
	var rep struct {
		Jobs []struct {
			Error       int `json:"error"`
			Read, Write fioDir
		} `json:"jobs"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return fioResult{}, fmt.Errorf("fio %s: parse %s: %w", job, out, err)
	}
	if len(rep.Jobs) != 1 {
		return fioResult{}, fmt.Errorf("fio %s: %d jobs in output", job, len(rep.Jobs))
	}
	j := rep.Jobs[0]
	if j.Error != 0 {
		return fioResult{}, fmt.Errorf("fio %s: error %d", job, j.Error)
	}
	d := j.Read
	if rw == "write" {
		d = j.Write
	}
	if d.IOBytes == 0 {
		return fioResult{}, fmt.Errorf("fio %s: no I/O done", job)
	}
	return fioResult{bw: d.BwBytes / (1 << 20), iops: d.IOPS, latUS: d.Clat.Mean / 1000, ios: float64(d.TotalIOs)}, nil
}

type fioDir struct {
	IOBytes  int64   `json:"io_bytes"`
	BwBytes  float64 `json:"bw_bytes"`
	IOPS     float64 `json:"iops"`
	TotalIOs int64   `json:"total_ios"`
	Clat     struct {
		Mean float64 `json:"mean"`
	} `json:"clat_ns"`
}

// smallPhase runs one phase of bench/smallfile in DIR/smallfile; a create
// phase first waits for freed inodes to age (inodeClock).
func (s *suite) smallPhase(ctx context.Context, raw, dir, phase string) func() (map[string]float64, float64, error) {
	return func() (map[string]float64, float64, error) {
		if phase == "create" {
			if err := s.inodes.settle(ctx); err != nil {
				return nil, 0, err
			}
		}
		out, err := run(ctx, 10*time.Minute, s.smallfile, "-phase="+phase,
			"-dir="+filepath.Join(dir, "smallfile"),
			"-threads="+strconv.Itoa(s.sz.threads), "-files="+strconv.Itoa(s.sz.files))
		if phase == "delete" {
			s.inodes.noteFreed()
		}
		if err != nil {
			return nil, 0, err
		}
		if err := os.WriteFile(filepath.Join(raw, "smallfile-"+phase+".json"), []byte(out), 0o644); err != nil {
			return nil, 0, err
		}
		var r struct {
			Files   float64 `json:"files"`
			OpsPerS float64 `json:"ops_per_s"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			return nil, 0, fmt.Errorf("smallfile %s: parse %q: %w", phase, tail(out, 200), err)
		}
		if r.OpsPerS <= 0 {
			return nil, 0, errors.New("smallfile " + phase + ": no result")
		}
		return map[string]float64{phase: r.OpsPerS}, r.Files, nil
	}
}
