package volgen

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gluster-go/gluster-go/internal/volfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// allTypes is a build with every layer GlusterFS has, plus our own.
func allTypes() map[string]bool {
	t := map[string]bool{}
	for _, s := range []string{
		"protocol/client", "protocol/server", "debug/io-stats", "storage/posix", "features/locks",
		"cluster/distribute", "cluster/replicate", "cluster/disperse", "cluster/stripe",
		"performance/write-behind", "performance/read-ahead", "performance/readdir-ahead",
		"performance/io-cache", "performance/quick-read", "performance/open-behind",
		"performance/md-cache", "performance/io-threads", "features/changelog", "features/index",
		"features/marker", "features/quota", "features/read-only", "features/worm", "features/shard",
		"features/arbiter", "features/upcall", "performance/nl-cache", "performance/lookup-ahead",
	} {
		t[s] = true
	}
	return t
}

// minimalTypes is today's build: bricks and the wire protocol, plus dht.
func minimalTypes() map[string]bool {
	return map[string]bool{
		"protocol/client": true, "protocol/server": true, "debug/io-stats": true,
		"storage/posix": true, "features/locks": true, "cluster/distribute": true,
	}
}

const id = "5f2b6c3e-9d1a-4c8e-b0a7-1e2d3c4b5a69"

func bricks(n int) []Brick {
	var out []Brick
	for i := range n {
		out = append(out, Brick{Host: fmt.Sprintf("127.0.0.%d", 2+i%3), Path: fmt.Sprintf("/bricks/b%d", i+1)})
	}
	return out
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// reparse checks that the output is valid volfile grammar and that the
// parse round-trips.
func reparse(t *testing.T, f *volfile.File) string {
	t.Helper()
	s := f.String()
	g, err := volfile.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("generated volfile does not parse: %v\n%s", err, s)
	}
	if g.String() != s {
		t.Fatalf("volfile does not round-trip")
	}
	return s
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		v    Volume
	}{
		{"single", Volume{Bricks: bricks(1)}},
		{"distribute", Volume{Bricks: bricks(3)}},
		{"replicate", Volume{Bricks: bricks(2), ReplicaCount: 2}},
		{"dist-replicate", Volume{Bricks: bricks(4), ReplicaCount: 2}},
		{"arbiter", Volume{Bricks: bricks(3), ReplicaCount: 3, ArbiterCount: 1}},
		{"stripe", Volume{Bricks: bricks(3), StripeCount: 3}},
		{"striped-replicate", Volume{Bricks: bricks(8), StripeCount: 2, ReplicaCount: 2}},
		{"disperse", Volume{Bricks: bricks(3), DisperseCount: 3, RedundancyCount: 1}},
		{"dist-disperse", Volume{Bricks: bricks(6), DisperseCount: 3, RedundancyCount: 1}},
		{"options", Volume{Bricks: bricks(2), ReplicaCount: 2, Options: map[string]string{
			"auth.allow":                      "127.0.0.5,10.0.0.*",
			"auth.reject":                     "10.0.0.9",
			"network.ping-timeout":            "22",
			"cache-size":                      "128MB",
			"performance.cache-max-file-size": "100MB",
			"performance.flush-behind":        "off",
			"performance.read-ahead":          "off",
			"performance.quick-read":          "disable",
			"cluster.quorum-type":             "fixed",
			"cluster.quorum-count":            "2",
			"diagnostics.brick-log-level":     "DEBUG",
			"storage.owner-uid":               "36",
			"features.quota":                  "on",
			"nfs.disable":                     "on",
		}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.v
			v.Name, v.ID = "vol", id
			env := Env{Types: allTypes()}
			c, warns, err := ClientVolfile(&v, env)
			if err != nil {
				t.Fatal(err)
			}
			if len(warns) != 0 {
				t.Errorf("warnings: %q", warns)
			}
			golden(t, tc.name+".client.vol", reparse(t, c))
			b, warns, err := BrickVolfile(&v, 0, env)
			if err != nil {
				t.Fatal(err)
			}
			if len(warns) != 0 {
				t.Errorf("brick warnings: %q", warns)
			}
			golden(t, tc.name+".brick0.vol", reparse(t, b))
		})
	}
}

