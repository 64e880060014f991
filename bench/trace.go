package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times; it is 100 on
// every Linux architecture we run on.
const clockTicks = 100

// cpuSeconds sums the user and system CPU time of pids.
func cpuSeconds(pids []int) float64 {
	var ticks uint64
	for _, p := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		// Fields after the parenthesised command name: state is field 3,
		// utime and stime are fields 14 and 15.
		s := string(raw)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseUint(f[11], 10, 64)
		k, _ := strconv.ParseUint(f[12], 10, 64)
		ticks += u + k
	}
	return float64(ticks) / clockTicks
}

// perfRecorder samples the stacks of a system's processes during one
// workload (--profile), for the "where is ours slow" diagnosis.
type perfRecorder struct {
	cmd  *exec.Cmd
	data string
}

func startPerf(pids []int, data string) (*perfRecorder, error) {
	if len(pids) == 0 {
		return nil, fmt.Errorf("perf: no process to profile")
	}
	ids := make([]string, len(pids))
	for i, p := range pids {
		ids[i] = strconv.Itoa(p)
	}
	cmd := exec.Command("perf", "record", "-q", "-F", "499", "-g", "-o", data, "-p", strings.Join(ids, ","))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("perf record: %w", err)
	}
	// perf takes a moment to attach to every thread; a short workload
	// started at once would go unrecorded.
	time.Sleep(time.Second)
	return &perfRecorder{cmd: cmd, data: data}, nil
}

// stop ends the recording and writes a flat report (self time by symbol)
// next to the data.
func (p *perfRecorder) stop(ctx context.Context) error {
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	_ = p.cmd.Wait()
	out, err := run(ctx, 5*time.Minute, "perf", "report", "-i", p.data, "--stdio",
		"--no-children", "--sort", "comm,dso,symbol", "-g", "none", "--percent-limit", "0.5")
	if err != nil {
		return err
	}
	return os.WriteFile(p.data+".txt", []byte(out), 0o644)
}
