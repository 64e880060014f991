package graph

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/gluster-go/gluster-go/internal/volfile"
)

// Reconfigurer is implemented by layers that apply changed options in
// place, so that clients follow `gluster volume set` without a remount.
// opts holds every option of the layer's volume in the new volfile.
type Reconfigurer interface {
	Reconfigure(opts map[string]string) error
}

// ErrStructural says a new volfile has other layers, types or children
// than the running graph: only a new graph can serve it.
var ErrStructural = errors.New("volfile changes the graph's structure")

// Reconfigure brings the layers built from cur to the options of next.
// It changes nothing and returns ErrStructural if the graphs differ in more
// than options. A layer whose options changed but that cannot take them
// in place keeps its old ones (logged).
func (g *Graph) Reconfigure(cur, next *volfile.File) error {
	if !sameStructure(cur, next) {
		return ErrStructural
	}
	var errs []error
	for _, nv := range next.Volumes {
		ov := cur.Volume(nv.Name)
		newOpts := optionMap(nv)
		if maps.Equal(optionMap(ov), newOpts) {
			continue
		}
		r, ok := g.Layer(nv.Name).(Reconfigurer)
		if !ok {
			g.log.Warn("options changed on a layer that cannot take them live; remount to apply", "layer", nv.Name)
			continue
		}
		if err := r.Reconfigure(newOpts); err != nil {
			errs = append(errs, fmt.Errorf("reconfigure %s: %w", nv.Name, err))
			continue
		}
		g.log.Info("reconfigured", "layer", nv.Name)
	}
	return errors.Join(errs...)
}

func optionMap(v *volfile.Volume) map[string]string {
	m := make(map[string]string, len(v.Options))
	for _, o := range v.Options {
		m[o.Key] = o.Value
	}
	return m
}

func sameStructure(a, b *volfile.File) bool {
	if len(a.Volumes) != len(b.Volumes) {
		return false
	}
	for i, av := range a.Volumes {
		bv := b.Volumes[i]
		if av.Name != bv.Name || av.Type != bv.Type || !slices.Equal(av.Subvolumes, bv.Subvolumes) {
			return false
		}
	}
	return true
}
