package client

import (
	"context"
	"fmt"
	"sync"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/rpc"
)

// remoteFD is the brick's handle for an fd, kept in the FD's ctx under the
// Client. It belongs to one connection (gen); on a newer connection the
// brick has forgotten it and it is reopened by GFID.
type remoteFD struct {
	mu    sync.Mutex
	num   uint64
	gen   uint64
	gfid  fop.GFID
	flags uint32
	dir   bool
}

// reopenFlags are the open flags that must not be applied twice.
const reopenMask = syscall.O_CREAT | syscall.O_EXCL | syscall.O_TRUNC

func (c *Client) setRemote(fd *fop.FD, loc *fop.Loc, num, gen uint64, flags uint32, dir bool) {
	g := fd.GFID
	if g.IsZero() {
		g = loc.GFID
	}
	fd.SetCtx(c, &remoteFD{num: num, gen: gen, gfid: g, flags: flags, dir: dir})
}

// remote returns the connection to use for fd and the brick's number for
// it there, reopening it if the connection is newer than the fd.
func (c *Client) remote(ctx context.Context, fd *fop.FD) (*rpc.ClientConn, uint64, error) {
	v, ok := fd.Ctx(c)
	if !ok {
		return nil, 0, syscall.EBADF
	}
	r := v.(*remoteFD)
	conn, gen, err := c.connection(ctx)
	if err != nil {
		return nil, 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gen == gen {
		return conn, r.num, nil
	}
	m := c.msgs.Get().(*msg)
	defer c.put(m)
	m.req.Loc = fop.Loc{GFID: r.gfid}
	m.req.FDGFID = r.gfid
	p := rpc.ProcOpen
	if r.dir {
		p = rpc.ProcOpendir
	} else {
		m.req.Flags = r.flags &^ reopenMask
	}
	// Reopen as root: the fd was opened with the original caller's rights.
	if _, err := conn.Call(ctx, p, &fop.Caller{}, &m.req, nil, &m.resp, nil); err != nil {
		c.log.Warn("reopen after reconnect failed", "gfid", r.gfid.String(), "err", err)
		return nil, 0, fmt.Errorf("reopen %s: %w", r.gfid, syscall.EBADF)
	}
	r.num, r.gen = m.resp.FD, gen
	return conn, r.num, nil
}

// release forgets fd and closes it on the brick if the brick still has it;
// a detached release (fop.WithDetached) does not wait for the brick's reply.
func (c *Client) release(ctx context.Context, fd *fop.FD, p rpc.Proc) error {
	v, ok := fd.Ctx(c)
	if !ok {
		return nil
	}
	fd.DelCtx(c)
	r := v.(*remoteFD)
	c.mu.Lock()
	conn, gen := c.conn, c.gen
	c.mu.Unlock()
	r.mu.Lock()
	num, rgen := r.num, r.gen
	r.mu.Unlock()
	if conn == nil || rgen != gen {
		return nil // the brick dropped it with the old connection
	}
	m := c.msgs.Get().(*msg)
	defer c.put(m)
	m.req.FD = num
	var err error
	if fop.Detached(ctx) {
		// Nobody waits for the outcome: the reply is not awaited either.
		err = conn.Send(p, fop.CallerFrom(ctx), &m.req)
	} else {
		_, err = conn.Call(ctx, p, fop.CallerFrom(ctx), &m.req, nil, nil, nil)
	}
	if err != nil {
		return wrap(p, fd.GFID.String(), err)
	}
	return nil
}
