package volfile

import (
	"strings"
	"testing"
)

const sample = `volume test-client-0
    type protocol/client
    option remote-host 127.0.0.2
    option remote-subvolume /bricks/b1
    option transport-type tcp
end-volume

volume test-dht
    type cluster/distribute
    option lookup-unhashed on
    subvolumes test-client-0
end-volume
`

func TestRoundTrip(t *testing.T) {
	f, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if f.Top().Name != "test-dht" || f.Top().Subvolumes[0] != "test-client-0" {
		t.Fatalf("top = %+v", f.Top())
	}
	if v, _ := f.Volume("test-client-0").Option("remote-subvolume"); v != "/bricks/b1" {
		t.Fatalf("remote-subvolume = %q", v)
	}
	if got := f.String(); got != sample {
		t.Fatalf("String() =\n%s\nwant\n%s", got, sample)
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{
		"",
		"volume a\n",
		"volume a\ntype x/y\nsubvolumes b\nend-volume\n",
		"type x/y\n",
		"volume a\nend-volume\n",
		"volume a\ntype x/y\nend-volume\nvolume a\ntype x/y\nend-volume\n",
		"volume a\nvolume b\n",
		"frobnicate\n",
	} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Fuzz(func(t *testing.T, s string) {
		vf, err := Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		if _, err := Parse(strings.NewReader(vf.String())); err != nil {
			t.Fatalf("reparse of formatted volfile: %v", err)
		}
	})
}
