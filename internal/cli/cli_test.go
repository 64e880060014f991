package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/mgmt/mgmttest"
)

// run calls the CLI in-process and returns its exit code, stdout, stderr.
func run(host string, args ...string) (int, string, string) {
	var out, errw bytes.Buffer
	code := Main(append([]string{"--mode=script", "--remote-host=" + host}, args...), strings.NewReader(""), &out, &errw)
	return code, out.String(), errw.String()
}

func onRootFS(path string) bool {
	var a, b syscall.Stat_t
	return syscall.Stat(path, &a) == nil && syscall.Stat("/", &b) == nil && a.Dev == b.Dev
}

// TestInvalid runs invalid invocations against a real glusterd: each must
// print one line on stderr, nothing on stdout, exit 1, and leave the pool
// configuration as it was.
func TestInvalid(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (trusted.* xattrs)")
	}
	const ip = "127.0.0.2"
	n := mgmttest.Start(t, ip, mgmttest.FreePort(t, ip))
	h := n.Addr
	dir := t.TempDir()
	b := func(name string) string { return ip + ":" + filepath.Join(dir, name) }

	if code, out, errs := run(h, "volume", "create", "v1", b("v1b"), "force"); code != 0 {
		t.Fatalf("create v1: %d %s %s", code, out, errs)
	}
	used := filepath.Join(dir, "used")
	if err := os.MkdirAll(used, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(used, "trusted.glusterfs.volume-id", make([]byte, 16), 0); err != nil {
		t.Fatal(err)
	}

	const exact, prefix = false, true
	cases := []struct {
		args   []string
		want   string
		prefix bool
	}{
		{[]string{"foo"}, "unrecognized word: foo (position 0)", exact},
		{[]string{"volume", "foo"}, "unrecognized word: foo (position 1)", exact},
		{[]string{"peer", "foo"}, "unrecognized word: foo (position 1)", exact},
		{[]string{"--foo", "volume", "info"}, "unrecognized option --foo", exact},
		{[]string{"--mode=interactive", "volume", "info"}, "unrecognized option --mode=interactive", exact},
		{[]string{"peer", "probe"}, "Usage: peer probe { <HOSTNAME> | <IP-address> }", exact},
		{[]string{"peer", "probe", "a", "b"}, "Usage: peer probe { <HOSTNAME> | <IP-address> }", exact},
		{[]string{"peer", "probe", "127.0.0.9"}, "peer probe: failed: Probe returned with Transport endpoint is not connected", exact},
		{[]string{"peer", "detach"}, "Usage: peer detach { <HOSTNAME> | <IP-address> } [force]", exact},
		{[]string{"peer", "detach", "127.0.0.9"}, "peer detach: failed: 127.0.0.9 is not part of cluster", exact},
		{[]string{"peer", "detach", ip}, "peer detach: failed: " + ip + " is localhost", exact},
		{[]string{"peer", "status", "x"}, "Usage: peer status", exact},
		{[]string{"pool", "list", "x"}, "Usage: pool list", exact},
		{[]string{"volume", "create"}, "Usage: " + createUsage, exact},
		{[]string{"volume", "create", "v2"}, "Usage: " + createUsage, exact},
		{[]string{"volume", "create", "all", b("x")}, `volume create: all: failed: "all" cannot be the name of a volume.`, exact},
		{[]string{"volume", "create", "a/b", b("x")}, `volume create: a/b: failed: Volume name should not contain "/" character.`, exact},
		{[]string{"volume", "create", "v$", b("x")}, `volume create: v$: failed: Volume name should not contain "$" character. Volume names can only contain alphanumeric, '-' and '_' characters.`, exact},
		{[]string{"volume", "create", "v2", "replica", "1", b("x"), b("y")}, "volume create: v2: failed: replica count should be greater than 1", exact},
		{[]string{"volume", "create", "v2", "replica", "two", b("x"), b("y")}, "volume create: v2: failed: replica count should be greater than 1", exact},
		{[]string{"volume", "create", "v2", "replica", "2", "replica", "2", b("x"), b("y")}, "volume create: v2: failed: replica option given twice", exact},
		{[]string{"volume", "create", "v2", "replica", "2", b("x"), "force"}, "volume create: v2: failed: number of bricks is not a multiple of replica count", exact},
		{[]string{"volume", "create", "v2", "replica", "3", b("x"), b("y"), "force"}, "volume create: v2: failed: number of bricks is not a multiple of replica count", exact},
		{[]string{"volume", "create", "v2", "arbiter", "1", b("x"), b("y")}, "volume create: v2: failed: arbiter option must be preceded by replica option.", exact},
		{[]string{"volume", "create", "v2", "replica", "2", "arbiter", "2", b("x"), b("y")}, "volume create: v2: failed: For arbiter configuration, replica count must be 2 and arbiter count must be 1. The 3rd brick of the replica will be the arbiter", exact},
		{[]string{"volume", "create", "v2", "disperse", "2", b("x"), b("y")}, "volume create: v2: failed: disperse count must be greater than 2", exact},
		{[]string{"volume", "create", "v2", "disperse", "3", "redundancy", "2", b("x"), b("y"), b("z")}, "volume create: v2: failed: redundancy must be greater than or equal to 1 and less than 2 for a disperse 3 volume", exact},
		{[]string{"volume", "create", "v2", "replica", "2", "disperse", "3", b("x"), b("y"), b("z")}, "volume create: v2: failed: replicated-dispersed volume is not supported", exact},
		{[]string{"volume", "create", "v2", "stripe", "1", b("x"), b("y")}, "volume create: v2: failed: stripe count should be greater than 1", exact},
		{[]string{"volume", "create", "v2", "stripe", "2", b("x"), b("y"), b("z"), "force"}, "volume create: v2: failed: number of bricks given doesn't match required count", exact},
		{[]string{"volume", "create", "v2", "transport", "udp", b("x")}, "volume create: v2: failed: incorrect transport protocol specified: udp", exact},
		{[]string{"volume", "create", "v2", "transport", "tcp", "transport", "tcp", b("x")}, "volume create: v2: failed: 'transport' option given more than one time", exact},
		{[]string{"volume", "create", "v2", "transport", "rdma", b("x"), "force"}, "volume create: v2: failed: transport-type rdma is not supported by this build; use tcp", exact},
		{[]string{"volume", "create", "v2", "nohost"}, "volume create: v2: failed: Wrong brick type: nohost, use <HOSTNAME>:<export-dir-abs-path>", exact},
		{[]string{"volume", "create", "v2", ip + ":relative"}, "volume create: v2: failed: Wrong brick type: " + ip + ":relative, use <HOSTNAME>:<export-dir-abs-path>", exact},
		{[]string{"volume", "create", "v2", "localhost:/b"}, "volume create: v2: failed: Please provide a valid hostname/ip other than localhost, 127.0.0.1 or loopback address (0.0.0.0 to 0.255.255.255).", exact},
		{[]string{"volume", "create", "v2", "127.0.0.1:/b"}, "volume create: v2: failed: Please provide a valid hostname/ip other than localhost, 127.0.0.1 or loopback address (0.0.0.0 to 0.255.255.255).", exact},
		{[]string{"volume", "create", "v2", b("x"), b("x"), "force"}, "volume create: v2: failed: Found duplicate exports " + b("x"), exact},
		{[]string{"volume", "create", "v2", "127.0.0.9:/b", "force"}, "volume create: v2: failed: Host 127.0.0.9 is not in 'Peer in Cluster' state", exact},
		{[]string{"volume", "create", "v1", b("other"), "force"}, "volume create: v1: failed: Volume v1 already exists", exact},
		{[]string{"volume", "create", "v2", b("v1b/sub"), "force"}, "volume create: v2: failed: Brick: " + b("v1b/sub") + " not available. Brick may be containing or be contained by an existing brick.", exact},
		{[]string{"volume", "create", "v2", b(""), "force"}, "volume create: v2: failed: Brick: " + b("") + " not available. Brick may be containing or be contained by an existing brick.", exact},
		{[]string{"volume", "create", "v2", b("x"), b("x/y"), "force"}, "volume create: v2: failed: Brick: " + b("x/y") + " not available. Brick may be containing or be contained by an existing brick.", exact},
		{[]string{"volume", "create", "v2", b("used"), "force"}, "volume create: v2: failed: " + used + " is already part of a volume", exact},
		{[]string{"volume", "create", "v2", b("used/sub"), "force"}, "volume create: v2: failed: parent directory " + used + " is already part of a volume", exact},
		{[]string{"volume", "create", "v2", "replica", "2", b("x"), b("y")}, "volume create: v2: failed: Multiple bricks of a replicate volume are present on the same server. This setup is not optimal. Bricks should be on different nodes to have best fault tolerant configuration. Use 'force' at the end of the command if you want to override this behavior.", exact},
		{[]string{"volume", "start"}, "Usage: volume start <VOLNAME> [force]", exact},
		{[]string{"volume", "start", "v1", "now"}, "Usage: volume start <VOLNAME> [force]", exact},
		{[]string{"volume", "start", "nope"}, "volume start: nope: failed: Volume nope does not exist", exact},
		{[]string{"volume", "stop", "v1"}, "volume stop: v1: failed: Volume v1 is not in the started state", exact},
		{[]string{"volume", "stop", "nope"}, "volume stop: nope: failed: Volume nope does not exist", exact},
		{[]string{"volume", "delete"}, "Usage: volume delete <VOLNAME>", exact},
		{[]string{"volume", "delete", "nope"}, "volume delete: nope: failed: Volume nope does not exist", exact},
		{[]string{"volume", "info", "nope"}, "Volume nope does not exist", exact},
		{[]string{"volume", "info", "a", "b"}, "Usage: volume info [all|<VOLNAME>]", exact},
		{[]string{"volume", "status", "nope"}, "Volume nope does not exist", exact},
		{[]string{"volume", "status", "v1"}, "Volume v1 is not started", exact},
		{[]string{"volume", "status", "v1", "clients"}, "clients is not a valid status option", exact},
		{[]string{"volume", "status", "all", ip + ":/b"}, `Cannot specify brick/nfs for "all"`, exact},
		{[]string{"volume", "status", "v1", "detail", "detail"}, "detail is not a valid status option", exact},
		{[]string{"volume", "list", "x"}, "Usage: volume list", exact},
		{[]string{"volume", "set", "v1", "network.ping-timeout"}, "Usage: volume set <VOLNAME> <KEY> <VALUE>", exact},
		{[]string{"volume", "set", "nope", "network.ping-timeout", "10"}, "volume set: failed: Volume nope does not exist", exact},
		{[]string{"volume", "set", "v1", "network.ping-timeout", "2000"}, "volume set: failed: '2000' in 'option network.ping-timeout 2000' is out of range [0 - 1013]", exact},
		{[]string{"volume", "set", "v1", "network.ping-timeout", "soon"}, "volume set: failed: ", prefix},
		{[]string{"volume", "set", "v1", "no.such-option", "1"}, "volume set: failed: ", prefix},
		{[]string{"volume", "set", "v1", "performance.flush-behind", "maybe"}, "volume set: failed: ", prefix},
		{[]string{"volume", "get", "v1"}, "Usage: volume get <VOLNAME|all> <key|all>", exact},
		{[]string{"volume", "get", "nope", "all"}, "volume get option: failed: Volume nope does not exist", exact},
		{[]string{"volume", "get", "v1", "no.such-option"}, "volume get option: failed: ", prefix},
		{[]string{"volume", "reset"}, "Usage: volume reset <VOLNAME> [option] [force]", exact},
		{[]string{"volume", "reset", "nope"}, "volume reset: failed: Volume nope does not exist", exact},
		{[]string{"volume", "reset", "v1", "no.such-option"}, "volume reset: failed: ", prefix},
	}
	if onRootFS(dir) {
		cases = append(cases, struct {
			args   []string
			want   string
			prefix bool
		}{[]string{"volume", "create", "v2", b("x")}, "volume create: v2: failed: The brick " + b("x") + " is being created in the root partition. It is recommended that you don't use the system's root partition for storage backend. Or use 'force' at the end of the command if you want to override this behavior.", exact})
	}
	snapshot := func() string {
		st := n.State()
		b, err := json.Marshal([]any{st.Peers, st.Volumes})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	before := snapshot()
	for _, c := range cases {
		t.Run(strings.Join(c.args, "_"), func(t *testing.T) {
			code, out, errs := run(h, c.args...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			line, ok := strings.CutSuffix(errs, "\n")
			if !ok || strings.Contains(line, "\n") {
				t.Errorf("stderr %q is not one line", errs)
			}
			if c.prefix && (!strings.HasPrefix(line, c.want) || len(line) == len(c.want)) || !c.prefix && line != c.want {
				t.Errorf("stderr\n%q\nwant\n%q", line, c.want)
			}
			if after := snapshot(); after != before {
				t.Errorf("pool changed:\n%s\n%s", before, after)
			}
		})
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, name := range []string{"x", "y", "z", "used/sub"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("refused create left brick directory %s", name)
		}
	}
}

// TestNoDaemon: without glusterd every command fails with GlusterFS's
// message, and the print options answer anyway.
func TestNoDaemon(t *testing.T) {
	host := "127.0.0.9:" + "1"
	for _, args := range [][]string{{"volume", "info"}, {"peer", "status"}, {"volume", "create", "v", "127.0.0.9:/b"}} {
		code, out, errs := run(host, args...)
		if code != 1 || out != "" || errs != "Connection failed. Please check if gluster daemon is operational.\n" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	for arg, want := range map[string]string{
		"--print-logdir":       DefaultLogDir + "\n",
		"--print-statedumpdir": DefaultStatedumpDir + "\n",
		"--version":            "glusterfs 11.1\nRepository revision: https://github.com/gluster-go/gluster-go\n",
	} {
		var out, errw bytes.Buffer
		if code := Main([]string{arg}, strings.NewReader(""), &out, &errw); code != 0 || out.String() != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", arg, code, out.String(), errw.String())
		}
	}
}
