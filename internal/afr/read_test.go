package afr

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
)

// readCounter counts the reads a brick serves.
type readCounter struct {
	fop.Base
	n atomic.Int64
}

func (c *readCounter) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	c.n.Add(1)
	return c.Next.Read(ctx, fd, buf, off)
}

// newCountedSet is a replica set of n bricks (newSet's) whose reads are
// counted.
func newCountedSet(t *testing.T, n int, opts map[string]string) (*AFR, []*readCounter) {
	t.Helper()
	r, _ := newSet(t, n, opts)
	counters := make([]*readCounter, n)
	for i, c := range r.children {
		counters[i] = &readCounter{Base: fop.Base{Next: c}}
		r.children[i] = counters[i]
	}
	return r, counters
}

// readStripes reads stripes of fd through r and checks them against want.
func readStripes(t *testing.T, r *AFR, fd *fop.FD, want []byte) {
	t.Helper()
	buf := make([]byte, readStripe)
	for off := 0; off < len(want); off += readStripe {
		n, err := r.Read(bg, fd, buf, int64(off))
		if err != nil || !bytes.Equal(buf[:n], want[off:min(off+readStripe, len(want))]) {
			t.Fatalf("read at %d: %d bytes, %v; not the data written", off, n, err)
		}
	}
}

func counts(cs []*readCounter) []int64 {
	var out []int64
	for _, c := range cs {
		out = append(out, c.n.Swap(0))
	}
	return out
}

func TestReadsSpreadOverGoodReplicas(t *testing.T) {
	r, cs := newCountedSet(t, 2, map[string]string{"data-self-heal": "off"})
	g, fd := createFile(t, r, "f")
	data := bytes.Repeat([]byte("0123456789abcdef"), 4*readStripe/16)
	if _, _, err := r.Write(bg, fd, data, 0); err != nil {
		t.Fatal(err)
	}
	readStripes(t, r, fd, data)
	if c := counts(cs); c[0] != 2 || c[1] != 2 {
		t.Fatalf("reads per replica = %v, want [2 2]", c)
	}

	// A replica that missed a write is not read from, even once it is back.
	r.Flush(bg, fd)
	down(r, 1)
	fresh := bytes.ToUpper(data[:readStripe])
	if _, _, err := r.Write(bg, fd, fresh, 0); err != nil {
		t.Fatal(err)
	}
	r.Flush(bg, fd)
	up(r, 1)
	if _, _, err := r.Lookup(bg, &fop.Loc{GFID: g}, nil); err != nil {
		t.Fatal(err)
	}
	copy(data, fresh)
	readStripes(t, r, fd, data)
	if c := counts(cs); c[0] != 4 || c[1] != 0 {
		t.Fatalf("reads per replica with replica 1 stale = %v, want [4 0]", c)
	}
}

func TestReadFallsBackWhenStripeReplicaIsDown(t *testing.T) {
	r, cs := newCountedSet(t, 2, map[string]string{})
	_, fd := createFile(t, r, "f")
	data := bytes.Repeat([]byte{7}, 2*readStripe)
	if _, _, err := r.Write(bg, fd, data, 0); err != nil {
		t.Fatal(err)
	}
	r.Flush(bg, fd)
	// Replica 1 goes away without AFR hearing of it yet: its brick answers
	// ENOTCONN, and the read moves to replica 0.
	cs[1].Next = notConnected{}
	readStripes(t, r, fd, data)
	if c := counts(cs); c[0] != 2 {
		t.Fatalf("reads per replica = %v, want replica 0 to serve both", c)
	}
}

// notConnected is a brick that has gone away.
type notConnected struct{ fop.Base }

func (notConnected) Read(context.Context, *fop.FD, []byte, int64) (int, error) {
	return 0, syscall.ENOTCONN
}

// A replica that came back after missing writes is not read from, though
// this client knew it as good before it went away, even when the read
// reads the changelog just before the post-op accusing the replica lands.
func TestReadAfterReplicaReturns(t *testing.T) {
	r, cs := newCountedSet(t, 2, map[string]string{"data-self-heal": "off"})
	_, fd := createFile(t, r, "f")
	data := bytes.Repeat([]byte("0123456789abcdef"), 2*readStripe/16)
	if _, _, err := r.Write(bg, fd, data, 0); err != nil {
		t.Fatal(err)
	}
	r.Flush(bg, fd)
	down(r, 1)
	readStripes(t, r, fd, data) // the FD reads while replica 1 is away
	gate := &lateAccusation{Layer: cs[0].Next, key: r.keys[1], looked: make(chan struct{})}
	t.Cleanup(gate.open)
	cs[0].Next = gate
	fresh := bytes.ToUpper(data[readStripe:])
	if _, _, err := r.Write(bg, fd, fresh, readStripe); err != nil {
		t.Fatal(err)
	}
	copy(data[readStripe:], fresh)
	up(r, 1)
	counts(cs)
	readStripes(t, r, fd, data)
	if c := counts(cs); c[1] != 0 {
		t.Fatalf("reads per replica = %v, want none from replica 1", c)
	}
	select {
	case <-gate.looked:
	default:
		t.Fatal("the read did not read the changelog again")
	}
}

