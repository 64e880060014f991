package rpc

import (
	"math/bits"
	"sync"
)

// Buffer size classes: powers of two from 4 KiB to 32 MiB (one frame).
const (
	minClass = 12
	maxClass = 25
)

// BufPool recycles frame and payload buffers by size class, so that a busy
// connection does not allocate per call. A zero BufPool is ready to use;
// share one between the connections of a process.
type BufPool struct {
	classes [maxClass - minClass + 1]sync.Pool
}

// Get returns a buffer of length n (and capacity of its class).
func (p *BufPool) Get(n int) *[]byte {
	c := minClass
	if n > 1<<minClass {
		c = bits.Len(uint(n - 1))
	}
	if c > maxClass {
		b := make([]byte, n)
		return &b
	}
	if v := p.classes[c-minClass].Get(); v != nil {
		b := v.(*[]byte)
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, 1<<c)
	return &b
}

// Put returns a buffer got from Get (possibly grown by append).
func (p *BufPool) Put(b *[]byte) {
	if b == nil {
		return
	}
	c := bits.Len(uint(cap(*b))) - 1 // the largest class it can serve
	if c < minClass || c > maxClass {
		return
	}
	p.classes[c-minClass].Put(b)
}
