package shd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/afr"
	"github.com/gluster-go/gluster-go/internal/fop"
)

// ErrNoSuchBrick says a source-brick is not a brick of the volume.
var ErrNoSuchBrick = errors.New("No such brick available in the volume")

// Lookup resolves a volume path ("/dir/file", or "gfid:UUID") to its
// GFID through the top of the graph.
func (h *Healer) Lookup(ctx context.Context, file string) (fop.GFID, error) {
	if g, ok := parseGFIDArg(file); ok {
		return g, nil
	}
	cur := fop.RootGFID
	path := ""
	for _, name := range strings.Split(file, "/") {
		if name == "" {
			continue
		}
		path += "/" + name
		a, _, err := h.g.Top.Lookup(ctx, &fop.Loc{Parent: cur, Name: name, Path: path}, nil)
		if err != nil {
			return fop.GFID{}, fmt.Errorf("lookup %s: %w", path, err)
		}
		cur = a.GFID
	}
	return cur, nil
}

// Resolve heals the split-brain of object g with policy, from brick
// source for afr.SourceBrick. Without a source brick, the replica set
// holding g is found by asking each.
func (h *Healer) Resolve(ctx context.Context, g fop.GFID, policy afr.Policy, source *Brick) error {
	if source != nil {
		b := h.findBrick(*source)
		if b == nil || b.set == nil {
			return ErrNoSuchBrick
		}
		_, err := b.set.Resolve(ctx, g, policy, b.child)
		return err
	}
	var err error = syscall.ENOENT
	for _, s := range h.sets() {
		if _, ierr := s.Inspect(ctx, g); fop.Errno(ierr) == syscall.ENOENT {
			continue
		}
		_, err = s.Resolve(ctx, g, policy, -1)
		return err
	}
	return err
}
