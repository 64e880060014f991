package store

import (
	"slices"
	"testing"

	"github.com/gluster-go/gluster-go/internal/volgen"
)

func ids(v *Volume) []string {
	var out []string
	for _, b := range v.Bricks {
		out = append(out, b.ID)
	}
	return out
}

// TestBrickIDsStable: bricks keep their client names when others leave
// (linkto xattrs and afr changelog keys name them), new bricks get the
// next free one, and a command's own ID (replace-brick) wins.
func TestBrickIDsStable(t *testing.T) {
	s := pool()
	b := func(p string) Brick { return Brick{Host: "h1", Path: p, PeerID: "u1"} }
	if err := s.Apply(&Command{Op: OpCreateVolume, Volume: vol("v", b("/0"), b("/1"), b("/2"))}); err != nil {
		t.Fatal(err)
	}
	v := s.Volumes["v"]
	if got := ids(v); !slices.Equal(got, []string{"v-client-0", "v-client-1", "v-client-2"}) {
		t.Fatalf("created: %q", got)
	}
	steps := []struct {
		bricks []Brick
		want   []string
	}{
		{[]Brick{v.Bricks[0], b("/2")}, []string{"v-client-0", "v-client-2"}},                                                                     // remove-brick commit of /1
		{[]Brick{b("/0"), b("/2"), b("/3")}, []string{"v-client-0", "v-client-2", "v-client-3"}},                                                  // add-brick
		{[]Brick{b("/0"), {Host: "h1", Path: "/4", PeerID: "u1", ID: "v-client-2"}, b("/3")}, []string{"v-client-0", "v-client-2", "v-client-3"}}, // replace-brick
	}
	for i, st := range steps {
		if err := s.Apply(&Command{Op: OpSetBricks, Name: "v", Bricks: st.bricks}); err != nil {
			t.Fatal(err)
		}
		if got := ids(s.Volumes["v"]); !slices.Equal(got, st.want) {
			t.Fatalf("step %d: %q, want %q", i, got, st.want)
		}
	}
	gv := s.Volumes["v"].Volgen()
	if err := gv.Check(); err != nil {
		t.Fatal(err)
	}
	if got := gv.ClientName(1); got != "v-client-2" {
		t.Fatalf("volgen names brick 1 %s", got)
	}
}

// TestBrickIDsLegacy: a volume stored before IDs keeps the positional
// names its clients used when its bricks change.
func TestBrickIDsLegacy(t *testing.T) {
	s := pool()
	b := func(p string) Brick { return Brick{Host: "h1", Path: p, PeerID: "u1"} }
	s.Volumes["v"] = vol("v", b("/0"), b("/1"), b("/2"))
	if err := s.Apply(&Command{Op: OpSetBricks, Name: "v", Bricks: []Brick{b("/1"), b("/2")}}); err != nil {
		t.Fatal(err)
	}
	if got := ids(s.Volumes["v"]); !slices.Equal(got, []string{"v-client-1", "v-client-2"}) {
		t.Fatalf("%q", got)
	}
}

// TestBrickIDsKeepAFRKeys: removing a whole replica set leaves the other
// sets' changelog keys (afr-pending-xattr, trusted.afr.VOL-client-N) as
// they were, so pending heals recorded before the commit still count.
func TestBrickIDsKeepAFRKeys(t *testing.T) {
	s := pool()
	b := func(h, p string) Brick { return Brick{Host: "h" + h, Path: p, PeerID: "u" + h} }
	v := vol("v", b("1", "/0"), b("2", "/1"), b("1", "/2"), b("2", "/3"))
	v.ReplicaCount = 2
	if err := s.Apply(&Command{Op: OpCreateVolume, Volume: v}); err != nil {
		t.Fatal(err)
	}
	keep := s.Volumes["v"].Bricks[2:]
	if err := s.Apply(&Command{Op: OpSetBricks, Name: "v", Bricks: keep}); err != nil {
		t.Fatal(err)
	}
	env := volgen.Env{Types: map[string]bool{"protocol/client": true, "cluster/replicate": true, "cluster/distribute": true, "debug/io-stats": true}}
	f, _, err := volgen.ClientVolfile(s.Volumes["v"].Volgen(), env)
	if err != nil {
		t.Fatal(err)
	}
	r := f.Volume("v-replicate-0")
	if r == nil {
		t.Fatal("no v-replicate-0")
	}
	if got, _ := r.Option("afr-pending-xattr"); got != "v-client-2,v-client-3" {
		t.Fatalf("afr-pending-xattr %q, want the names the set had, v-client-2,v-client-3", got)
	}
}
