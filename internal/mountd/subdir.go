package mountd

import (
	"context"
	"fmt"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// splitVolumeID splits "VOL/SUB/DIR" (GlusterFS's subdir mount syntax)
// into the volume and the subdirectory ("" for none).
func splitVolumeID(id string) (vol, subdir string) {
	vol, sub, _ := strings.Cut(strings.TrimPrefix(id, "/"), "/")
	if sub = strings.Trim(sub, "/"); sub != "" {
		sub = "/" + sub
	}
	return vol, sub
}

// resolveSubdir looks dir up from the volume's root, as the internal
// (root) identity, once the graph can answer.
func resolveSubdir(ctx context.Context, top fop.Layer, waitUp func(context.Context) error, upTimeout time.Duration, dir string) (fop.GFID, error) {
	wctx, cancel := context.WithTimeout(ctx, upTimeout)
	defer cancel()
	if err := waitUp(wctx); err != nil {
		return fop.GFID{}, fmt.Errorf("subdir %s: volume not reachable: %w", dir, err)
	}
	g, p := fop.RootGFID, "/"
	for _, name := range strings.Split(strings.Trim(dir, "/"), "/") {
		p = path.Join(p, name)
		a, _, err := top.Lookup(ctx, &fop.Loc{Parent: g, Name: name, Path: p}, nil)
		if err != nil {
			return fop.GFID{}, fmt.Errorf("subdir %s: %w", p, err)
		}
		if !a.IsDir() {
			return fop.GFID{}, fmt.Errorf("subdir %s: %w", p, syscall.ENOTDIR)
		}
		g = a.GFID
	}
	return g, nil
}
