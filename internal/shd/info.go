package shd

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/index"
)

// Entry is one object a brick's index lists as needing heal.
type Entry struct {
	GFID fop.GFID
	// Path is its volume path, "" when the brick cannot name it.
	Path       string
	SplitBrain bool
}

// Name is how heal info prints the entry: its path or <gfid:UUID>.
func (e Entry) Name() string {
	if e.Path != "" {
		return e.Path
	}
	return "<gfid:" + e.GFID.String() + ">"
}

// BrickInfo is heal info's section for one brick.
type BrickInfo struct {
	Brick
	// Connected is false when the brick is down; Entries is then
	// unknown.
	Connected bool
	Entries   []Entry
}

// Info lists, for each local brick of a replica set, the objects its
// index holds that still need heal (or, with splitBrainOnly, that are in
// split-brain), as `gluster volume heal VOL info` shows them.
func (h *Healer) Info(ctx context.Context, splitBrainOnly bool) ([]BrickInfo, error) {
	var out []BrickInfo
	for _, b := range h.bricks {
		if !b.local || b.set == nil {
			continue
		}
		bi := BrickInfo{Brick: b.Brick, Connected: b.set.Up()[b.child]}
		if !bi.Connected {
			out = append(out, bi)
			continue
		}
		gs, err := index.Pending(index.Base(b.Path))
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			st, err := b.set.Inspect(ctx, g)
			if err != nil || !st.Pending {
				// Gone, or healed since it was indexed.
				continue
			}
			sb := len(st.SplitBrain) > 0
			if splitBrainOnly && !sb {
				continue
			}
			bi.Entries = append(bi.Entries, Entry{GFID: g, SplitBrain: sb})
		}
		paths := resolvePaths(b.Path, bi.Entries)
		for i := range bi.Entries {
			bi.Entries[i].Path = paths[bi.Entries[i].GFID]
		}
		// Index order is the file system's; sorted is easier to read and
		// the same on every call.
		slices.SortFunc(bi.Entries, func(a, b Entry) int { return strings.Compare(a.Name(), b.Name()) })
		out = append(out, bi)
	}
	return out, nil
}

// resolvePaths names the entries' objects by their paths on the brick:
// it stats each GFID's handle (.glusterfs/xx/yy/GFID, a hard link for
// files and a symlink for directories, so stat reaches the object) and
// walks the brick once to find the same inodes.
func resolvePaths(brick string, ents []Entry) map[fop.GFID]string {
	out := map[fop.GFID]string{}
	type key struct{ dev, ino uint64 }
	want := map[key]fop.GFID{}
	for _, e := range ents {
		if e.GFID == fop.RootGFID {
			out[e.GFID] = "/"
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(handlePath(brick, e.GFID), &st) == nil {
			want[key{st.Dev, st.Ino}] = e.GFID
		}
	}
	if len(want) == 0 {
		return out
	}
	filepath.WalkDir(brick, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == ".glusterfs" && filepath.Dir(p) == brick {
			return filepath.SkipDir
		}
		var st syscall.Stat_t
		if syscall.Lstat(p, &st) != nil {
			return nil
		}
		if g, ok := want[key{st.Dev, st.Ino}]; ok && p != brick {
			rel, _ := filepath.Rel(brick, p)
			out[g] = "/" + rel
			delete(want, key{st.Dev, st.Ino})
			if len(want) == 0 {
				return fs.SkipAll
			}
		}
		return nil
	})
	return out
}

// handlePath is where a brick keeps the handle of g: a hard link for a
// file, a symlink for a directory (see docs/brick-format.md).
func handlePath(brick string, g fop.GFID) string {
	s := g.String()
	return filepath.Join(brick, ".glusterfs", s[0:2], s[2:4], s)
}
