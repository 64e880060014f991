package rpc

import (
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Notification is what a server tells a client unasked, in a frame of
// kind KindNotify (id, proc and status 0, no payload): that what the client
// may have cached of an object is stale (a cache-invalidation upcall).
//
//	gfid gfid   u32 flags (fop.UpcallFlags)   str name
type Notification struct {
	GFID  fop.GFID
	Flags uint32
	Name  string
}

func appendNotification(b []byte, n *Notification) []byte {
	e := encoder{b: b}
	e.gfid(n.GFID)
	e.u32(n.Flags)
	e.str(n.Name)
	return e.b
}

func decodeNotification(b []byte, n *Notification) error {
	d := decoder{b: b}
	n.GFID = d.gfid()
	n.Flags = d.u32()
	n.Name = d.str(MaxName, "name")
	if err := d.end(); err != nil {
		return fmt.Errorf("notification: %w", err)
	}
	return nil
}

// NotifySession is a Session that sends notifications to its client: the
// server hands it the function that does, once the connection is set up.
// The function fails once the connection is gone.
type NotifySession interface {
	Session
	AttachNotify(send func(*Notification) error)
}

// maxQueuedNotifications bounds the notifications waiting for one
// connection (about 300 bytes each at most).
const maxQueuedNotifications = 1024

// notifier delivers a connection's notifications from a goroutine of its
// own, one batch at a time, so that the call that raised them (another
// client's, usually) never waits for this client's socket: a client that
// stops reading must not stall the others. Past maxQueuedNotifications the
// queue is dropped and, once the batch being written is out, a single
// reset (fop.UpcallReset: drop everything) replaces what was lost and
// what comes until then.
type notifier struct {
	s    *sender
	pool *BufPool

	mu       sync.Mutex
	queue    []Notification
	overflow bool // the queue was dropped: send a reset next
	closed   bool
	wake     chan struct{} // one token
	done     chan struct{} // closed when run has returned
}

func newNotifier(s *sender, pool *BufPool) *notifier {
	return &notifier{s: s, pool: pool, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// notify queues n for the client; it never blocks on the network.
func (q *notifier) notify(n *Notification) error {
	if len(n.Name) > MaxName {
		return fmt.Errorf("notification: name of %d bytes: %w", len(n.Name), ErrMalformed)
	}
	q.mu.Lock()
	switch {
	case q.closed:
		q.mu.Unlock()
		return net.ErrClosed
	case q.overflow:
		// The reset to come covers n.
	case len(q.queue) >= maxQueuedNotifications:
		clear(q.queue)
		q.queue = q.queue[:0]
		q.overflow = true
	default:
		q.queue = append(q.queue, *n)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

// close makes run return once what is queued is written or failed.
func (q *notifier) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	<-q.done
}

func (q *notifier) run() {
	defer close(q.done)
	written := make(chan struct{}, 1) // the sender is done with a batch
	var batch []Notification
	for {
		q.mu.Lock()
		batch, q.queue = q.queue, batch[:0]
		reset := q.overflow
		q.overflow = false
		closed := q.closed
		q.mu.Unlock()
		if reset {
			batch = append(batch[:0], Notification{Flags: uint32(fop.UpcallReset)})
		}
		if len(batch) == 0 {
			if closed {
				return
			}
			<-q.wake
			continue
		}
		b := q.pool.Get(0)
		for i := range batch {
			*b = appendNotificationFrame(*b, &batch[i])
		}
		clear(batch)
		// The sender signals written even when it fails; a failed
		// sender refuses everything after, so run ends once closed.
		q.s.send(outFrame{buf: b, sent: written})
		<-written
	}
}

// appendNotificationFrame appends n as a whole frame, header first.
func appendNotificationFrame(b []byte, n *Notification) []byte {
	start := len(b)
	b = appendNotification(append(b, make([]byte, HeaderSize)...), n)
	h := Header{MsgLen: uint32(len(b) - start - HeaderSize), Kind: KindNotify}
	h.put(b[start:])
	return b
}

// notification reads a notification frame and hands it to OnNotify.
func (c *ClientConn) notification(h *Header) error {
	if c.onNotify == nil {
		_, err := c.br.Discard(int(h.MsgLen))
		return err
	}
	b := c.pool.Get(int(h.MsgLen))
	defer c.pool.Put(b)
	if _, err := io.ReadFull(c.br, *b); err != nil {
		return err
	}
	var n Notification
	if err := decodeNotification(*b, &n); err != nil {
		return err
	}
	c.onNotify(&n)
	return nil
}
