package rpc

import (
	"context"
	"errors"
	"net"
	"strings"
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

// A client that stops reading its socket must not stall the calls of
// another client that raise notifications for it; once it reads again it
// gets a reset for what was dropped.
func TestStuckClientDoesNotStallOthers(t *testing.T) {
	h := &notifyHandler{
		testHandler: testHandler{},
		sends:       make(chan func(*Notification) error, 2),
	}
	var toStuck func(*Notification) error
	name := strings.Repeat("n", MaxName)
	h.serve = func(ctx context.Context, c *ServerCall) error {
		for range 200 {
			if err := toStuck(&Notification{GFID: c.Req.Loc.GFID, Flags: uint32(fop.UpcallEntry), Name: name}); err != nil {
				return err
			}
		}
		return echo(ctx, c)
	}
	addr, _ := startServer(t, h)

	release := make(chan struct{})
	reset := make(chan struct{}, 1)
	dial(t, addr, ClientOptions{OnNotify: func(n *Notification) {
		<-release // the client's reader stops here: its socket fills
		if n.Flags&uint32(fop.UpcallReset) != 0 {
			select {
			case reset <- struct{}{}:
			default:
			}
		}
	}})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	toStuck = <-h.sends

	other := dial(t, addr, ClientOptions{})
	<-h.sends
	// 500 calls raise 100,000 notifications of ~300 bytes: far more than
	// the stuck client's socket buffers hold.
	for range 500 {
		if _, err := stat(other, context.Background(), "x"); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	<-reset
}
