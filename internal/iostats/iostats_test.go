package iostats

import (
	"context"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// stub answers the few calls the tests make.
type stub struct{ fop.Base }

func (stub) Stat(context.Context, *fop.Loc) (fop.Attr, error) { return fop.Attr{}, syscall.ENOENT }
func (stub) Open(context.Context, *fop.Loc, uint32, *fop.FD) error {
	return nil
}
func (stub) Read(_ context.Context, _ *fop.FD, buf []byte, _ int64) (int, error) {
	return len(buf) / 2, nil
}
func (stub) Write(_ context.Context, _ *fop.FD, data []byte, _ int64) (int, fop.Attr, error) {
	return len(data), fop.Attr{}, nil
}
func (stub) Readdir(context.Context, *fop.FD, uint64, int, bool, fop.Dict) ([]fop.DirEntry, error) {
	return nil, nil
}

func TestCounts(t *testing.T) {
	s := NewLayer("/bricks/b1", stub{})
	ctx := context.Background()
	hot, cold := fop.NewGFID(), fop.NewGFID()
	for i := range 3 {
		if _, err := s.Stat(ctx, &fop.Loc{GFID: hot}); err == nil {
			t.Fatal("error not passed through")
		}
		fd := fop.NewFD(hot, 0)
		s.Open(ctx, &fop.Loc{GFID: hot, Path: "/hot"}, 0, fd)
		s.Read(ctx, fd, make([]byte, 8192), 0) // 4096 bytes come back
		s.Write(ctx, fd, make([]byte, 100+i), 0)
	}
	fd := fop.NewFD(cold, 0)
	s.Open(ctx, &fop.Loc{GFID: cold, Path: "/cold"}, 0, fd)
	s.Readdir(ctx, fd, 0, 10, true, nil)

	snap := s.Snapshot()
	if o := snap.Ops["STAT"]; o.Calls != 3 || o.Errors != 3 || o.Max < o.Min || o.Total < o.Max {
		t.Fatalf("STAT %+v", o)
	}
	if o := snap.Ops["OPEN"]; o.Calls != 4 || o.Errors != 0 {
		t.Fatalf("OPEN %+v", o)
	}
	if snap.Ops["READDIRP"].Calls != 1 || snap.Ops["READDIR"].Calls != 0 {
		t.Fatal("readdirplus counted as readdir")
	}
	if _, ok := snap.Ops["MKDIR"]; ok {
		t.Fatal("uncalled fop listed")
	}
	if snap.BytesRead != 3*4096 || snap.BytesWritten != 303 || snap.ReadBlocks[12] != 3 || snap.WriteBlocks[6] != 3 {
		t.Fatalf("bytes %d/%d blocks %v %v", snap.BytesRead, snap.BytesWritten, snap.ReadBlocks, snap.WriteBlocks)
	}
	top := s.Top(TopOpen, 10)
	if len(top) != 2 || top[0].Path != "/hot" || top[0].Count != 3 || top[1].Path != "/cold" {
		t.Fatalf("top open %+v", top)
	}
	if top := s.Top(TopWrite, 1); len(top) != 1 || top[0].Count != 3 {
		t.Fatalf("top write %+v", top)
	}

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collector(prometheus.Labels{"brick": "/bricks/b1"}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() != "brick" {
					key += "/" + l.GetValue()
				}
			}
			found[key] = m.GetCounter().GetValue()
		}
	}
	if found["gluster_fop_calls_total/STAT"] != 3 || found["gluster_fop_errors_total/STAT"] != 3 ||
		found["gluster_io_bytes_total/write"] != 303 {
		t.Fatalf("prometheus metrics %v", found)
	}
}

func TestPrune(t *testing.T) {
	s := NewLayer("v", stub{})
	busy := fop.NewGFID()
	s.file(busy, "/busy").opens.Add(100)
	for range maxFiles {
		s.file(fop.NewGFID(), "/x")
	}
	if len(s.files) > maxFiles {
		t.Fatalf("%d files tracked", len(s.files))
	}
	if s.file(busy, "") == nil {
		t.Fatal("the busiest file was pruned")
	}
}

// Opens by GFID alone (self-heal opens files that way) must not crash
// the brick.
func TestOpenByGFIDWithoutPath(t *testing.T) {
	s := NewLayer("/b", fop.Base{})
	s.opened(&fop.Loc{GFID: fop.NewGFID()}, nil)
	g := fop.NewGFID()
	s.created(&fop.Loc{Parent: fop.RootGFID, Name: "x"}, fop.NewFD(g, 0), nil)
}
