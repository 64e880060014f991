package volopt

import (
	"strings"
	"testing"
)

func TestLookupAliases(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"performance.cache-size", "performance.cache-size"},
		{"cache-size", "performance.cache-size"},
		{"ping-timeout", "network.ping-timeout"},
		{" auth.allow ", "auth.allow"},
		{"quorum-type", "cluster.quorum-type"},
	} {
		o, err := Lookup(tc.in)
		if err != nil || o.Key != tc.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tc.in, o.Key, err, tc.want)
		}
	}
	if _, err := Lookup("eager-lock"); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("Lookup(eager-lock) = %v, want ambiguous (cluster. and disperse.)", err)
	}
	_, err := Lookup("performance.cache-sise")
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "performance.cache-size") {
		t.Errorf("misspelt key: %v, want 'does not exist' with a suggestion", err)
	}
}

func TestDesignKeysKnown(t *testing.T) {
	// Every key DESIGN §1 and the brief name must be in the table.
	for _, k := range []string{
		"auth.allow", "auth.reject", "network.ping-timeout", "performance.cache-size",
		"performance.cache-max-file-size", "performance.cache-min-file-size", "performance.flush-behind",
		"performance.write-behind", "performance.write-behind-window-size", "performance.read-ahead",
		"performance.io-cache", "performance.quick-read", "performance.stat-prefetch",
		"performance.io-thread-count", "cluster.quorum-type", "cluster.quorum-count",
		"cluster.self-heal-daemon", "cluster.favorite-child-policy", "cluster.min-free-disk",
		"cluster.lookup-unhashed", "cluster.data-self-heal", "cluster.metadata-self-heal",
		"cluster.entry-self-heal", "nfs.disable", "user.smb", "features.quota",
		"diagnostics.latency-measurement", "diagnostics.count-fop-hits", "diagnostics.brick-log-level",
		"diagnostics.client-log-level", "storage.owner-uid", "storage.owner-gid",
		"server.allow-insecure", "transport.address-family",
	} {
		if _, err := Lookup(k); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := []struct{ key, val, full, norm string }{
		{"network.ping-timeout", "22", "network.ping-timeout", "22"},
		{"ping-timeout", " 10s ", "network.ping-timeout", "10"},
		{"performance.cache-size", "128mb", "performance.cache-size", "128MB"},
		{"performance.cache-max-file-size", "100MB", "performance.cache-max-file-size", "100MB"},
		{"performance.flush-behind", "OFF", "performance.flush-behind", "off"},
		{"user.smb", "enable", "user.smb", "enable"},
		{"cluster.quorum-type", "Auto", "cluster.quorum-type", "auto"},
		{"cluster.quorum-count", "2", "cluster.quorum-count", "2"},
		{"auth.allow", "192.168.199.102", "auth.allow", "192.168.199.102"},
		{"auth.allow", "127.0.0.5, 10.1.*.*,10.0.0.0/8,host-1.example.com", "auth.allow", "127.0.0.5,10.1.*.*,10.0.0.0/8,host-1.example.com"},
		{"cluster.min-free-disk", "20%", "cluster.min-free-disk", "20%"},
		{"cluster.min-free-disk", "5gb", "cluster.min-free-disk", "5GB"},
		{"diagnostics.brick-log-level", "debug", "diagnostics.brick-log-level", "DEBUG"},
		{"storage.owner-uid", "36", "storage.owner-uid", "36"},
	}
	for _, tc := range ok {
		full, norm, err := Validate(tc.key, tc.val)
		if err != nil || full != tc.full || norm != tc.norm {
			t.Errorf("Validate(%q, %q) = %q, %q, %v; want %q, %q", tc.key, tc.val, full, norm, err, tc.full, tc.norm)
		}
	}
	bad := []struct{ key, val, msg string }{
		{"network.ping-timeout", "1014", "out of range [0 - 1013]"},
		{"network.ping-timeout", "abc", "invalid time format"},
		{"performance.cache-size", "1KB", "out of range"},
		{"performance.cache-size", "lots", "invalid number format"},
		{"performance.flush-behind", "maybe", "not a valid boolean"},
		{"cluster.quorum-type", "most", "possible options are none, auto, fixed"},
		{"auth.allow", "192.168.1.1;rm", "not a valid internet address"},
		{"auth.allow", "10.0.0.0/33", "CIDR"},
		{"auth.allow", " , ", "empty"},
		{"cluster.min-free-disk", "120%", "percentage"},
		{"no.such-key", "1", "does not exist"},
	}
	for _, tc := range bad {
		_, _, err := Validate(tc.key, tc.val)
		if err == nil || !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Validate(%q, %q) = %v; want one line containing %q", tc.key, tc.val, err, tc.msg)
		}
	}
}

