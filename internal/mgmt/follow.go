package mgmt

import (
	"context"
	"sync"
	"time"

	"github.com/gluster-go/gluster-go/internal/mgmt/store"
)

// follow calls reconcile with the pool state once the store has caught
// up, and again at every change, until ctx ends. recheck (0 for none)
// also calls it without a change: it covers a store restarted under us
// (pool join), whose new updates the old channel never reports.
func (g *Glusterd) follow(ctx context.Context, who string, recheck time.Duration, reconcile func(context.Context, *store.State)) {
	if !g.catchUp(ctx, who) {
		return
	}
	var tick <-chan time.Time
	for {
		ch := g.store.Updated()
		reconcile(ctx, g.store.State())
		if recheck > 0 {
			tick = time.After(recheck)
		}
		select {
		case <-ctx.Done():
			return
		case <-ch:
		case <-tick:
		}
	}
}

// task is a goroutine glusterd runs for one volume (a self-heal daemon,
// a rebalance job): cancel asks it to end, done closes when it has.
type task struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startTask runs fn in a goroutine under a context of its own.
func startTask(ctx context.Context, fn func(context.Context)) task {
	ctx, cancel := context.WithCancel(ctx)
	t := task{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		fn(ctx)
	}()
	return t
}

// stop ends the task and waits for it.
func (t task) stop() {
	t.cancel()
	<-t.done
}

// stopAll ends every task of runs (taken under mu) and waits for them.
func stopAll[R interface{ stop() }](mu *sync.Mutex, runs *map[string]R) {
	mu.Lock()
	old := *runs
	*runs = map[string]R{}
	mu.Unlock()
	for _, r := range old {
		r.stop()
	}
}
