package mdcache

import (
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
)

func TestUpcallDrops(t *testing.T) {
	for _, on := range []bool{true, false} {
		f := newFixture(t)
		if on {
			if err := f.mdc.Reconfigure(map[string]string{"cache-invalidation": "on"}); err != nil {
				t.Fatal(err)
			}
		}
		var passed []fop.Upcall
		f.mdc.emitUpcall = func(u *fop.Upcall) { passed = append(passed, *u) }
		_, g := f.create(t, "a")
		f.stat(t, g)
		f.below.stats.Store(0)
		f.mdc.NotifyUpcall(nil, &fop.Upcall{GFID: g, Flags: fop.UpcallAttr})
		f.stat(t, g)
		if want := map[bool]int32{true: 1, false: 0}[on]; f.below.stats.Load() != want {
			t.Errorf("cache-invalidation %v: %d stats went below after an upcall, want %d", on, f.below.stats.Load(), want)
		}
		if len(passed) != 1 || passed[0].GFID != g {
			t.Errorf("upcall not passed on: %+v", passed)
		}
	}
}

// A stat in flight when the upcall arrives keeps nothing.
func TestUpcallOvertakesStat(t *testing.T) {
	f := newFixture(t)
	f.mdc.Reconfigure(map[string]string{"cache-invalidation": "on"})
	g := fop.NewGFID()
	r := f.mdc.look(g)
	f.mdc.NotifyUpcall(nil, &fop.Upcall{GFID: g, Flags: fop.UpcallAttr})
	a := fop.Attr{GFID: g}
	f.mdc.seen(r, &a, nil)
	if _, ok := f.mdc.cached(g); ok {
		t.Fatal("a stat overtaken by an upcall was kept")
	}
}

func TestResetDropsEverything(t *testing.T) {
	f := newFixture(t)
	_, g := f.create(t, "a")
	f.stat(t, g)
	f.stat(t, fop.RootGFID)
	f.mdc.NotifyUpcall(nil, &fop.Upcall{Flags: fop.UpcallReset})
	for _, x := range []fop.GFID{g, fop.RootGFID} {
		if _, ok := f.mdc.cached(x); ok {
			t.Fatalf("%s kept after a reset", x)
		}
	}
}
