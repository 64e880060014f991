package graph

import (
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// srcLayer keeps its EmitUpcall; notifyLayer records what reaches it and
// passes it on marked.
type srcLayer struct {
	fop.Base
	emit func(*fop.Upcall)
}

type notifyLayer struct {
	fop.Base
	emit func(*fop.Upcall)
	got  []fop.Upcall
}

func (l *notifyLayer) NotifyUpcall(_ fop.Layer, u *fop.Upcall) {
	l.got = append(l.got, *u)
	l.emit(&fop.Upcall{GFID: u.GFID, Flags: u.Flags, Name: u.Name + "+seen"})
}

// TestUpcallsClimb: an upcall crosses layers that are not UpcallNotifiers
// unchanged, is handed to the ones that are, and what leaves the top goes
// to Options.OnUpcall.
func TestUpcallsClimb(t *testing.T) {
	const vf = "volume src\n type test/src\nend-volume\n" +
		"volume mid\n type test/pass\n subvolumes src\nend-volume\n" +
		"volume cache\n type test/notify\n subvolumes mid\nend-volume\n" +
		"volume top\n type test/pass\n subvolumes cache\nend-volume\n"
	reg := Registry{
		"test/src":    func(a *Args) (fop.Layer, error) { return &srcLayer{emit: a.EmitUpcall}, nil },
		"test/pass":   func(a *Args) (fop.Layer, error) { return &fop.Base{Next: a.Children[0]}, nil },
		"test/notify": func(a *Args) (fop.Layer, error) { return &notifyLayer{emit: a.EmitUpcall}, nil },
	}
	var top []fop.Upcall
	g, err := Build(parse(t, vf), reg, Options{OnUpcall: func(u *fop.Upcall) { top = append(top, *u) }})
	if err != nil {
		t.Fatal(err)
	}
	g.Layer("src").(*srcLayer).emit(&fop.Upcall{GFID: fop.RootGFID, Flags: fop.UpcallEntry, Name: "x"})
	if got := g.Layer("cache").(*notifyLayer).got; len(got) != 1 || got[0].Name != "x" {
		t.Fatalf("the notifier got %+v", got)
	}
	if len(top) != 1 || top[0].Name != "x+seen" || top[0].GFID != fop.RootGFID {
		t.Fatalf("the top got %+v", top)
	}
}
