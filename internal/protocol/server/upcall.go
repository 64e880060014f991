package server

import (
	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/rpc"
)

var (
	_ fop.UpcallNotifier = (*Server)(nil)
	_ rpc.NotifySession  = (*session)(nil)
)

// AttachNotify keeps the function that sends notifications to the client.
func (s *session) AttachNotify(send func(*rpc.Notification) error) {
	s.mu.Lock()
	s.notify = send
	s.mu.Unlock()
}

// NotifyUpcall sends a cache invalidation from the brick graph (raised by
// features/upcall for u.Client) to that client, if it is still connected.
// It does not wait for the network: the frame is queued.
func (s *Server) NotifyUpcall(_ fop.Layer, u *fop.Upcall) {
	s.mu.Lock()
	sess := s.sessions[u.Client]
	s.mu.Unlock()
	if sess == nil {
		return
	}
	sess.mu.Lock()
	send := sess.notify
	sess.mu.Unlock()
	if send == nil {
		return
	}
	n := rpc.Notification{GFID: u.GFID, Flags: uint32(u.Flags), Name: u.Name}
	if err := send(&n); err != nil {
		s.log.Debug("upcall not sent", "client", u.Client, "gfid", u.GFID, "err", err)
	}
}