func TestDefaultsValidate(t *testing.T) {
	// Each default must pass its own validation, or "volume reset" would
	// store a value "volume set" refuses.
	for _, o := range All() {
		if o.Default == "" {
			continue
		}
		if _, err := o.normalize(o.Default); err != nil {
			t.Errorf("%s default %q: %v", o.Key, o.Default, err)
		}
		if o.Kind == Enum && len(o.Values) == 0 {
			t.Errorf("%s: enum without values", o.Key)
		}
		if o.Description == "" {
			t.Errorf("%s: no description", o.Key)
		}
	}
	if d, ok := Default("network.ping-timeout"); !ok || d != "42" {
		t.Errorf("Default(ping-timeout) = %q, %v", d, ok)
	}
	if _, ok := Default("nope"); ok {
		t.Error("Default(nope) found")
	}
}

func TestAllSortedAndCopied(t *testing.T) {
	all := All()
	for i := 1; i < len(all); i++ {
		if all[i-1].Key >= all[i].Key {
			t.Fatalf("All not sorted at %s, %s", all[i-1].Key, all[i].Key)
		}
	}
	for i := range all {
		all[i].Values = append(all[i].Values[:0:0], "x")
		all[i].Targets = nil
	}
	if o, _ := Lookup("performance.cache-size"); len(o.Targets) != 2 {
		t.Errorf("mutating All() changed the table: %+v", o.Targets)
	}
	q, _ := Lookup("cluster.quorum-type")
	q.Values[0] = "x"
	if q, _ := Lookup("cluster.quorum-type"); q.Values[0] != "none" {
		t.Errorf("quorum-type values changed: %v", q.Values)
	}
}

func TestSwitch(t *testing.T) {
	o, _ := Lookup("performance.write-behind")
	if tg, ok := o.Switch(); !ok || tg.Layer != "performance/write-behind" || tg.Graph != ClientGraph {
		t.Errorf("write-behind switch = %+v, %v", tg, ok)
	}
	o, _ = Lookup("performance.flush-behind")
	if _, ok := o.Switch(); ok {
		t.Error("flush-behind is not a switch")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"4096": 4096, "512KB": 512 << 10, "128MB": 128 << 20, "1gb": 1 << 30, "2T": 2 << 40, "7B": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-1MB", "1.5GB", "99999999999PB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

func TestMatchAddr(t *testing.T) {
	for _, tc := range []struct {
		list, addr string
		want       bool
	}{
		{"*", "127.0.0.2", true},
		{"127.0.0.5", "127.0.0.5", true},
		{"127.0.0.5", "127.0.0.50", false},
		{"192.168.*.*", "192.168.1.7", true},
		{"192.168.*", "192.169.1.7", false},
		{"10.0.0.0/8,127.0.0.3", "10.2.3.4", true},
		{"10.0.0.0/8,127.0.0.3", "127.0.0.3", true},
		{"10.0.0.0/8,127.0.0.3", "127.0.0.4", false},
		{"::1", "::1", true},
		{"", "127.0.0.1", false},
	} {
		if got := MatchAddr(tc.list, tc.addr); got != tc.want {
			t.Errorf("MatchAddr(%q, %q) = %v", tc.list, tc.addr, got)
		}
	}
}

func TestCheck(t *testing.T) {
	if err := Check(map[string]string{"performance.cache-min-file-size": "2MB", "performance.cache-max-file-size": "1MB"}); err == nil {
		t.Error("min > max accepted")
	}
	if err := Check(map[string]string{"cache-min-file-size": "1MB", "performance.cache-max-file-size": "2MB"}); err != nil {
		t.Error(err)
	}
	if err := Check(map[string]string{"performance.cache-min-file-size": "2MB"}); err != nil {
		t.Errorf("max 0 means unlimited: %v", err)
	}
}

func TestCheckInvalidationTimeouts(t *testing.T) {
	for _, c := range []struct {
		opts map[string]string
		ok   bool
	}{
		{map[string]string{}, true},
		{map[string]string{"performance.md-cache-timeout": "600"}, false},
		{map[string]string{"md-cache-timeout": "600", "features.cache-invalidation-timeout": "600"}, true},
		{map[string]string{"features.cache-invalidation-timeout": "30"}, false}, // nl-cache-timeout 60
		{map[string]string{"features.cache-invalidation-timeout": "30", "performance.nl-cache-timeout": "30"}, true},
		{map[string]string{"features.cache-invalidation-timeout": "30", "performance.nl-cache": "off"}, true},
		{map[string]string{"performance.md-cache-timeout": "600", "performance.cache-invalidation": "off"}, true},
		{map[string]string{"performance.md-cache-timeout": "600", "features.cache-invalidation": "off"}, true},
	} {
		err := Check(c.opts)
		if (err == nil) != c.ok {
			t.Errorf("%v: %v", c.opts, err)
		}
	}
}
