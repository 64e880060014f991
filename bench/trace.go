package main

import (
	"bufio"
	"context"
	"errors"
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

// tracer watches a system's processes during one workload (--trace), for
// the "where is ours slow" diagnosis. stop returns the system calls made
// by the client and by the brick, when the tracer counts them.
type tracer interface {
	stop(ctx context.Context) (calls [2]float64, err error)
}

// startTrace starts the tracer kind ("perf" or "strace") on the client and
// brick processes; its output goes to files named base.*.
func startTrace(kind string, client, brick []int, base string) (tracer, error) {
	var t tracer
	switch kind {
	case "perf":
		cmd, err := startAttached("perf", "record", "-q", "-F", "499", "-g",
			"-o", base+".perf.data", "-p", pidList(append(client, brick...)))
		if err != nil {
			return nil, err
		}
		t = &perfTracer{cmd: cmd, data: base + ".perf.data"}
	case "strace":
		st := &straceTracer{out: [2]string{base + ".strace-client.txt", base + ".strace-brick.txt"}}
		for i, pids := range [][]int{client, brick} {
			if len(pids) == 0 {
				continue
			}
			args := []string{"-c", "-f", "-o", st.out[i]}
			for _, p := range pids {
				args = append(args, "-p", strconv.Itoa(p))
			}
			cmd, err := startAttached("strace", args...)
			if err != nil {
				st.stop(context.Background())
				return nil, err
			}
			st.cmds[i] = cmd
		}
		t = st
	default:
		return nil, fmt.Errorf("unknown tracer %q", kind)
	}
	// Tracers take a moment to attach to every thread; a short workload
	// started at once would go unrecorded.
	time.Sleep(time.Second)
	return t, nil
}

func startAttached(name string, args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return cmd, nil
}

func pidList(pids []int) string {
	ids := make([]string, len(pids))
	for i, p := range pids {
		ids[i] = strconv.Itoa(p)
	}
	return strings.Join(ids, ",")
}

// interrupt ends a tracer the way it expects (it then writes its output).
func interrupt(cmd *exec.Cmd) {
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}
}

type perfTracer struct {
	cmd  *exec.Cmd
	data string
}

// stop ends the recording and writes a flat report (self time by process,
// object and symbol) next to the data.
func (p *perfTracer) stop(ctx context.Context) ([2]float64, error) {
	interrupt(p.cmd)
	out, err := run(ctx, 5*time.Minute, "perf", "report", "-i", p.data, "--stdio",
		"--no-children", "--sort", "comm,dso,symbol", "-g", "none", "--percent-limit", "0.5")
	if err != nil {
		return [2]float64{}, err
	}
	return [2]float64{}, os.WriteFile(p.data+".txt", []byte(out), 0o644)
}

type straceTracer struct {
	cmds [2]*exec.Cmd
	out  [2]string
}

// stop detaches strace, which then writes its per-call summary, and
// returns the total number of calls of client and brick.
func (s *straceTracer) stop(context.Context) ([2]float64, error) {
	var calls [2]float64
	var errs []error
	for i, cmd := range s.cmds {
		interrupt(cmd)
		if cmd == nil {
			continue
		}
		n, err := straceTotal(s.out[i])
		calls[i] = n
		errs = append(errs, err)
	}
	return calls, errors.Join(errs...)
}

// straceTotal reads the calls column of the "total" line of `strace -c`:
// "100.00  0.123456  3  40000  1234 total" (the errors column may be empty).
func straceTotal(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && fields[len(fields)-1] == "total" {
			return strconv.ParseFloat(fields[3], 64)
		}
	}
	return 0, fmt.Errorf("strace summary %s: no total line", path)
}
