// Package index is the brick's pending-heal index ("features/index"),
// between io-stats and locks in the brick graph. It watches the changelog
// updates (xattrop) that replicate and disperse make: while any counter of
// an object is non-zero, a hard link named by the object's GFID sits in
// .glusterfs/indices/xattrop (accusations) or .glusterfs/indices/dirty
// (in-flight marks), as GlusterFS's index translator keeps it. The
// self-heal daemon and `gluster volume heal VOL info` read these
// directories instead of crawling the brick.
package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
)

// Type is the volfile type of this layer.
const Type = "features/index"

// The index directories under index-base.
const (
	XattropDir = "xattrop"
	DirtyDir   = "dirty"
)

// Index is the features/index layer.
type Index struct {
	fop.Base
	base string

	mu    sync.Mutex
	links map[string]string // index dir -> its base file, made once
}

var _ fop.Layer = (*Index)(nil)

// New builds the layer; option index-base is the indices directory
// (BRICK/.glusterfs/indices).
func New(a *graph.Args) (fop.Layer, error) {
	if len(a.Children) != 1 {
		return nil, errors.New("features/index: needs exactly one subvolume")
	}
	base := a.Options["index-base"]
	if base == "" {
		return nil, errors.New("features/index: option index-base is required")
	}
	for _, d := range []string{XattropDir, DirtyDir} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o700); err != nil {
			return nil, fmt.Errorf("features/index: %w", err)
		}
	}
	return &Index{Base: fop.Base{Next: a.Children[0]}, base: base, links: map[string]string{}}, nil
}

// watched sorts a changelog key into the index it feeds, or "".
func watched(key string) string {
	switch {
	case key == "trusted.afr.dirty" || key == "trusted.ec.dirty":
		return DirtyDir
	case strings.HasPrefix(key, "trusted.afr."), key == "trusted.ec.version":
		return XattropDir
	}
	return ""
}

// Xattrop updates counters and then the index entries of the object.
func (x *Index) Xattrop(ctx context.Context, loc *fop.Loc, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	out, err := x.Next.Xattrop(ctx, loc, op, xattrs)
	if err == nil {
		x.track(loc.GFID, out)
	}
	return out, err
}

// Fxattrop updates counters through an open FD and then the index.
func (x *Index) Fxattrop(ctx context.Context, fd *fop.FD, op fop.XattropOp, xattrs fop.Dict) (fop.Dict, error) {
	out, err := x.Next.Fxattrop(ctx, fd, op, xattrs)
	if err == nil {
		x.track(fd.GFID, out)
	}
	return out, err
}

// Create creates the file and indexes it when it was born with changelog
// counters set (replicate creates files marked dirty, their first writes
// in flight).
func (x *Index) Create(ctx context.Context, loc *fop.Loc, flags, mode, umask uint32, fd *fop.FD, xdata fop.Dict) (fop.Attr, fop.Attr, error) {
	obj, parent, err := x.Next.Create(ctx, loc, flags, mode, umask, fd, xdata)
	if err == nil && obj.GFID == loc.GFID {
		x.track(obj.GFID, xdata) // only a new file got xdata's xattrs
	}
	return obj, parent, err
}

// track adds g to an index when one of its counters of that index is
// non-zero after the update, and removes it when all are zero. An update
// carries every counter of each index it touches (replicate sends all its
// accusation keys whenever it sends one), so zero means healed; an index
// none of whose keys came is left alone.
func (x *Index) track(g fop.GFID, vals fop.Dict) {
	if g.IsZero() {
		return
	}
	seen := map[string]bool{}
	nonZero := map[string]bool{}
	for k, v := range vals {
		dir := watched(k)
		if dir == "" {
			continue
		}
		seen[dir] = true
		for _, b := range v {
			if b != 0 {
				nonZero[dir] = true
				break
			}
		}
	}
	// Errors are ignored: the changelog on the object is the truth, and a
	// lost index entry only waits for the next full heal.
	for dir := range seen {
		if nonZero[dir] {
			_ = x.add(dir, g)
		} else {
			_ = os.Remove(filepath.Join(x.base, dir, g.String()))
		}
	}
}

func (x *Index) add(dir string, g fop.GFID) error {
	x.mu.Lock()
	baseFile, ok := x.links[dir]
	if !ok {
		baseFile = filepath.Join(x.base, dir, dir+"-"+fop.NewGFID().String())
		f, err := os.OpenFile(baseFile, os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			x.mu.Unlock()
			return err
		}
		f.Close()
		x.links[dir] = baseFile
	}
	x.mu.Unlock()
	err := os.Link(baseFile, filepath.Join(x.base, dir, g.String()))
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	return err
}

// Pending lists the GFIDs the index of a brick holds, from both indices,
// each once. indexBase is BRICK/.glusterfs/indices.
func Pending(indexBase string) ([]fop.GFID, error) {
	seen := map[fop.GFID]bool{}
	var out []fop.GFID
	for _, dir := range []string{XattropDir, DirtyDir} {
		ents, err := os.ReadDir(filepath.Join(indexBase, dir))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			g, err := fop.ParseGFID(e.Name())
			if err != nil || seen[g] {
				continue // the base file, or a duplicate
			}
			seen[g] = true
			out = append(out, g)
		}
	}
	return out, nil
}

// Base returns the index-base directory of a brick.
func Base(brick string) string { return filepath.Join(brick, ".glusterfs", "indices") }