// lateAccusation is a brick whose post-op accusing replica key waits
// until a lookup has read the changelog without it.
type lateAccusation struct {
	fop.Layer
	key    string
	once   sync.Once
	looked chan struct{}
}

func (b *lateAccusation) open() { b.once.Do(func() { close(b.looked) }) }

func (b *lateAccusation) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	a, x, err := b.Layer.Lookup(ctx, loc, xreq)
	b.open()
	return a, x, err
}

func (b *lateAccusation) Xattrop(ctx context.Context, loc *fop.Loc, op fop.XattropOp, x fop.Dict) (fop.Dict, error) {
	if decodeCounters(x[b.key])[dataTxn] > 0 {
		<-b.looked
	}
	return b.Layer.Xattrop(ctx, loc, op, x)
}

// A replica that missed a write while away is not read from once back,
// by an FD that had not read before.
func TestFirstReadAfterReplicaReturns(t *testing.T) {
	r, cs := newCountedSet(t, 2, map[string]string{"data-self-heal": "off", "post-op-delay-secs": "60"})
	_, fd := createFile(t, r, "f")
	data := bytes.Repeat([]byte("0123456789abcdef"), 2*readStripe/16)
	if _, _, err := r.Write(bg, fd, data, 0); err != nil {
		t.Fatal(err)
	}
	r.Flush(bg, fd)
	down(r, 1)
	fresh := bytes.ToUpper(data)
	if _, _, err := r.Write(bg, fd, fresh, 0); err != nil {
		t.Fatal(err)
	}
	up(r, 1)
	counts(cs)
	readStripes(t, r, fd, fresh) // the transaction is still held
	r.Flush(bg, fd)
	readStripes(t, r, fd, fresh) // its post-op is done
	if c := counts(cs); c[1] != 0 {
		t.Fatalf("reads per replica = %v, want none from replica 1", c)
	}
	r.Release(bg, fd)
}

// writeFails is a brick whose writes fail.
type writeFails struct{ fop.Layer }

func (writeFails) Write(context.Context, *fop.FD, []byte, int64) (int, fop.Attr, error) {
	return 0, fop.Attr{}, syscall.EIO
}

// A replica that failed a write is not read from, while this client holds
// the file's write transaction (the changelog does not say it yet) and
// after its post-op.
func TestReadSkipsReplicaThatFailedAWrite(t *testing.T) {
	r, cs := newCountedSet(t, 2, map[string]string{"post-op-delay-secs": "60"})
	_, fd := createFile(t, r, "f")
	data := bytes.Repeat([]byte("0123456789abcdef"), 2*readStripe/16)
	if _, _, err := r.Write(bg, fd, data, 0); err != nil {
		t.Fatal(err)
	}
	brick := cs[1].Next
	cs[1].Next = writeFails{brick}
	fresh := bytes.ToUpper(data[readStripe:])
	if _, _, err := r.Write(bg, fd, fresh, readStripe); err != nil {
		t.Fatal(err)
	}
	copy(data[readStripe:], fresh)
	counts(cs)
	readStripes(t, r, fd, data)
	cs[1].Next = brick
	r.Flush(bg, fd)
	readStripes(t, r, fd, data) // the post-op is done: the changelog says it
	if c := counts(cs); c[1] != 0 {
		t.Fatalf("reads per replica = %v, want none from replica 1", c)
	}
	r.Release(bg, fd)
}

// A replica that went down and came back between two reads of an FD,
// missing another client's writes meanwhile, is not read from: the
// reconnection makes the next read look at the changelog again.
func TestReadAfterReplicaBouncedWhileOtherClientWrote(t *testing.T) {
	r, _ := newSet(t, 2, map[string]string{"data-self-heal": "off"})
	g, fd := createFile(t, r, "f")
	data := bytes.Repeat([]byte("0123456789abcdef"), 2*readStripe/16)
	if _, _, err := r.Write(bg, fd, data, 0); err != nil {
		t.Fatal(err)
	}
	r.Flush(bg, fd)
	r.Release(bg, fd)
	fd = open(t, r, g)
	readStripes(t, r, fd, data)

	down(r, 1)
	l, err := New(&graph.Args{Name: "test-replicate-0", Children: r.children, ChildNames: []string{"test-client-0", "test-client-1"},
		Options: map[string]string{"post-op-delay-secs": "0", "data-self-heal": "off"}})
	if err != nil {
		t.Fatal(err)
	}
	other := l.(*AFR)
	up(other, 0)
	down(other, 1)
	ofd := open(t, other, g)
	fresh := bytes.ToUpper(data)
	if _, _, err := other.Write(bg, ofd, fresh, 0); err != nil {
		t.Fatal(err)
	}
	other.Flush(bg, ofd)
	other.Release(bg, ofd)
	up(r, 1)
	readStripes(t, r, fd, fresh)
}
