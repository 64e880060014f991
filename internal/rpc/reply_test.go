package rpc

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// Replies to a client that does not read them wait once heldPayload bytes
// are queued, rather than piling up in the server's memory.
func TestUnreadRepliesAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cn, sn := net.Pipe() // nobody reads cn
		srv := &Server{Pool: new(BufPool)}
		c := &serverConn{srv: srv, held: newBudget(heldPayload), unsent: newBudget(heldPayload)}
		c.s = newSender(sn, srv.Pool, func(error) { sn.Close() })
		go c.s.run()
		const size = 1 << 20
		var replied atomic.Int32
		var wg sync.WaitGroup
		for range 2 * heldPayload / size {
			wg.Go(func() {
				call := &ServerCall{Proc: ProcRead, Data: make([]byte, size)}
				c.reply(call, nil)
				replied.Add(1)
			})
		}
		synctest.Wait()
		if n := replied.Load(); n > heldPayload/size {
			t.Errorf("%d replies of %d bytes queued for a client that reads nothing", n, size)
		}
		cn.Close()
		wg.Wait()
		c.s.close()
		<-c.s.done
	})
}
