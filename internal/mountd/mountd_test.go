package mountd

import "testing"

func TestSplitVolumeID(t *testing.T) {
	for _, c := range []struct{ id, vol, sub string }{
		{"vol", "vol", ""},
		{"/vol", "vol", ""},
		{"vol/a/b/", "vol", "/a/b"},
		{"vol/", "vol", ""},
	} {
		if vol, sub := splitVolumeID(c.id); vol != c.vol || sub != c.sub {
			t.Errorf("splitVolumeID(%q) = %q %q, want %q %q", c.id, vol, sub, c.vol, c.sub)
		}
	}
}

func TestLogFileFor(t *testing.T) {
	if got := LogFileFor("/var/log/glusterfs", "/mnt/gluster/vol1/"); got != "/var/log/glusterfs/mnt-gluster-vol1.log" {
		t.Errorf("LogFileFor = %q", got)
	}
}
