package rpc

import (
	"fmt"
	"io"

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

// notify queues n on the connection.
func (c *serverConn) notify(n *Notification) error {
	if len(n.Name) > MaxName {
		return fmt.Errorf("notification: name of %d bytes: %w", len(n.Name), ErrMalformed)
	}
	b := c.srv.Pool.Get(HeaderSize)
	*b = appendNotification((*b)[:HeaderSize], n)
	h := Header{MsgLen: uint32(len(*b) - HeaderSize), Kind: KindNotify}
	h.put(*b)
	return c.s.send(outFrame{buf: b})
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
