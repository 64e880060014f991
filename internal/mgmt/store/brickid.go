package store

import (
	"fmt"
	"strconv"
	"strings"
)

// WithIDs returns bricks, a new brick list of v, with every brick's
// client-layer ID set: an ID the command
// carries (replace-brick hands the old brick's on), else the ID the brick
// already had, else the next free VOL-client-N, as glusterd's
// glusterd_get_next_available_brickid. Bricks of v without an ID (a pool
// stored before IDs) are named by their position in v, which is the name
// their clients used.
func (v *Volume) WithIDs(bricks []Brick) []Brick {
	old := v.Bricks
	prefix := v.Name + "-client-"
	had := map[string]string{}
	next := 0
	note := func(id string) {
		if n, err := strconv.Atoi(strings.TrimPrefix(id, prefix)); err == nil && strings.HasPrefix(id, prefix) {
			next = max(next, n+1)
		}
	}
	for i, b := range old {
		id := b.ID
		if id == "" {
			id = fmt.Sprintf("%s%d", prefix, i)
		}
		had[b.Name()] = id
		note(id)
	}
	for _, b := range bricks {
		note(b.ID)
	}
	out := make([]Brick, len(bricks))
	for i, b := range bricks {
		if b.ID == "" {
			if id, ok := had[b.Name()]; ok {
				b.ID = id
			} else {
				b.ID = fmt.Sprintf("%s%d", prefix, next)
				next++
			}
		}
		out[i] = b
	}
	return out
}
