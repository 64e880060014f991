package mgmt_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/cli"
	"github.com/gluster-go/gluster-go/internal/mgmt"
	"github.com/gluster-go/gluster-go/internal/mgmt/mgmttest"
)

// fakeBrick stands in for glusterfsd: it accepts connections on
// --listen-host:--brick-port until it is killed, and copies its volfile to
// VOLFILE.reloaded on SIGHUP (where glusterfsd applies it).
func fakeBrick(args []string) {
	host, port, vf := "", "", ""
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--listen-host":
			host = args[i+1]
		case "--brick-port":
			port = args[i+1]
		case "-f":
			vf = args[i+1]
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if b, err := os.ReadFile(vf); err == nil {
				os.WriteFile(vf+".reloaded", b, 0o644)
			}
		}
	}()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake brick:", err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(1)
		}
		c.Close()
	}
}

// allTypes pretends every layer exists, so that volfiles can be generated
// whatever this build has.
var allTypes = map[string]bool{
	"protocol/client": true, "protocol/server": true, "debug/io-stats": true, "storage/posix": true,
	"features/locks": true, "cluster/distribute": true, "cluster/replicate": true,
}

func gl(t *testing.T, host string, args ...string) (string, error) {
	t.Helper()
	var out, errw bytes.Buffer
	code := cli.Main(append([]string{"--mode=script", "--remote-host=" + host}, args...), strings.NewReader(""), &out, &errw)
	t.Logf("$ gluster %s\n%s%s", strings.Join(args, " "), out.String(), errw.String())
	if code != 0 {
		return errw.String(), fmt.Errorf("exit %d: %s", code, errw.String())
	}
	return out.String(), nil
}

