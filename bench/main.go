// Command bench is the benchmark harness: in one run it installs what it
// needs (Debian's GlusterFS, fio), creates the same single-brick volume on
// GlusterFS and on gluster-go, mounts both, runs the same workloads on both
// and on the local disk, and writes the table to bench/RESULTS.md.
//
// It drives whole programs (glusterd, glusterfsd, glusterfs) as a user
// would and is not part of the test suite. GlusterFS runs first and is
// stopped completely before ours starts: its glusterd binds port 24007,
// which is why it runs under the project's 24007 flock.
//
// Usage (as root, from the repository): bench/run.sh [--quick] [--only ours]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

type options struct {
	only     []string
	quick    bool
	work     string
	out      string
	install  bool
	oursBin  string
	oursMode string
	glfsHost string
	repeat   int
	trace    string
}

func main() {
	var o options
	only := flag.String("only", "local,glusterfs,ours", "comma-separated systems to run: local, glusterfs, ours")
	flag.BoolVar(&o.quick, "quick", false, "smaller sizes, for quick iterations")
	flag.StringVar(&o.work, "work", "/var/tmp/gluster-go-bench", "scratch directory (bricks, mounts, local reference, raw output); on the disk to measure")
	flag.StringVar(&o.out, "out", "", "where to write the Markdown table (default bench/RESULTS.md for a full untraced run of all systems, else WORK/RESULTS.md)")
	flag.BoolVar(&o.install, "install", true, "apt-get install missing packages (glusterfs-server, glusterfs-client, fio, ...)")
	flag.StringVar(&o.oursBin, "bin", "", "directory with our binaries (default: build them from ./cmd into WORK/bin/ours)")
	flag.IntVar(&o.repeat, "repeat", 0, "runs of the whole suite per system, interleaved; the table shows medians (default 3, 1 with --quick)")
	flag.StringVar(&o.trace, "trace", "", "diagnosis: trace the client and brick processes during each workload; perf (profiles in WORK/raw/SYSTEM-N/WORKLOAD.perf.data.txt) or strace (system calls per file operation, added to the report; slows everything down)")
	flag.StringVar(&o.oursMode, "ours-mode", "auto", "how to set ours up: cli (glusterd + gluster volume create), manual (glusterfsd and glusterfs with volfiles written here, no glusterd), auto (cli if glusterd and gluster are built)")
	flag.StringVar(&o.glfsHost, "glusterfs-host", "", "brick host name for GlusterFS (default: this machine's host name if it resolves to loopback only, else 127.0.0.2; GlusterFS refuses 127.0.0.1)")
	flag.Parse()
	if o.repeat <= 0 {
		o.repeat = 3
		if o.quick {
			o.repeat = 1
		}
	}
	o.only = strings.Split(*only, ",")
	for _, s := range o.only {
		if !slices.Contains([]string{"local", "glusterfs", "ours"}, s) {
			fmt.Fprintf(os.Stderr, "bench: unknown system %q in --only\n", s)
			os.Exit(2)
		}
	}
	if o.trace != "" && o.trace != "perf" && o.trace != "strace" {
		fmt.Fprintf(os.Stderr, "bench: --trace is perf or strace, not %q\n", o.trace)
		os.Exit(2)
	}
	if o.out == "" {
		// Only a complete, untraced run may replace the committed table.
		o.out = filepath.Join(o.work, "RESULTS.md")
		if !o.quick && len(o.only) == 3 && o.trace == "" {
			o.out = "bench/RESULTS.md"
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := benchmark(ctx, o, log); err != nil {
		log.Error("bench failed", "err", err)
		os.Exit(1)
	}
}

func benchmark(ctx context.Context, o options, log *slog.Logger) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("must run as root (mounts, drop_caches, apt-get)")
	}
	if _, err := os.Stat("bench/smallfile/main.go"); err != nil {
		return fmt.Errorf("run from the repository root (bench/run.sh does): %w", err)
	}
	if o.install {
		if err := installPackages(ctx, log); err != nil {
			return err
		}
	}
	if err := cleanStale(ctx, o.work, log); err != nil {
		return err
	}
	binDir := filepath.Join(o.work, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	started := time.Now()
	if _, err := run(ctx, 5*time.Minute, "go", "build", "-o", binDir+"/", "./bench/smallfile"); err != nil {
		return err
	}
	var notes []string
	if slices.Contains(o.only, "ours") && o.oursBin == "" {
		o.oursBin = filepath.Join(binDir, "ours")
		if err := buildOurs(ctx, o.oursBin, log); err != nil {
			return err
		}
	}
	sz := fullSizes()
	if o.quick {
		sz = quickSizes()
	}
	s := &suite{sz: sz, smallfile: filepath.Join(binDir, "smallfile"), raw: filepath.Join(o.work, "raw"), log: log, trace: o.trace,
		inodes: newInodeClock(o.work)}
	var order []string
	systems := map[string]system{}
	for _, name := range []string{"local", "glusterfs", "ours"} {
		if !slices.Contains(o.only, name) {
			continue
		}
		sys, note, err := newSystem(name, o, log)
		if err != nil {
			return err
		}
		if note != "" {
			notes = append(notes, note)
		}
		systems[name] = sys
		order = append(order, name)
	}
	// Repetitions are interleaved so that load from other users of the
	// machine spreads over all systems rather than hitting one.
	runs := map[string][]outcome{}
	for rep := 1; rep <= o.repeat; rep++ {
		for _, name := range order {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Info("run", "rep", rep, "of", o.repeat, "system", name)
			runs[name] = append(runs[name], s.run(ctx, systems[name], rep))
		}
	}
	res := map[string]outcome{}
	for name, rs := range runs {
		res[name] = median(rs)
	}
	if o.repeat > 1 {
		notes = append(notes, fmt.Sprintf("Each figure is the median of %d runs, interleaved across systems.", o.repeat))
	}
	notes = append(notes, fmt.Sprintf("Whole run took %s.", time.Since(started).Round(time.Second)))
	md := report(describeMachine(ctx, o.work), sz, order, res, notes)
	fmt.Print(md)
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, []byte(md), 0o644); err != nil {
		return err
	}
	log.Info("results written", "file", o.out)
	return nil
}

