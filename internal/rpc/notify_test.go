package rpc

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// notifyHandler's sessions hand their send function to the test.
type notifyHandler struct {
	testHandler
	sends chan func(*Notification) error
}

type notifySession struct {
	testSession
	sends chan func(*Notification) error
}

func (h *notifyHandler) Accept(hello *Hello, nc net.Conn) (Session, error) {
	return notifySession{testSession{&h.testHandler}, h.sends}, nil
}

func (s notifySession) AttachNotify(send func(*Notification) error) { s.sends <- send }

func TestNotificationReachesClient(t *testing.T) {
	h := &notifyHandler{
		testHandler: testHandler{serve: echo, closed: make(chan struct{}, 1)},
		sends:       make(chan func(*Notification) error, 1),
	}
	addr, _ := startServer(t, h)
	got := make(chan Notification, 2)
	c := dial(t, addr, ClientOptions{OnNotify: func(n *Notification) { got <- *n }})
	send := <-h.sends
	want := []Notification{
		{GFID: fop.NewGFID(), Flags: uint32(fop.UpcallEntry), Name: "new-file"},
		{GFID: fop.RootGFID, Flags: uint32(fop.UpcallAttr)},
	}
	for i := range want {
		if err := send(&want[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range want {
		select {
		case n := <-got:
			if n != w {
				t.Fatalf("got %+v, want %+v", n, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no notification")
		}
	}
	// Calls still work after notifications.
	if _, err := stat(c, context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	<-h.closed
	if err := send(&want[0]); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("send after the connection ended: %v", err)
	}
}
