package dht

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path"
	"testing"
)

// placement is what testdata/gen-vectors.py recorded on Debian's GlusterFS.
type placement struct {
	GlusterFS string `json:"glusterfs"`
	Volumes   []struct {
		Name       string   `json:"name"`
		Subvolumes []string `json:"subvolumes"`
		Statfs     []struct {
			Blocks uint64 `json:"blocks"`
			Bsize  uint64 `json:"bsize"`
			Shared uint64 `json:"shared"`
		} `json:"statfs"`
		Layouts map[string][]string `json:"layouts"`
		Files   map[string]int      `json:"files"`
	} `json:"volumes"`
}

func loadPlacement(t *testing.T) *placement {
	t.Helper()
	raw, err := os.ReadFile("testdata/glusterfs-placement.json")
	if err != nil {
		t.Fatal(err)
	}
	var p placement
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Volumes) == 0 {
		t.Fatal("no volumes recorded")
	}
	return &p
}

// TestPlacementMatchesGlusterFS checks that for every directory GlusterFS
// created, our new-directory layout over the same subvolume names and
// brick sizes is byte for byte the one GlusterFS wrote, and that every file
// hashes into the range of the brick GlusterFS put it on.
func TestPlacementMatchesGlusterFS(t *testing.T) {
	p := loadPlacement(t)
	for _, v := range p.Volumes {
		t.Run(v.Name, func(t *testing.T) {
			n := len(v.Subvolumes)
			use := make([]bool, n)
			chunks := make([]uint32, n)
			for i, st := range v.Statfs {
				use[i] = true
				// posix divides a shared file system among its
				// bricks; dht counts 1 MiB chunks of f_bsize.
				chunks[i] = Chunks(st.Blocks/st.Shared, st.Bsize)
			}
			theirs := map[string]*Layout{}
			for dir, xs := range v.Layouts {
				l := &Layout{Ranges: make([]Range, n)}
				for i, x := range xs {
					b, err := hex.DecodeString(x)
					if err != nil {
						t.Fatal(err)
					}
					if l.Ranges[i], _, err = DecodeRange(b); err != nil {
						t.Fatal(err)
					}
				}
				theirs[dir] = l
				// The root was healed on first lookup (commit hash
				// "invalid"); the others were made by mkdir with the
				// volume's commit hash, 0 before any rebalance.
				commit := uint32(0)
				if dir == "/" {
					commit = commitHashInvalid
				}
				ours := NewLayout(dir, v.Subvolumes, use, chunks, true, commit)
				for i := range xs {
					if got := hex.EncodeToString(EncodeRange(ours.Ranges[i])); got != xs[i] {
						t.Errorf("dir %q on %s: ours %s, GlusterFS %s", dir, v.Subvolumes[i], got, xs[i])
					}
				}
			}
			for file, brick := range v.Files {
				l := theirs[path.Dir(file)]
				if l == nil {
					t.Fatalf("no layout recorded for %s", path.Dir(file))
				}
				if got := l.Search(HashName(path.Base(file))); got != brick {
					t.Errorf("%q: hashes to %d, GlusterFS put it on %d", file, got, brick)
				}
			}
			if len(v.Files) < 100 {
				t.Fatalf("only %d files recorded", len(v.Files))
			}
		})
	}
}
