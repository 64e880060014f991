// Command smallfile is the benchmark's small-file workload: it runs one phase
// (create, stat, read or delete) over a tree of small files with plain
// syscalls, so that the very same code measures the local disk, a GlusterFS
// mount and a gluster-go mount. The harness (bench/) runs the phases one by
// one and remounts in between, so each phase starts with cold client caches.
//
// Files are spread over one directory per thread (DIR/tN/fNNNNN); the phase
// prints one JSON object: {"phase":..,"files":..,"seconds":..,"ops_per_s":..}.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

type config struct {
	dir     string
	threads int
	files   int
	size    int
}

type result struct {
	Phase   string  `json:"phase"`
	Files   int     `json:"files"`
	Threads int     `json:"threads"`
	Seconds float64 `json:"seconds"`
	OpsPerS float64 `json:"ops_per_s"`
}

func main() {
	var c config
	phase := flag.String("phase", "", "create, stat, read or delete")
	flag.StringVar(&c.dir, "dir", "", "directory to work in (created by the create phase)")
	flag.IntVar(&c.threads, "threads", 4, "threads, each with its own subdirectory")
	flag.IntVar(&c.files, "files", 4000, "files in total")
	flag.IntVar(&c.size, "size", 4096, "bytes per file")
	flag.Parse()
	if c.dir == "" || c.threads < 1 || c.files < c.threads {
		fmt.Fprintln(os.Stderr, "smallfile: need -dir, -threads >= 1, -files >= threads")
		os.Exit(2)
	}
	r, err := run(c, *phase)
	if err != nil {
		fmt.Fprintln(os.Stderr, "smallfile:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, "smallfile:", err)
		os.Exit(1)
	}
}

// ops maps a phase to the work done on one file.
func ops(phase string, size int) (func(path string, buf []byte) error, error) {
	switch phase {
	case "create":
		return func(p string, buf []byte) error {
			fd, err := unix.Open(p, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
			if err != nil {
				return fmt.Errorf("create %s: %w", p, err)
			}
			n, err := unix.Write(fd, buf)
			if err == nil && n != len(buf) {
				err = fmt.Errorf("short write %d of %d", n, len(buf))
			}
			if cerr := unix.Close(fd); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("write %s: %w", p, err)
			}
			return nil
		}, nil
	case "stat":
		return func(p string, _ []byte) error {
			var st unix.Stat_t
			if err := unix.Stat(p, &st); err != nil {
				return fmt.Errorf("stat %s: %w", p, err)
			}
			if st.Size != int64(size) {
				return fmt.Errorf("stat %s: size %d, want %d", p, st.Size, size)
			}
			return nil
		}, nil
	case "read":
		return func(p string, buf []byte) error {
			fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("open %s: %w", p, err)
			}
			defer unix.Close(fd)
			total := 0
			for total < len(buf) {
				n, err := unix.Read(fd, buf[total:])
				if err != nil {
					return fmt.Errorf("read %s: %w", p, err)
				}
				if n == 0 {
					break
				}
				total += n
			}
			if total != size {
				return fmt.Errorf("read %s: got %d bytes, want %d", p, total, size)
			}
			return nil
		}, nil
	case "delete":
		return func(p string, _ []byte) error {
			if err := unix.Unlink(p); err != nil {
				return fmt.Errorf("unlink %s: %w", p, err)
			}
			return nil
		}, nil
	}
	return nil, fmt.Errorf("unknown phase %q", phase)
}

func run(c config, phase string) (result, error) {
	op, err := ops(phase, c.size)
	if err != nil {
		return result{}, err
	}
	// Directories are set up outside the timed section: the workload is
	// about files.
	if phase == "create" {
		for t := range c.threads {
			if err := os.MkdirAll(threadDir(c.dir, t), 0o755); err != nil {
				return result{}, err
			}
		}
	}
	per := c.files / c.threads
	errs := make([]error, c.threads)
	var wg sync.WaitGroup
	start := time.Now()
	for t := range c.threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, c.size)
			for i := range buf {
				buf[i] = byte(i*7 + t)
			}
			d := threadDir(c.dir, t)
			for i := range per {
				if err := op(filepath.Join(d, fmt.Sprintf("f%05d", i)), buf); err != nil {
					errs[t] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if err := errors.Join(errs...); err != nil {
		return result{}, err
	}
	if phase == "delete" {
		for t := range c.threads {
			if err := os.Remove(threadDir(c.dir, t)); err != nil {
				return result{}, err
			}
		}
	}
	n := per * c.threads
	return result{Phase: phase, Files: n, Threads: c.threads, Seconds: secs, OpsPerS: float64(n) / secs}, nil
}

func threadDir(dir string, t int) string { return filepath.Join(dir, fmt.Sprintf("t%d", t)) }