// TestMinimalBuild checks that a build without the cluster and
// performance layers gets volfiles it can build, or a clear refusal.
func TestMinimalBuild(t *testing.T) {
	env := Env{Types: minimalTypes()}
	v := Volume{Name: "vol", ID: id, Bricks: bricks(2)}
	c, _, err := ClientVolfile(&v, env)
	if err != nil {
		t.Fatal(err)
	}
	onlyTypes(t, c, env.Types)
	golden(t, "minimal-distribute.client.vol", reparse(t, c))
	b, _, err := BrickVolfile(&v, 1, env)
	if err != nil {
		t.Fatal(err)
	}
	onlyTypes(t, b, env.Types)
	golden(t, "minimal-distribute.brick1.vol", reparse(t, b))

	r := Volume{Name: "vol", ID: id, Bricks: bricks(2), ReplicaCount: 2}
	_, _, err = ClientVolfile(&r, env)
	if err == nil || err.Error() != "replicate volumes need the cluster/replicate layer, which this build does not have yet" {
		t.Errorf("replicate without afr: %v", err)
	}
	env.AllowFallback = true
	c, warns, err := ClientVolfile(&r, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "falls back to distribute") {
		t.Errorf("fallback warnings = %q", warns)
	}
	onlyTypes(t, c, env.Types)
	golden(t, "fallback-replicate.client.vol", reparse(t, c))

	for _, v := range []Volume{
		{Bricks: bricks(3), DisperseCount: 3, RedundancyCount: 1},
		{Bricks: bricks(2), StripeCount: 2},
	} {
		v.Name, v.ID = "vol", id
		if _, _, err := ClientVolfile(&v, env); err == nil || !strings.Contains(err.Error(), "which this build does not have yet") {
			t.Errorf("%s without its layer: %v", v.TypeName(), err)
		}
	}

	q := Volume{Name: "vol", ID: id, Bricks: bricks(1), Options: map[string]string{"features.quota": "on", "features.shard": "on"}}
	_, warns, err = BrickVolfile(&q, 0, env)
	if err != nil || len(warns) == 0 || !strings.Contains(strings.Join(warns, "\n"), "features/quota") {
		t.Errorf("quota without its layer: %q, %v", warns, err)
	}
	_, warns, err = ClientVolfile(&q, env)
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0], "features/shard") {
		t.Errorf("shard without its layer: %q, %v", warns, err)
	}

	if _, _, err := ClientVolfile(&v, Env{Types: map[string]bool{"debug/io-stats": true}}); err == nil {
		t.Error("build without protocol/client accepted")
	}
}

func onlyTypes(t *testing.T, f *volfile.File, types map[string]bool) {
	t.Helper()
	for _, v := range f.Volumes {
		if !types[v.Type] {
			t.Errorf("volume %s has type %s, not in the build", v.Name, v.Type)
		}
	}
}

func TestContractNames(t *testing.T) {
	v := Volume{Name: "gv0", ID: id, Bricks: bricks(4), ReplicaCount: 2, Options: map[string]string{"ping-timeout": "5"}}
	env := Env{Types: allTypes()}
	c, _, err := ClientVolfile(&v, env)
	if err != nil {
		t.Fatal(err)
	}
	if top := c.Top(); top.Name != "gv0" || top.Type != "debug/io-stats" {
		t.Errorf("top = %s (%s)", top.Name, top.Type)
	}
	cl := c.Volume("gv0-client-3")
	if cl == nil {
		t.Fatal("no gv0-client-3")
	}
	for k, want := range map[string]string{"remote-host": "127.0.0.2", "remote-subvolume": "/bricks/b4", "transport-type": "tcp", "ping-timeout": "5"} {
		if got, _ := cl.Option(k); got != want {
			t.Errorf("client option %s = %q, want %q", k, got, want)
		}
	}
	if r := c.Volume("gv0-replicate-1"); r == nil || strings.Join(r.Subvolumes, " ") != "gv0-client-2 gv0-client-3" {
		t.Errorf("gv0-replicate-1 = %+v", r)
	}
	if d := c.Volume("gv0-dht"); d == nil || d.Type != "cluster/distribute" || len(d.Subvolumes) != 2 {
		t.Errorf("gv0-dht = %+v", d)
	}

	b, _, err := BrickVolfile(&v, 2, env)
	if err != nil {
		t.Fatal(err)
	}
	srv := b.Top()
	if srv.Name != "gv0-server" || srv.Type != "protocol/server" || len(srv.Subvolumes) != 1 || srv.Subvolumes[0] != "/bricks/b3" {
		t.Errorf("server = %+v", srv)
	}
	if a, _ := srv.Option("auth.addr./bricks/b3.allow"); a != "*" {
		t.Errorf("default auth.allow = %q, want *", a)
	}
	if _, ok := srv.Option("auth.addr./bricks/b3.reject"); ok {
		t.Error("reject set without auth.reject")
	}
	if ios := b.Volume("/bricks/b3"); ios == nil || ios.Type != "debug/io-stats" {
		t.Errorf("io-stats named by the brick path: %+v", ios)
	}
	p := b.Volume("gv0-posix")
	if d, _ := p.Option("directory"); d != "/bricks/b3" {
		t.Errorf("posix directory = %q", d)
	}
	if d, _ := p.Option("volume-id"); d != id {
		t.Errorf("posix volume-id = %q", d)
	}
	if l := b.Volume("gv0-locks"); l == nil || l.Type != "features/locks" {
		t.Errorf("locks missing: %+v", l)
	}
}

