package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/gluster-go/gluster-go/test/contract"
)

// oursManual is gluster-go started without glusterd (--ours-mode=manual):
// one glusterfsd serving a brick volfile written here, and glusterfs
// mounting a client volfile that names the brick's port. The graphs follow
// the project's brick and client graph contracts. It isolates the data path
// from glusterd when the management side misbehaves.
type oursManual struct {
	work string
	bin  string // directory with our freshly built binaries
	vol  string
	log  *slog.Logger

	brickCmd *exec.Cmd
	client   fuseClient
}

func newOursManual(work, bin string, log *slog.Logger) *oursManual {
	o := &oursManual{work: work, bin: bin, vol: benchVol, log: log}
	mnt := filepath.Join(work, "mnt")
	o.client = fuseClient{mnt: mnt, argv: []string{filepath.Join(bin, "glusterfs"),
		"--volfile=" + filepath.Join(work, "client.vol"),
		"--log-file=" + filepath.Join(work, "client.log"), mnt}}
	return o
}

func (o *oursManual) name() string  { return "ours" }
func (o *oursManual) dir() string   { return o.client.mnt }
func (o *oursManual) brick() string { return filepath.Join(o.work, "brick") }

func (o *oursManual) start(ctx context.Context) error {
	for _, d := range []string{"brick", "mnt"} {
		if err := os.MkdirAll(filepath.Join(o.work, d), 0o755); err != nil {
			return err
		}
	}
	const host = "127.0.0.1"
	port, err := freePort(host)
	if err != nil {
		return err
	}
	brickVol := filepath.Join(o.work, "brick.vol")
	if err := os.WriteFile(brickVol, []byte(contract.BrickVolfile(o.vol, o.brick(), uuid.NewString())), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.work, "client.vol"), []byte(contract.ClientVolfile(o.vol, host, port, o.brick())), 0o644); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(o.work, "brick.out"))
	if err != nil {
		return err
	}
	defer logf.Close()
	o.brickCmd = exec.Command(filepath.Join(o.bin, "glusterfsd"), "-N",
		"--volfile="+brickVol, "--brick-port="+strconv.Itoa(port),
		"--listen-host="+host, "--brick-name="+o.brick(),
		"--log-file="+filepath.Join(o.work, "brick.log"),
		"--pid-file="+filepath.Join(o.work, "brick.pid"))
	o.brickCmd.Stdout = logf
	o.brickCmd.Stderr = logf
	if err := o.brickCmd.Start(); err != nil {
		return fmt.Errorf("start glusterfsd: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = o.brickCmd.Wait(); close(exited) }()
	addr := fmt.Sprintf("%s:%d", host, port)
	if !waitFor(30*time.Second, func() bool {
		select {
		case <-exited:
			return true
		default:
			return waitListening(addr, 0)
		}
	}) {
		return fmt.Errorf("start glusterfsd: %s not listening after 30s", addr)
	}
	select {
	case <-exited:
		out, _ := os.ReadFile(logf.Name())
		return fmt.Errorf("start glusterfsd: exited: %s", tail(string(out), 600))
	default:
	}
	return o.client.mount(ctx)
}

func (o *oursManual) recycle(ctx context.Context) error { return o.client.recycle(ctx) }

func (o *oursManual) procs() ([]int, []int) {
	if o.brickCmd == nil || o.brickCmd.Process == nil {
		return o.client.pids(), nil
	}
	return o.client.pids(), []int{o.brickCmd.Process.Pid}
}

func (o *oursManual) rss() (uint64, uint64) {
	o.client.notePeak()
	_, brick := o.procs()
	return o.client.peak, peakRSS(brick)
}

func (o *oursManual) stop(ctx context.Context) error {
	errs := []error{o.client.unmount(ctx)}
	if o.brickCmd != nil && o.brickCmd.Process != nil {
		stopPID(o.brickCmd.Process.Pid, 10*time.Second)
	}
	if !fuseMounted(o.client.mnt) {
		errs = append(errs, os.RemoveAll(o.work))
	}
	return errors.Join(errs...)
}
