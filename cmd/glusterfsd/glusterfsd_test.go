package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/layers"
	protoclient "github.com/gluster-go/gluster-go/internal/protocol/client"
)

// brickVolfile stacks the brick graph's layers that this build has; the
// layer under protocol/server is named by the brick path.
func brickVolfile(vol, volID, brick, dumpDir, allow string) string {
	reg := layers.Registry()
	stack := []struct{ name, typ, opts string }{
		{vol + "-posix", "storage/posix", fmt.Sprintf("    option directory %s\n    option volume-id %s\n", brick, volID)},
		{vol + "-locks", "features/locks", ""},
		{brick, "debug/io-stats", ""},
	}
	var b strings.Builder
	below := ""
	for i, l := range stack {
		if _, ok := reg[l.typ]; !ok && i > 0 {
			continue
		}
		name := l.name
		if i == len(stack)-1 || !hasLater(reg, stack[i+1:]) {
			name = brick
		}
		fmt.Fprintf(&b, "volume %s\n    type %s\n%s", name, l.typ, l.opts)
		if below != "" {
			fmt.Fprintf(&b, "    subvolumes %s\n", below)
		}
		b.WriteString("end-volume\n\n")
		below = name
	}
	fmt.Fprintf(&b, "volume %s-server\n    type protocol/server\n    option auth.addr.%s.allow %s\n    option statedump-path %s\n    subvolumes %s\nend-volume\n", vol, brick, allow, dumpDir, below)
	return b.String()
}

func hasLater(reg graph.Registry, rest []struct{ name, typ, opts string }) bool {
	for _, l := range rest {
		if _, ok := reg[l.typ]; ok {
			return true
		}
	}
	return false
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// The real binary serves a posix brick; protocol/client creates, writes
// and reads a file through it, and the file is on the brick as a plain
// file. SIGTERM stops it cleanly.
func TestGlusterfsdServesBrick(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bricks keep trusted.* xattrs, which need root")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "glusterfsd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	brick := filepath.Join(dir, "bricks", "b1")
	if err := os.MkdirAll(brick, 0o755); err != nil {
		t.Fatal(err)
	}
	volfile := filepath.Join(dir, "b1.vol")
	dumpDir := filepath.Join(dir, "run")
	volID := uuid.NewString()
	writeVolfile := func(allow string) {
		if err := os.WriteFile(volfile, []byte(brickVolfile("tv", volID, brick, dumpDir, allow)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeVolfile("*")
	pidFile, logFile := filepath.Join(dir, "run", "b1.pid"), filepath.Join(dir, "b1.log")
	port := freePort(t)

	cmd := exec.Command(bin, "-f", volfile, "--brick-port", strconv.Itoa(port), "--listen-host", "127.0.0.1",
		"-p", pidFile, "-l", logFile, "--brick-name", brick, "-N")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	failed := func(err error) {
		log, _ := os.ReadFile(logFile)
		t.Fatalf("glusterfsd exited: %v\n%s\n%s", err, stderr.String(), log)
	}

	events := make(chan fop.Event, 10)
	l, err := protoclient.New(&graph.Args{Name: "tv-client-0", Type: protoclient.Type, Emit: func(ev fop.Event) { events <- ev },
		Options: map[string]string{"remote-host": "127.0.0.1", "remote-port": strconv.Itoa(port), "remote-subvolume": brick}})
	if err != nil {
		t.Fatal(err)
	}
	c := l.(*protoclient.Client)
	c.Start(context.Background())
	t.Cleanup(func() { c.Close() })
	waitFor := func(want fop.Event) {
		for {
			select {
			case ev := <-events:
				if ev == want {
					return
				}
			case err := <-exited:
				failed(err)
			}
		}
	}
	waitFor(fop.ChildUp)

	ctx := context.Background()
	root, _, err := c.Lookup(ctx, &fop.Loc{Path: "/", GFID: fop.RootGFID}, nil)
	if err != nil || !root.IsDir() {
		t.Fatalf("lookup /: %+v, %v", root, err)
	}
	loc := fop.Loc{Path: "/hello.txt", GFID: fop.NewGFID(), Parent: fop.RootGFID, Name: "hello.txt"}
	fd := fop.NewFD(loc.GFID, syscall.O_CREAT|syscall.O_RDWR)
	if _, _, err := c.Create(ctx, &loc, fd.Flags, 0o644, 0o022, fd, nil); err != nil {
		t.Fatalf("create: %v", err)
	}
	data := []byte("hello, brick\n")
	if n, _, err := c.Write(ctx, fd, data, 0); err != nil || n != len(data) {
		t.Fatalf("write: %d, %v", n, err)
	}
	buf := make([]byte, 100)
	if n, err := c.Read(ctx, fd, buf, 0); err != nil || !bytes.Equal(buf[:n], data) {
		t.Fatalf("read: %q, %v", buf[:n], err)
	}
	if err := c.Release(ctx, fd); err != nil {
		t.Fatal(err)
	}
	if onDisk, err := os.ReadFile(filepath.Join(brick, "hello.txt")); err != nil || !bytes.Equal(onDisk, data) {
		t.Fatalf("on the brick: %q, %v", onDisk, err)
	}
	if _, err := c.Stat(ctx, &fop.Loc{GFID: fop.GFID{1}}); fop.Errno(err) != syscall.ENOENT && fop.Errno(err) != syscall.ESTALE {
		t.Fatalf("stat of an unknown gfid: %v", err)
	}

	pid, err := os.ReadFile(pidFile)
	if err != nil || strings.TrimSpace(string(pid)) != strconv.Itoa(cmd.Process.Pid) {
		t.Fatalf("pid file: %q, %v", pid, err)
	}
	// SIGHUP applies a changed volfile: a client auth.allow no longer
	// lists is dropped, and comes back when it is listed again.
	writeVolfile("127.0.0.9")
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(fop.ChildDown)
	writeVolfile("127.0.0.*")
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(fop.ChildUp)

	// SIGUSR1 writes a state dump listing this client.
	cmd.Process.Signal(syscall.SIGUSR1)
	dumpGlob := filepath.Join(dumpDir, fmt.Sprintf("glusterdump.%d.dump.*", cmd.Process.Pid))
	for {
		if m, _ := filepath.Glob(dumpGlob); len(m) > 0 {
			if dump, err := os.ReadFile(m[0]); err == nil && strings.Contains(string(dump), "DUMP-END-TIME") {
				if !strings.Contains(string(dump), "connected-clients=1") || !strings.Contains(string(dump), "tv-server=protocol/server") {
					t.Errorf("state dump:\n%s", dump)
				}
				break
			}
		}
		select {
		case err := <-exited:
			failed(err)
		case <-time.After(20 * time.Millisecond):
		}
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		failed(err)
	}
	exited <- nil // for the cleanup
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
	if log, _ := os.ReadFile(logFile); !strings.Contains(string(log), "brick serving") {
		t.Errorf("log file: %s", log)
	}
}