// newSystem sets up the description of one system under test, and a note
// for the report on how it is set up.
func newSystem(name string, o options, log *slog.Logger) (system, string, error) {
	work := filepath.Join(o.work, name)
	switch name {
	case "local":
		return &localDisk{path: work}, "", nil
	case "glusterfs":
		host := o.glfsHost
		if host == "" {
			host = loopbackHostname()
		}
		return newGlusterFS(work, host, log),
			fmt.Sprintf("GlusterFS brick host %q; volume created with `force` (brick on the root file system).", host), nil
	}
	mode := o.oursMode
	if mode == "auto" {
		mode = "manual"
		if exists(filepath.Join(o.oursBin, "glusterd")) && exists(filepath.Join(o.oursBin, "gluster")) {
			mode = "cli"
		}
	}
	switch mode {
	case "cli":
		return newOursManaged(work, o.oursBin, log),
			"gluster-go set up like GlusterFS: glusterd on 127.0.0.2, `gluster volume create bench 127.0.0.2:BRICK force`, `glusterfs -s 127.0.0.2 --volfile-id bench`.", nil
	case "manual":
		return newOursManual(work, o.oursBin, log),
			"gluster-go started without glusterd: glusterfsd with a brick volfile, glusterfs --volfile (graphs per the project's contracts).", nil
	}
	return nil, "", fmt.Errorf("unknown --ours-mode %q", o.oursMode)
}

// buildOurs builds each of our programs on its own, so that one program
// that does not build (work in progress elsewhere) only costs the modes
// that need it: the data path needs glusterfsd and glusterfs, the cli mode
// also glusterd and gluster. Old binaries go first, so none is measured by
// mistake.
func buildOurs(ctx context.Context, dir string, log *slog.Logger) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	log.Info("building our binaries", "dir", dir)
	for _, prog := range []string{"glusterfsd", "glusterfs", "glusterd", "gluster"} {
		if _, err := run(ctx, 10*time.Minute, "go", "build", "-o", filepath.Join(dir, prog), "./cmd/"+prog); err != nil {
			if prog == "glusterfsd" || prog == "glusterfs" {
				return fmt.Errorf("build ours: %w", err)
			}
			log.Warn("not built; --ours-mode=auto falls back to manual", "program", prog, "err", err)
		}
	}
	return nil
}

// cleanStale undoes what an interrupted earlier run left in work: mounts
// below it, and processes whose command line names it (the harness's own
// glusterd, glusterfsd and glusterfs; nothing else mentions its work dir).
func cleanStale(ctx context.Context, work string, log *slog.Logger) error {
	for _, mnt := range fuseMountsUnder(work) {
		log.Warn("unmounting a stale mount", "dir", mnt)
		if err := unmount(ctx, mnt); err != nil {
			return err
		}
	}
	for _, exe := range []string{"glusterfs", "glusterfsd", "glusterd"} {
		for _, p := range findProcs(exe, work+"/") {
			log.Warn("stopping a stale process", "exe", exe, "pid", p)
			stopPID(p, 10*time.Second)
		}
	}
	for _, d := range []string{"local", "glusterfs", "ours"} {
		if err := os.RemoveAll(filepath.Join(work, d)); err != nil {
			return err
		}
	}
	return nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// loopbackHostname returns this machine's host name when it resolves only
// to loopback addresses, else 127.0.0.2 (GlusterFS refuses 127.0.0.1 and
// localhost as brick hosts, but takes either of these).
func loopbackHostname() string {
	const fallback = "127.0.0.2"
	h, err := os.Hostname()
	if err != nil {
		return fallback
	}
	addrs, err := net.LookupHost(h)
	if err != nil || len(addrs) == 0 {
		return fallback
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip == nil || !ip.IsLoopback() {
			return fallback
		}
	}
	return h
}

// installPackages installs what the harness drives, if missing, and makes
// sure a packaged glusterd service does not hold port 24007.
func installPackages(ctx context.Context, log *slog.Logger) error {
	var need []string
	for _, p := range []string{"glusterfs-server", "glusterfs-client", "fio", "attr", "psmisc", "fuse3"} {
		if _, err := run(ctx, 30*time.Second, "dpkg", "-s", p); err != nil {
			need = append(need, p)
		}
	}
	if len(need) == 0 {
		return nil
	}
	log.Info("installing", "packages", need)
	if _, err := run(ctx, 5*time.Minute, "apt-get", "update", "-qq"); err != nil {
		return err
	}
	os.Setenv("DEBIAN_FRONTEND", "noninteractive")
	if _, err := run(ctx, 10*time.Minute, "apt-get", append([]string{"install", "-y", "-qq"}, need...)...); err != nil {
		return err
	}
	// On a systemd machine the package starts glusterd at once, bound to
	// 0.0.0.0:24007 without our lock; the harness starts its own.
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		if _, err := run(ctx, time.Minute, "systemctl", "disable", "--now", "glusterd"); err != nil {
			log.Warn("could not stop the packaged glusterd service", "err", err)
		}
	}
	return nil
}
