package mgmt_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/test/cluster"
)

// The multi-node tests run real glusterd processes on 127.0.0.2, .3, ...
// with their own state directories, on a private management port (not the
// shared 24007), driven by the real gluster CLI.

var binDir = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "mgmt-test-bin-")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", dir+"/", "../../cmd/glusterd", "../../cmd/gluster")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	// Real bricks when the build has them; without, volume start must
	// refuse plainly (see startOrExplain).
	if _, err := os.Stat("../../cmd/glusterfsd"); err == nil {
		exec.Command("go", "build", "-o", dir+"/", "../../cmd/glusterfsd").Run()
	}
	return dir, nil
})

func TestMain(m *testing.M) {
	// glusterd's supervisor runs this test binary as a fake brick.
	if filepath.Base(os.Args[0]) == "glusterfsd" {
		fakeBrick(os.Args[1:])
		return
	}
	code := m.Run()
	if dir, err := binDir(); err == nil {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

type node struct {
	addr string
	dir  string
	proc *cluster.Proc // nil while glusterd does not run
}

type pool struct {
	t     *testing.T
	bin   string
	port  int
	nodes []*node
}

// freePortPair finds a port free, with the next one, on every address.
func freePortPair(t *testing.T, addrs []string) int {
	for p := 24400; p < 24600; p += 2 {
		ok := true
		for _, a := range addrs {
			for _, q := range []int{p, p + 1} {
				ln, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(q)))
				if err != nil {
					ok = false
					continue
				}
				ln.Close()
			}
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}

func newPool(t *testing.T, n int) *pool {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	bin, err := binDir()
	if err != nil {
		t.Fatal(err)
	}
	p := &pool{t: t, bin: bin}
	var addrs []string
	for i := range n {
		addrs = append(addrs, fmt.Sprintf("127.0.0.%d", 2+i))
	}
	p.port = freePortPair(t, addrs)
	root := t.TempDir()
	for i, a := range addrs {
		p.nodes = append(p.nodes, &node{addr: a, dir: filepath.Join(root, fmt.Sprintf("node%d", i+1))})
	}
	t.Cleanup(p.cleanup)
	for i := range p.nodes {
		p.start(i)
	}
	return p
}

func (p *pool) args(nd *node) []string {
	return []string{"--address=" + nd.addr, "--port=" + strconv.Itoa(p.port),
		"--workdir=" + filepath.Join(nd.dir, "lib"), "--logdir=" + filepath.Join(nd.dir, "log"),
		"--rundir=" + filepath.Join(nd.dir, "run")}
}

// start runs node i's glusterd in the foreground and waits until its API
// answers.
func (p *pool) start(i int) {
	p.t.Helper()
	nd := p.nodes[i]
	proc, err := cluster.StartProc(exec.Command(filepath.Join(p.bin, "glusterd"), append(p.args(nd), "--foreground")...))
	if err != nil {
		p.t.Fatal(err)
	}
	nd.proc = proc
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := p.gluster(i, "volume", "list"); err == nil {
			return
		}
		select {
		case <-proc.Exited:
			p.t.Fatalf("glusterd %s exited", nd.addr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("glusterd %s does not answer", nd.addr)
		}
	}
}

// kill SIGKILLs node i's glusterd.
func (p *pool) kill(i int) {
	nd := p.nodes[i]
	nd.proc.Kill()
	nd.proc = nil
}

// killBricks SIGKILLs node i's bricks (they outlive glusterd by design).
func (p *pool) killBricks(i int) {
	pids, _ := filepath.Glob(filepath.Join(p.nodes[i].dir, "run", "vols", "*", "*.pid"))
	for _, f := range pids {
		if b, err := os.ReadFile(f); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

func (p *pool) cleanup() {
	for i, nd := range p.nodes {
		p.kill(i)
		p.killBricks(i)
		if p.t.Failed() {
			if b, err := os.ReadFile(filepath.Join(nd.dir, "log", "glusterd.log")); err == nil {
				p.t.Logf("glusterd.log of %s:\n%s", nd.addr, b)
			}
		}
	}
}

// gluster runs the CLI against node i in script mode.
func (p *pool) gluster(i int, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	full := append([]string{"--mode=script", fmt.Sprintf("--remote-host=%s:%d", p.nodes[i].addr, p.port)}, args...)
	out, err := exec.CommandContext(ctx, filepath.Join(p.bin, "gluster"), full...).CombinedOutput()
	return string(out), err
}

func (p *pool) must(i int, args ...string) string {
	p.t.Helper()
	out, err := p.gluster(i, args...)
	p.t.Logf("node%d$ gluster %s\n%s", i+1, strings.Join(args, " "), out)
	if err != nil {
		p.t.Fatalf("gluster %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (p *pool) brick(i int, name string) string {
	return p.nodes[i].addr + ":" + filepath.Join(p.nodes[i].dir, "bricks", name)
}

func expect(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// eventually retries f until it returns nil or a minute has passed (a
// hang detector: peers connect and catch up asynchronously).
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// probeAll probes every node from the first; right after, every node
// lists the others as connected (no waiting, as in GlusterFS).
func (p *pool) probeAll() {
	for i := 1; i < len(p.nodes); i++ {
		expect(p.t, p.must(0, "peer", "probe", p.nodes[i].addr), "peer probe: success")
	}
	for i := range p.nodes {
		out := p.must(i, "peer", "status")
		want := fmt.Sprintf("Number of Peers: %d", len(p.nodes)-1)
		if !strings.Contains(out, want) || strings.Count(out, "(Connected)") != len(p.nodes)-1 {
			p.t.Errorf("peer status on %s:\n%s", p.nodes[i].addr, out)
		}
	}
}
