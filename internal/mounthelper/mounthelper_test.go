package mounthelper

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"node01:/vol1", "/mnt"},
			[]string{"--volfile-server=node01", "--volfile-id=vol1", "/mnt"}},
		{[]string{"node01:vol1", "/mnt", "-o", "rw,defaults,_netdev"},
			[]string{"--volfile-server=node01", "--volfile-id=vol1", "/mnt"}},
		// mount(8) may put options first.
		{[]string{"-o", "backupvolfile-server=node02", "node01:/vol1", "/mnt"},
			[]string{"--volfile-server=node01", "--volfile-server=node02", "--volfile-id=vol1", "/mnt"}},
		{[]string{"127.0.0.2:/v", "/m", "-o", "backup-volfile-servers=127.0.0.3:127.0.0.4:127.0.0.2,log-file=/tmp/l,log-level=DEBUG"},
			[]string{"--volfile-server=127.0.0.2", "--volfile-server=127.0.0.3", "--volfile-server=127.0.0.4",
				"--volfile-id=v", "--log-file=/tmp/l", "--log-level=DEBUG", "/m"}},
		{[]string{"h1,h2:/v", "/m", "-o", "ro,attribute-timeout=0,x-systemd.automount,noatime,fopen-keep-cache"},
			[]string{"--volfile-server=h1", "--volfile-server=h2", "--volfile-id=v", "--read-only",
				"--attribute-timeout=0", "--fopen-keep-cache", "/m"}},
		{[]string{"[::1]:/v", "/m", "-sn", "-ovolfile-server-port=24008"},
			[]string{"--volfile-server=::1", "--volfile-id=v", "--volfile-server-port=24008", "/m"}},
		{[]string{"h:/v", "/m", "-r", "-t", "glusterfs"},
			[]string{"--volfile-server=h", "--volfile-id=v", "--read-only", "/m"}},
	} {
		r, err := Parse(tc.args)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.args, err)
			continue
		}
		if got := r.Command(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q).Command() =\n %q\nwant\n %q", tc.args, got, tc.want)
		}
	}
	r, err := Parse([]string{"-fv", "h:/v", "/m"})
	if err != nil || !r.Fake || !r.Verbose {
		t.Errorf("-fv: %+v, %v", r, err)
	}
	for _, bad := range [][]string{
		{"h:/v"}, {"nohost", "/m"}, {"h:/", "/m"}, {":/v", "/m"}, {"h:/v/sub", "/m"},
		{"h:/v", "/m", "-o"}, {"h:/v", "/m", "-Q"}, {"h:/v", "/m", "-o", "log-file"},
	} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestFindGlusterfsOnPath(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "glusterfs")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	got, err := FindGlusterfs()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary's own directory has no glusterfs, so PATH wins.
	if got != p {
		t.Errorf("FindGlusterfs = %q, want %q", got, p)
	}
}
