package rpc

import (
	"context"
	"errors"
	"syscall"
	"testing"
)

// TestSendDoesNotWait: Send returns while the server still holds the call,
// the server gets it with its arguments, its reply (an error here) is
// dropped, and the connection goes on serving calls.
func TestSendDoesNotWait(t *testing.T) {
	got, answer := make(chan uint64, 1), make(chan struct{})
	addr, _ := startServer(t, &testHandler{serve: func(ctx context.Context, c *ServerCall) error {
		if c.Proc != ProcRelease {
			return echo(ctx, c)
		}
		got <- c.Req.FD
		<-answer
		return syscall.EBADF
	}})
	c := dial(t, addr, ClientOptions{})
	if err := c.Send(ProcRelease, &root, &Request{FD: 7}); err != nil {
		t.Fatal(err)
	}
	if fd := <-got; fd != 7 {
		t.Fatalf("server got release of fd %d, want 7", fd)
	}
	if n := c.Pending(); n != 0 {
		t.Fatalf("%d calls pending after Send, want 0", n)
	}
	close(answer)
	// The dropped reply must not be taken for this call's.
	for range 3 {
		if _, err := stat(c, context.Background(), "after"); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	if err := c.Send(ProcRelease, &root, &Request{FD: 8}); !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("Send on a closed connection: %v, want ENOTCONN", err)
	}
}
