package gfapi

import (
	"context"
	"errors"
	"io/fs"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/posix"
)

// countingLayer counts lookups on their way to the brick.
type countingLayer struct {
	fop.Layer
	lookups *atomic.Int64
}

func (c countingLayer) Lookup(ctx context.Context, loc *fop.Loc, x fop.Dict) (fop.Attr, fop.Dict, error) {
	c.lookups.Add(1)
	return c.Layer.Lookup(ctx, loc, x)
}

func TestDirCache(t *testing.T) {
	var n atomic.Int64
	counting := func(o *options) {
		o.dirTTL = time.Hour // no expiry within the test, however slow
		o.registry = graph.Registry{posix.Type: func(a *graph.Args) (fop.Layer, error) {
			l, err := posix.New(a)
			return countingLayer{Layer: l, lookups: &n}, err
		}}
	}
	v, _ := openPosix(t, counting)
	if err := v.MkdirAll("/a/b/c/d", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Stat("/a/b/c/d"); err != nil {
		t.Fatal(err)
	}
	n.Store(0)
	if _, err := v.Stat("/a/b/c/d"); err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("stat of a path whose directories are cached: %d lookups, want 1", got)
	}
	// Our own renames are seen at once.
	if err := v.Rename("/a/b", "/a/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Stat("/a/b/c/d"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old path after rename: %v", err)
	}
	if _, err := v.Stat("/a/x/c/d"); err != nil {
		t.Errorf("new path after rename: %v", err)
	}
}
