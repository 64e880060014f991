package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// machine describes where the figures were measured.
type machine struct {
	cpu, ram, kernel, disk, goVersion, glusterfs, date, load string
	cores                                                    int
}

func describeMachine(ctx context.Context, dataDir string) machine {
	m := machine{
		cores:     runtime.NumCPU(),
		goVersion: runtime.Version(),
		glusterfs: glusterFSVersion(ctx),
		date:      time.Now().UTC().Format("2006-01-02 15:04 MST"),
		cpu:       procField("/proc/cpuinfo", "model name"),
		disk:      describeDisk(ctx, dataDir),
	}
	// The machine is shared: the load average says how quiet it was.
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.load = strings.Join(strings.Fields(string(raw))[:3], " ")
	}
	if kb, err := strconv.ParseUint(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 10, 64); err == nil {
		m.ram = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	return m
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// describeDisk names the block device and file system holding dir.
func describeDisk(ctx context.Context, dir string) string {
	out, err := run(ctx, 10*time.Second, "findmnt", "-no", "SOURCE,FSTYPE", "-T", dir)
	if err != nil {
		return "?"
	}
	f := strings.Fields(out)
	if len(f) < 2 {
		return "?"
	}
	desc := f[0] + " (" + f[1]
	dev := filepath.Join("/sys/class/block", filepath.Base(f[0]))
	if raw, err := os.ReadFile(filepath.Join(dev, "size")); err == nil {
		if sectors, err := strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 64); err == nil {
			desc += fmt.Sprintf(", %d GiB", sectors*512>>30)
		}
	}
	if raw, err := os.ReadFile(filepath.Join(dev, "device", "model")); err == nil && len(strings.TrimSpace(string(raw))) > 0 {
		desc += ", " + strings.TrimSpace(string(raw))
	}
	if target, err := os.Readlink(filepath.Join(dev, "device", "driver")); err == nil {
		desc += ", driver " + filepath.Base(target)
	}
	return desc + ")"
}

// report renders the results as Markdown.
func report(m machine, sz sizes, order []string, res map[string]outcome, notes []string) string {
	var b strings.Builder
	b.WriteString("# Benchmark results\n\n")
	b.WriteString("Written by `bench/run.sh` (see docs/benchmarks.md for what each figure means). ")
	b.WriteString("One single-brick volume per system, brick and local reference on the same disk, everything on loopback.\n\n")
	fmt.Fprintf(&b, "| machine | |\n|---|---|\n")
	fmt.Fprintf(&b, "| date | %s |\n| CPU | %s, %d cores |\n| RAM | %s |\n| kernel | %s |\n| disk | %s |\n| Go | %s |\n| GlusterFS | %s (Debian) |\n| load average at the end | %s |\n",
		m.date, m.cpu, m.cores, m.ram, m.kernel, m.disk, m.goVersion, m.glusterfs, m.load)
	fmt.Fprintf(&b, "| sizes | sequential %d MiB, random read %d MiB file for at most %d s, %d small files of 4 KiB over %d threads |\n\n",
		sz.seqMiB, sz.randMiB, sz.randSecs, sz.files, sz.threads)

	header := map[string]string{"local": "local disk", "glusterfs": "GlusterFS " + m.glusterfs, "ours": "gluster-go"}
	b.WriteString("| workload | unit |")
	for _, s := range order {
		fmt.Fprintf(&b, " %s |", header[s])
	}
	_, haveG := res["glusterfs"]
	_, haveO := res["ours"]
	ratio := haveG && haveO
	if ratio {
		b.WriteString(" ours / GlusterFS |")
	}
	b.WriteString("\n|---|---|")
	for range order {
		b.WriteString("---:|")
	}
	if ratio {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	var errs []string
	for _, mt := range metrics() {
		dir := "higher is better"
		if !mt.higherIsBetter {
			dir = "lower is better"
		}
		fmt.Fprintf(&b, "| %s | %s (%s) |", mt.label, mt.unit, dir)
		for _, s := range order {
			o := res[s]
			if v, ok := o.vals[mt.key]; ok {
				fmt.Fprintf(&b, " %s |", num(v))
			} else if e, ok := o.errs[mt.key]; ok {
				errs = append(errs, fmt.Sprintf("%s, %s: %s", header[s], mt.key, e))
				fmt.Fprintf(&b, " failed [%d] |", len(errs))
			} else {
				b.WriteString(" – |")
			}
		}
		if ratio {
			g, okG := res["glusterfs"].vals[mt.key]
			o, okO := res["ours"].vals[mt.key]
			if okG && okO && g > 0 {
				fmt.Fprintf(&b, " %.2f |", o/g)
			} else {
				b.WriteString(" – |")
			}
		}
		b.WriteString("\n")
	}
	pairTable(&b, order, header, res, func(o outcome) map[string][2]float64 { return o.cpu }, "%.2f / %.2f",
		"CPU seconds used by the client / brick processes during each workload (lower is better)")
	pairTable(&b, order, header, res, func(o outcome) map[string][2]float64 { return o.calls }, "%.1f / %.1f",
		"System calls per file operation (fio block, small file) made by the client / brick processes, counted with strace -c (lower is better; the throughput figures of a traced run are not comparable)")
	if len(errs) > 0 {
		b.WriteString("\nFailures:\n\n")
		for i, e := range errs {
			fmt.Fprintf(&b, "%d. `%s`\n", i+1, strings.ReplaceAll(tail(e, 400), "`", "'"))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\nNotes:\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

// num prints a figure with about three significant digits.
func num(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// pairTable shows a client / brick pair of figures per workload for the
// systems that have them: where each FUSE system spends its effort.
func pairTable(b *strings.Builder, order []string, header map[string]string, res map[string]outcome,
	pairs func(outcome) map[string][2]float64, format, title string) {
	var cols []string
	for _, s := range order {
		if len(pairs(res[s])) > 0 {
			cols = append(cols, s)
		}
	}
	if len(cols) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s:\n\n| workload |", title)
	for _, s := range cols {
		fmt.Fprintf(b, " %s |", header[s])
	}
	b.WriteString("\n|---|")
	for range cols {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, mt := range metrics() {
		have := false
		for _, s := range cols {
			_, ok := pairs(res[s])[mt.key]
			have = have || ok
		}
		if !have {
			continue
		}
		fmt.Fprintf(b, "| %s |", mt.key)
		for _, s := range cols {
			if c, ok := pairs(res[s])[mt.key]; ok {
				fmt.Fprintf(b, " "+format+" |", c[0], c[1])
			} else {
				b.WriteString(" – |")
			}
		}
		b.WriteString("\n")
	}
}