func mustGl(t *testing.T, host string, args ...string) string {
	t.Helper()
	out, err := gl(t, host, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var nodeRE = regexp.MustCompile(`(?s)<node>\s*<hostname>([^<]*)</hostname>\s*<path>([^<]*)</path>.*?<status>(\d)</status>.*?<pid>(-?\d+)</pid>`)

// online returns brick -> pid of the online bricks of vol, from
// volume status --xml (the text layout wraps long brick names).
func online(t *testing.T, host, vol string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, x := range nodeRE.FindAllStringSubmatch(mustGl(t, host, "--xml", "volume", "status", vol), -1) {
		if x[3] == "1" {
			m[x[1]+":"+x[2]] = x[4]
		}
	}
	return m
}

func pidOf(t *testing.T, n *mgmttest.Node, vol, host, path string) int {
	t.Helper()
	f := filepath.Join(n.Dir, "run", "vols", vol, host+"-"+strings.ReplaceAll(strings.Trim(path, "/"), "/", "-")+".pid")
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !bytes.Contains(b, []byte(") Z "))
}

// TestBricks: start runs one process per brick and returns once they
// accept connections; status, portmap and volfile follow; a dead brick
// stays dead until start force; bricks outlive a glusterd restart and are
// adopted; stop ends them.
func TestBricks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	const ip = "127.0.0.2"
	port := mgmttest.FreePort(t, ip)
	dir := t.TempDir()
	opts := func(c *mgmt.Config) { c.LayerTypes, c.BrickBinary = allTypes, os.Args[0] }
	n := mgmttest.StartIn(t, dir, ip, port, opts)
	h := n.Addr
	bdir := t.TempDir()
	p1, p2 := filepath.Join(bdir, "b1"), filepath.Join(bdir, "b2")
	t.Cleanup(func() {
		for _, p := range []string{p1, p2} {
			if pid := pidOfQuiet(dir, "bv", ip, p); pid > 0 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	mustGl(t, h, "volume", "create", "bv", ip+":"+p1, ip+":"+p2, "force")
	if out := mustGl(t, h, "volume", "start", "bv"); out != "volume start: bv: success\n" {
		t.Fatalf("start: %q", out)
	}
	text := mustGl(t, h, "volume", "status", "bv")
	if !strings.HasPrefix(text, "Status of volume: bv\nGluster process                             TCP Port  RDMA Port  Online  Pid\n") {
		t.Errorf("status layout:\n%s", text)
	}
	st := online(t, h, "bv")
	if len(st) != 2 {
		t.Fatalf("online bricks: %v", st)
	}
	if one := nodeRE.FindAllStringSubmatch(mustGl(t, h, "--xml", "volume", "status", "bv", ip+":"+p2), -1); len(one) != 1 || one[0][2] != p2 {
		t.Errorf("status of one brick: %v", one)
	}
	if out, err := gl(t, h, "volume", "status", "bv", ip+":/nope"); err == nil || out != "No brick "+ip+":/nope in volume bv\n" {
		t.Errorf("status of an unknown brick: %q", out)
	}
	pid1 := pidOf(t, n, "bv", ip, p1)
	if st[ip+":"+p1] != strconv.Itoa(pid1) {
		t.Errorf("status pid %s, pid file %d", st[ip+":"+p1], pid1)
	}

	// Portmap, as protocol/client asks it.
	resp, err := http.Get("http://" + h + "/v1/portmap?brick=" + p1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !regexp.MustCompile(`^\{"port":49\d{3}\}`).Match(body) {
		t.Errorf("portmap: %d %s", resp.StatusCode, body)
	}
	if resp, err := http.Get("http://" + h + "/v1/portmap?brick=/nope"); err != nil || resp.StatusCode != 404 {
		t.Errorf("portmap of an unknown brick: %v %v", resp, err)
	}

	// The volfile and its long poll.
	vf, ver := getVolfile(t, h, "bv", "")
	if !strings.Contains(vf, "option remote-subvolume "+p1) || !strings.Contains(vf, "type protocol/client") {
		t.Errorf("volfile:\n%s", vf)
	}
	changed := make(chan string, 1)
	go func() {
		v, _ := getVolfile(t, h, "bv", ver)
		changed <- v
	}()
	mustGl(t, h, "volume", "set", "bv", "network.ping-timeout", "17")
	if v := <-changed; !strings.Contains(v, "ping-timeout 17") {
		t.Errorf("volfile after set:\n%s", v)
	}

	// Brick options reach running bricks: new volfile, then SIGHUP.
	mustGl(t, h, "volume", "set", "bv", "auth.allow", "127.0.0.5")
	reloaded := filepath.Join(dir, "lib", "vols", "bv", "bv."+ip+"."+strings.ReplaceAll(strings.Trim(p1, "/"), "/", "-")+".vol.reloaded")
	eventually(t, "brick reloaded", func() error {
		b, err := os.ReadFile(reloaded)
		if err != nil || !strings.Contains(string(b), "127.0.0.5") {
			return fmt.Errorf("%v: %s", err, b)
		}
		return nil
	})

	// A killed brick stays down until start force.
	syscall.Kill(pid1, syscall.SIGKILL)
	eventually(t, "brick seen down", func() error {
		if st := online(t, h, "bv"); len(st) != 1 {
			return fmt.Errorf("online: %v", st)
		}
		return nil
	})
	if out, err := gl(t, h, "volume", "start", "bv"); err == nil || out != "volume start: bv: failed: Volume bv already started\n" {
		t.Errorf("start of a started volume: %q", out)
	}
	mustGl(t, h, "volume", "start", "bv", "force")
	before := online(t, h, "bv")
	if len(before) != 2 {
		t.Fatalf("after start force: %v", before)
	}

	// glusterd restarts; the bricks keep running and are adopted.
	n.Stop()
	n = mgmttest.StartIn(t, dir, ip, port, opts)
	if after := online(t, h, "bv"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("bricks after glusterd restart: %v, before %v", after, before)
	}
	mustGl(t, h, "volume", "stop", "bv")
	for b, pid := range before {
		p, _ := strconv.Atoi(pid)
		if alive(p) {
			t.Errorf("brick %s (pid %d) still runs after stop", b, p)
		}
	}
	if out, err := gl(t, h, "volume", "status", "bv"); err == nil || out != "Volume bv is not started\n" {
		t.Errorf("status of a stopped volume: %q", out)
	}
}

func pidOfQuiet(dir, vol, host, path string) int {
	b, err := os.ReadFile(filepath.Join(dir, "run", "vols", vol, host+"-"+strings.ReplaceAll(strings.Trim(path, "/"), "/", "-")+".pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func getVolfile(t *testing.T, host, vol, wait string) (string, string) {
	u := "http://" + host + "/v1/volfile?id=" + vol
	if wait != "" {
		u += "&wait=" + wait
	}
	c := &http.Client{Timeout: 90 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Error(err)
		return "", ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Errorf("volfile %s: %d %s", vol, resp.StatusCode, b)
	}
	return string(b), resp.Header.Get("X-Volfile-Version")
}
