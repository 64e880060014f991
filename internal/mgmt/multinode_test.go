package mgmt_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"
)

// startOrExplain starts vol and reports whether it runs; a build that
// cannot run bricks yet must refuse with a plain reason.
func (p *pool) startOrExplain(i int, vol string) bool {
	p.t.Helper()
	out, err := p.gluster(i, "volume", "start", vol)
	p.t.Logf("node%d$ gluster volume start %s\n%s", i+1, vol, out)
	if err == nil {
		expect(p.t, out, "volume start: "+vol+": success")
		return true
	}
	if !regexp.MustCompile(`^volume start: ` + vol + `: failed: .*(does not have yet|glusterfsd not found)`).MatchString(out) {
		p.t.Fatalf("volume start failed without a plain reason: %s", out)
	}
	expect(p.t, p.must(i, "volume", "info", vol), "Status: Created")
	return false
}

// TestPoolLifecycle: probe, create replica 2, start, info, status, set,
// stop, delete and detach across three glusterd processes.
func TestPoolLifecycle(t *testing.T) {
	p := newPool(t, 3)
	n1, n2, n3 := p.nodes[0].addr, p.nodes[1].addr, p.nodes[2].addr
	p.probeAll()
	expect(t, p.must(0, "peer", "probe", n2), fmt.Sprintf("peer probe: success. Host %s port %d already in peer list", n2, p.port))
	expect(t, p.must(0, "peer", "probe", n1), "peer probe: success. Probe on localhost not needed")
	pl := p.must(1, "pool", "list")
	if lines := strings.Split(strings.TrimSpace(pl), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "UUID\t") ||
		!strings.Contains(lines[3], "localhost") || !strings.Contains(pl, n1) || !strings.Contains(pl, n3) {
		t.Errorf("pool list:\n%s", pl)
	}
	xml := p.must(2, "--xml", "peer", "status")
	expect(t, xml, "<opRet>0</opRet>", "<hostname>"+n1+"</hostname>", "<hostname>"+n2+"</hostname>", "<stateStr>Peer in Cluster</stateStr>")

	b1, b2 := p.brick(0, "gv"), p.brick(1, "gv")
	expect(t, p.must(1, "volume", "create", "gv", "replica", "2", b1, b2, "force"),
		"volume create: gv: success: please start the volume to access data")
	info := p.must(2, "volume", "info", "gv")
	expect(t, info, "Volume Name: gv\n", "Type: Replicate\n", "Status: Created\n", "Number of Bricks: 1 x 2 = 2\n",
		"Transport-type: tcp\n", "Bricks:\nBrick1: "+b1+"\nBrick2: "+b2+"\n")
	m := regexp.MustCompile(`Volume ID: (\S+)`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("no volume id in\n%s", info)
	}
	id := uuid.MustParse(m[1])
	for _, b := range []string{b1, b2} {
		path := b[strings.IndexByte(b, ':')+1:]
		buf := make([]byte, 16)
		if n, err := unix.Getxattr(path, "trusted.glusterfs.volume-id", buf); err != nil || !bytes.Equal(buf[:n], id[:]) {
			t.Errorf("%s: volume-id %x (%v), want %x", path, buf, err, id[:])
		}
	}
	expect(t, p.must(0, "volume", "list"), "gv\n")

	started := p.startOrExplain(0, "gv")
	if started {
		st := p.must(2, "volume", "status", "gv")
		expect(t, st, "Status of volume: gv", "Gluster process                             TCP Port  RDMA Port  Online  Pid")
		up := map[string]bool{}
		for _, x := range nodeRE.FindAllStringSubmatch(p.must(1, "--xml", "volume", "status", "gv"), -1) {
			up[x[1]+":"+x[2]] = x[3] == "1"
		}
		if !up[b1] || !up[b2] {
			t.Errorf("bricks online: %v", up)
		}
		// Nodes with bricks of a replicated volume list their self-heal
		// daemon (which runs inside glusterd).
		expect(t, p.must(0, "volume", "status", "gv"), "\nSelf-heal Daemon on localhost ", "\nSelf-heal Daemon on "+n2+" ")
		expect(t, p.must(0, "volume", "status", "gv", "detail"), "Disk Space Free", "Total Disk Space", "Inode Count")
		expect(t, p.must(0, "volume", "info", "gv"), "Status: Started")
	}

	expect(t, p.must(1, "volume", "set", "gv", "network.ping-timeout", "22"), "volume set: success")
	expect(t, p.must(2, "volume", "info", "gv"), "Options Reconfigured:\nnetwork.ping-timeout: 22\n")
	expect(t, p.must(0, "volume", "get", "gv", "network.ping-timeout"), "network.ping-timeout                    22")
	expect(t, p.must(0, "--xml", "volume", "info", "gv"), "<opRet>0</opRet>", "<replicaCount>2</replicaCount>", "<typeStr>Replicate</typeStr>",
		"<name>network.ping-timeout</name>", "<count>1</count>")
	// A client cache may not outlive the bricks' memory of its interest.
	if out, err := p.gluster(1, "volume", "set", "gv", "performance.md-cache-timeout", "600"); err == nil || !strings.Contains(out, "exceeds features.cache-invalidation-timeout (60)") {
		t.Errorf("md-cache-timeout above cache-invalidation-timeout: %v\n%s", err, out)
	}
	expect(t, p.must(1, "volume", "set", "gv", "features.cache-invalidation-timeout", "600", "performance.md-cache-timeout", "600"), "volume set: success")
	if out, err := p.gluster(0, "volume", "reset", "gv", "features.cache-invalidation-timeout"); err == nil || !strings.Contains(out, "exceeds") {
		t.Errorf("reset leaving md-cache-timeout above cache-invalidation-timeout: %v\n%s", err, out)
	}
	expect(t, p.must(0, "volume", "reset", "gv", "performance.md-cache-timeout"), "volume reset: success")
	expect(t, p.must(0, "volume", "reset", "gv", "features.cache-invalidation-timeout"), "volume reset: success")
	expect(t, p.must(0, "volume", "reset", "gv", "network.ping-timeout"), "volume reset: success")
	if out := p.must(2, "volume", "info", "gv"); strings.Contains(out, "Options Reconfigured") {
		t.Errorf("option not reset:\n%s", out)
	}

	if out, err := p.gluster(0, "peer", "detach", n2); err == nil || !strings.Contains(out, "peer detach: failed: Peer "+n2+" hosts one or more bricks.") {
		t.Errorf("detach of a brick host: %v\n%s", err, out)
	}
	if started {
		expect(t, p.must(2, "volume", "stop", "gv"), "volume stop: gv: success")
		expect(t, p.must(0, "volume", "info", "gv"), "Status: Stopped")
	}
	expect(t, p.must(2, "volume", "delete", "gv"), "volume delete: gv: success")
	if out, _ := p.gluster(0, "volume", "info"); !strings.Contains(out, "No volumes present") {
		t.Errorf("after delete:\n%s", out)
	}
	// A deleted volume's bricks keep their volume id, as in GlusterFS.
	if out, err := p.gluster(0, "volume", "create", "gv2", b1, "force"); err == nil || !strings.Contains(out, "is already part of a volume") {
		t.Errorf("reuse of a brick: %v\n%s", err, out)
	}

	expect(t, p.must(0, "peer", "detach", n3), "peer detach: success")
	expect(t, p.must(0, "peer", "status"), "Number of Peers: 1\n")
	eventually(t, "detached node on its own", func() error {
		out, err := p.gluster(2, "pool", "list")
		if err != nil || strings.Count(out, "\n") != 2 || !strings.Contains(out, "localhost") {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	// A node with volumes of its own cannot join.
	expect(t, p.must(2, "volume", "create", "own", p.brick(2, "own"), "force"), "volume create: own: success")
	if out, err := p.gluster(0, "peer", "probe", n3); err == nil || out != "peer probe: failed: "+n3+" is either already part of another cluster or having volumes configured\n" {
		t.Errorf("probe of a node with volumes: %v\n%s", err, out)
	}
	expect(t, p.must(2, "volume", "delete", "own"), "volume delete: own: success")
	// Without them it can be probed again.
	expect(t, p.must(1, "peer", "probe", n3), "peer probe: success")
	p.probeAll()
}

// TestRestartKeepsState: a two-node pool survives a restart of both
// glusterds (SIGKILL) with its volumes and options; a node that comes back
// alone (no quorum) still shows them and restarts its bricks.
func TestRestartKeepsState(t *testing.T) {
	p := newPool(t, 2)
	p.probeAll()
	b0 := p.brick(0, "rv")
	expect(t, p.must(0, "volume", "create", "rv", b0, p.brick(1, "rv"), "force"), "volume create: rv: success")
	expect(t, p.must(1, "volume", "set", "rv", "performance.cache-size", "128MB"), "volume set: success")
	started := p.startOrExplain(0, "rv")
	p.kill(0)
	p.kill(1)
	p.killBricks(0)
	p.killBricks(1)

	p.start(0) // alone: no quorum
	expect(t, p.must(0, "volume", "info", "rv"), "performance.cache-size: 128MB", "Number of Bricks: 2")
	if started {
		eventually(t, "brick restarted without quorum", func() error {
			up := map[string]bool{}
			for _, x := range nodeRE.FindAllStringSubmatch(p.must(0, "--xml", "volume", "status", "rv"), -1) {
				up[x[1]+":"+x[2]] = x[3] == "1"
			}
			if !up[b0] {
				return fmt.Errorf("online: %v", up)
			}
			return nil
		})
	}
	if out, err := p.gluster(0, "volume", "set", "rv", "network.ping-timeout", "10"); err == nil {
		t.Errorf("a change without quorum was accepted: %s", out)
	}

	p.start(1)
	for i := range 2 {
		eventually(t, "state after restart", func() error {
			out, err := p.gluster(i, "volume", "info", "rv")
			if err != nil || !strings.Contains(out, "performance.cache-size: 128MB") || !strings.Contains(out, "Number of Bricks: 2") {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
	}
	p.probeAll() // both connected again
	// The pool takes changes again.
	expect(t, p.must(1, "volume", "set", "rv", "network.ping-timeout", "10"), "volume set: success")
	expect(t, p.must(0, "volume", "info", "rv"), "network.ping-timeout: 10")
}

// TestNodeDownCatchUp: with one node of three killed (the first, which
// led the pool), the others answer and take changes; the node gets them
// when it returns.
func TestNodeDownCatchUp(t *testing.T) {
	p := newPool(t, 3)
	p.probeAll()
	b0, b1 := p.brick(0, "cv"), p.brick(1, "cv")
	expect(t, p.must(0, "volume", "create", "cv", "replica", "2", b0, b1, "force"), "volume create: cv: success")
	started := p.startOrExplain(1, "cv")
	p.kill(0)
	eventually(t, "node 1 seen down", func() error {
		out, err := p.gluster(2, "peer", "status")
		if err != nil || !strings.Contains(out, "Hostname: "+p.nodes[0].addr+"\nUuid: ") || !strings.Contains(out, "(Disconnected)") {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	expect(t, p.must(1, "volume", "info", "cv"), "Volume Name: cv")
	if started {
		// The dead node's brick shows offline; the live one online.
		xml := p.must(2, "--xml", "volume", "status", "cv")
		up := map[string]bool{}
		for _, x := range nodeRE.FindAllStringSubmatch(xml, -1) {
			up[x[1]+":"+x[2]] = x[3] == "1"
		}
		if up[b0] || !up[b1] {
			t.Errorf("bricks online: %v", up)
		}
	} else if out, err := p.gluster(1, "volume", "status", "cv"); err == nil || !strings.Contains(out, "Volume cv is not started") {
		t.Errorf("volume status: %v\n%s", err, out)
	}
	expect(t, p.must(1, "volume", "set", "cv", "network.ping-timeout", "7"), "volume set: success")
	expect(t, p.must(2, "volume", "create", "cv2", p.brick(2, "cv2"), "force"), "volume create: cv2: success")
	// A brick on the dead node cannot be created.
	if out, err := p.gluster(1, "volume", "create", "cv3", p.brick(0, "cv3"), "force"); err == nil || !strings.Contains(out, "Host "+p.nodes[0].addr+" not connected") {
		t.Errorf("create on a dead node: %v\n%s", err, out)
	}
	p.start(0)
	eventually(t, "node 1 caught up", func() error {
		out, err := p.gluster(0, "volume", "info")
		if err != nil || !strings.Contains(out, "network.ping-timeout: 7") || !strings.Contains(out, "Volume Name: cv2") {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	// Its local copy for brick restarts follows too.
	if _, err := os.Stat(filepath.Join(p.nodes[0].dir, "lib", "vols", "cv2", "info")); err != nil {
		t.Errorf("local copy: %v", err)
	}
	if started {
		expect(t, p.must(0, "volume", "stop", "cv"), "volume stop: cv: success")
	}
}

// TestDaemonize: without --foreground glusterd returns once it serves;
// a second one on the same address fails with a one-line reason.
func TestDaemonize(t *testing.T) {
	p := newPool(t, 0)
	nd := &node{addr: "127.0.0.2", dir: t.TempDir()}
	p.nodes = append(p.nodes, nd)
	p.port = freePortPair(t, []string{nd.addr})
	pidFile := filepath.Join(nd.dir, "glusterd.pid")
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				syscall.Kill(pid, syscall.SIGTERM)
			}
		}
	})
	logFile := filepath.Join(nd.dir, "elsewhere", "gd.log")
	out, err := exec.Command(filepath.Join(p.bin, "glusterd"), append(p.args(nd), "-p", pidFile, "-l", logFile)...).CombinedOutput()
	if err != nil {
		t.Fatalf("glusterd: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(logFile); err != nil || !strings.Contains(string(b), `"msg":"glusterd serving"`) {
		t.Errorf("log file: %v\n%s", err, b)
	}
	// Serving at once: no retry.
	expect(t, p.must(0, "pool", "list"), "localhost")
	if _, err := os.Stat(filepath.Join(nd.dir, "lib", "glusterd.info")); err != nil {
		t.Error(err)
	}
	if b, err := os.ReadFile(filepath.Join(nd.dir, "run", "glusterd.addr")); err != nil || string(b) != fmt.Sprintf("%s:%d\n", nd.addr, p.port) {
		t.Errorf("address file: %q %v", b, err)
	}
	// SIGUSR1: a state dump in the run directory.
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	syscall.Kill(pid, syscall.SIGUSR1)
	eventually(t, "statedump", func() error {
		dumps, _ := filepath.Glob(filepath.Join(nd.dir, "run", fmt.Sprintf("glusterdump.%d.dump.*", pid)))
		if len(dumps) == 0 {
			return fmt.Errorf("no dump")
		}
		d, err := os.ReadFile(dumps[0])
		if err != nil || !strings.Contains(string(d), `"hostname": "127.0.0.2"`) {
			return fmt.Errorf("%v: %s", err, d)
		}
		return nil
	})

	out, err = exec.Command(filepath.Join(p.bin, "glusterd"), p.args(nd)...).CombinedOutput()
	if err == nil || strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), "address already in use") {
		t.Errorf("second glusterd: %v\n%s", err, out)
	}
}

// TestDetachedWhileDown: a node detached with force while it was down
// finds out when it returns and becomes a pool of its own, which can be
// probed again.
func TestDetachedWhileDown(t *testing.T) {
	p := newPool(t, 3)
	p.probeAll()
	n3 := p.nodes[2].addr
	p.kill(2)
	if out, err := p.gluster(0, "peer", "detach", n3); err == nil || !strings.Contains(out, "peer detach: failed: One of the peers is probably down. Check with 'peer status'") {
		t.Errorf("detach of a down peer without force: %v\n%s", err, out)
	}
	expect(t, p.must(0, "peer", "detach", n3, "force"), "peer detach: success")
	expect(t, p.must(1, "peer", "status"), "Number of Peers: 1\n")
	p.start(2)
	eventually(t, "returning node on its own", func() error {
		out, err := p.gluster(2, "pool", "list")
		if err != nil || strings.Count(out, "\n") != 2 || !strings.Contains(out, "localhost") {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	expect(t, p.must(1, "peer", "probe", n3), "peer probe: success")
	p.probeAll()
}
