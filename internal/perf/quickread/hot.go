package quickread

import (
	"sync"
	"time"
)

// Bounds of the hot directory set: a directory stays hot for hotFor after
// the last open in it; the set is emptied when it reaches maxHot (it is a
// hint, losing it costs one round trip per directory).
const (
	hotFor = 10 * time.Second
	maxHot = 4096
)

// hotDirs remembers directories (by volume path) in which files were
// opened for reading lately: lookups there ask for content.
type hotDirs struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func (h *hotDirs) mark(dir string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxHot {
		h.m = make(map[string]time.Time)
	}
	h.m[dir] = now
}

func (h *hotDirs) is(dir string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.m[dir]
	return ok && now.Sub(t) < hotFor
}
