package graph

import (
	"errors"
	"strings"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/volfile"
)

type reconfLayer struct {
	fop.Base
	got map[string]string
}

func (l *reconfLayer) Reconfigure(opts map[string]string) error {
	l.got = opts
	return nil
}

func parse(t *testing.T, s string) *volfile.File {
	t.Helper()
	f, err := volfile.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReconfigure(t *testing.T) {
	const base = "volume a\n type test/r\n option x 1\nend-volume\nvolume b\n type test/r\n option y 1\n subvolumes a\nend-volume\n"
	reg := Registry{"test/r": func(*Args) (fop.Layer, error) { return &reconfLayer{}, nil }}
	cur := parse(t, base)
	g, err := Build(cur, reg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	next := parse(t, strings.Replace(base, "option y 1", "option y 2\n option z 3", 1))
	if err := g.Reconfigure(cur, next); err != nil {
		t.Fatal(err)
	}
	if got := g.Layer("b").(*reconfLayer).got; got["y"] != "2" || got["z"] != "3" {
		t.Errorf("b got %v", got)
	}
	if got := g.Layer("a").(*reconfLayer).got; got != nil {
		t.Errorf("unchanged a reconfigured with %v", got)
	}
	other := parse(t, strings.Replace(base, "subvolumes a", "", 1))
	if err := g.Reconfigure(cur, other); !errors.Is(err, ErrStructural) {
		t.Errorf("structural change: err = %v", err)
	}
}