func TestCheckAndInfo(t *testing.T) {
	for _, tc := range []struct {
		v          Volume
		typ, count string
	}{
		{Volume{Bricks: bricks(2)}, "Distribute", "2"},
		{Volume{Bricks: bricks(2), ReplicaCount: 1, StripeCount: 1}, "Distribute", "2"},
		{Volume{Bricks: bricks(2), ReplicaCount: 2}, "Replicate", "1 x 2 = 2"},
		{Volume{Bricks: bricks(4), ReplicaCount: 2}, "Distributed-Replicate", "2 x 2 = 4"},
		{Volume{Bricks: bricks(3), ReplicaCount: 3, ArbiterCount: 1}, "Replicate", "1 x (2 + 1) = 3"},
		{Volume{Bricks: bricks(3), StripeCount: 3}, "Stripe", "1 x 3 = 3"},
		{Volume{Bricks: bricks(6), StripeCount: 3}, "Distributed-Stripe", "2 x 3 = 6"},
		{Volume{Bricks: bricks(4), StripeCount: 2, ReplicaCount: 2}, "Striped-Replicate", "1 x 2 x 2 = 4"},
		{Volume{Bricks: bricks(3), DisperseCount: 3, RedundancyCount: 1}, "Disperse", "1 x (2 + 1) = 3"},
		{Volume{Bricks: bricks(6), DisperseCount: 3, RedundancyCount: 1}, "Distributed-Disperse", "2 x (2 + 1) = 6"},
	} {
		tc.v.Name = "v"
		if err := tc.v.Check(); err != nil {
			t.Errorf("%s: %v", tc.typ, err)
		}
		if got := tc.v.TypeName(); got != tc.typ {
			t.Errorf("TypeName = %q, want %q", got, tc.typ)
		}
		if got := tc.v.BrickCountString(); got != tc.count {
			t.Errorf("%s: BrickCountString = %q, want %q", tc.typ, got, tc.count)
		}
	}
	for _, tc := range []struct {
		v   Volume
		msg string
	}{
		{Volume{Name: "v", Bricks: bricks(3), ReplicaCount: 2}, "not a multiple of replica count"},
		{Volume{Name: "v"}, "no bricks"},
		{Volume{Name: "a/b", Bricks: bricks(1)}, "not valid"},
		{Volume{Name: "v", Bricks: []Brick{{Host: "h", Path: "rel"}}}, "ABSOLUTE"},
		{Volume{Name: "v", Bricks: []Brick{{Host: "h", Path: "/a", ID: "v-client-1"}, {Host: "h", Path: "/b"}}}, "client name v-client-1 is taken"},
		{Volume{Name: "v", Bricks: bricks(3), DisperseCount: 3, RedundancyCount: 2}, "redundancy"},
		{Volume{Name: "v", Bricks: bricks(2), ReplicaCount: 2, ArbiterCount: 1}, "arbiter"},
		{Volume{Name: "v", Bricks: append(bricks(1), bricks(1)...), ReplicaCount: 2}, "more than once"},
		{Volume{Name: "v", Bricks: bricks(1), Transport: "rdma"}, "not supported"},
	} {
		if err := tc.v.Check(); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Check(%+v) = %v, want %q", tc.v, err, tc.msg)
		}
		if _, _, err := ClientVolfile(&tc.v, Env{Types: allTypes()}); err == nil {
			t.Errorf("ClientVolfile accepted an invalid volume %+v", tc.v)
		}
	}
}

func TestUnknownOptionWarns(t *testing.T) {
	v := Volume{Name: "v", ID: id, Bricks: bricks(1), Options: map[string]string{"features.limit-usage": "/a:1GB"}}
	_, warns, err := ClientVolfile(&v, Env{Types: allTypes()})
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0], "features.limit-usage") {
		t.Errorf("unknown option: %q, %v", warns, err)
	}
}

// TestArbiterBrick: only the last brick of each set of an arbiter volume
// gets features/arbiter, right above posix.
func TestArbiterBrick(t *testing.T) {
	v := Volume{Name: "vol", ID: "5f2b6c3e-9d1a-4c8e-b0a7-1e2d3c4b5a69", Bricks: bricks(6), ReplicaCount: 3, ArbiterCount: 1}
	env := Env{Types: allTypes()}
	for i := range v.Bricks {
		f, _, err := BrickVolfile(&v, i, env)
		if err != nil {
			t.Fatal(err)
		}
		arb := f.Volume("vol-arbiter")
		if want := (i+1)%3 == 0; (arb != nil) != want {
			t.Fatalf("brick %d: arbiter layer %v, want %v", i, arb != nil, want)
		}
		if arb != nil {
			if len(arb.Subvolumes) != 1 || arb.Subvolumes[0] != "vol-posix" {
				t.Fatalf("arbiter over %v", arb.Subvolumes)
			}
			if i == 2 {
				golden(t, "arbiter.brick2.vol", reparse(t, f))
			}
		}
	}
}
