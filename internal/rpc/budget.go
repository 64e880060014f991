package rpc

import "sync"

// budget bounds the bytes a connection holds for calls not yet answered
// (write payloads), so that a client cannot make the server queue
// gigabytes. One call may exceed it when nothing else is held.
type budget struct {
	mu   sync.Mutex
	cond sync.Cond
	used int
	max  int
}

func newBudget(max int) *budget {
	b := &budget{max: max}
	b.cond.L = &b.mu
	return b
}

func (b *budget) acquire(n int) {
	b.mu.Lock()
	for b.used > 0 && b.used+n > b.max {
		b.cond.Wait()
	}
	b.used += n
	b.mu.Unlock()
}

func (b *budget) release(n int) {
	b.mu.Lock()
	b.used -= n
	b.cond.Broadcast()
	b.mu.Unlock()
}
