package contract

import (
	"strings"
	"testing"

	"github.com/gluster-go/gluster-go/internal/layers"
	"github.com/gluster-go/gluster-go/internal/volfile"
)

// TestVolfilesParse: both volfiles parse, name the layer types the build
// registers, and the client asks for the volume the brick serves.
func TestVolfilesParse(t *testing.T) {
	reg := layers.Registry()
	var served string
	for _, text := range []string{BrickVolfile("v", "/b", "id"), ClientVolfile("v", "127.0.0.1", 49152, "/b")} {
		f, err := volfile.Parse(strings.NewReader(text))
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		for _, v := range f.Volumes {
			if _, ok := reg[v.Type]; !ok {
				t.Errorf("%s: type %s is not registered", v.Name, v.Type)
			}
			if s, ok := v.Option("remote-subvolume"); ok {
				served = s
			}
		}
	}
	if served != "/b" {
		t.Fatalf("client asks for %q", served)
	}
}
