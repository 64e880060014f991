package rpc

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

// inReader reports whether the calling goroutine is a connection's reader.
func inReader() bool {
	buf := make([]byte, 16<<10)
	return strings.Contains(string(buf[:runtime.Stack(buf, false)]), "(*serverConn).readLoop")
}

// Calls one at a time run in the reader; an fsync goes to a worker.
func TestInlineCalls(t *testing.T) {
	where := make(chan bool, 1)
	addr, _ := startServer(t, &testHandler{serve: func(ctx context.Context, c *ServerCall) error {
		where <- inReader()
		return echo(ctx, c)
	}})
	c := dial(t, addr, ClientOptions{})
	for i := range 5 {
		if _, err := stat(c, context.Background(), "x"); err != nil {
			t.Fatal(err)
		}
		if !<-where {
			t.Fatalf("stat %d ran in a worker", i)
		}
	}
	var resp Response
	if _, err := c.Call(context.Background(), ProcFsync, &root, &Request{}, nil, &resp, nil); err != nil {
		t.Fatal(err)
	}
	if <-where {
		t.Fatal("fsync ran in the reader")
	}
}

// Calls that never end, each run by the reader of its time, leave the
// connection serving: the watchdog hands reading on each time, and the
// readers it replaced end with their calls.
func TestInlineCallsStuck(t *testing.T) {
	arrived, release := make(chan string, 3), make(chan struct{})
	closed := make(chan struct{}, 1)
	addr, _ := startServer(t, &testHandler{closed: closed, serve: func(ctx context.Context, c *ServerCall) error {
		if name := c.Req.Loc.Name; strings.HasPrefix(name, "stuck") {
			arrived <- name
			<-release
		}
		return echo(ctx, c)
	}})
	c := dial(t, addr, ClientOptions{})
	done := make(chan error, 3)
	for _, name := range []string{"stuck1", "stuck2", "stuck3"} {
		go func() {
			_, err := stat(c, context.Background(), name)
			done <- err
		}()
		if got := <-arrived; got != name {
			t.Fatalf("%s arrived, want %s", got, name)
		}
	}
	start := time.Now()
	if _, err := stat(c, context.Background(), "free"); err != nil {
		t.Fatal(err)
	}
	t.Logf("answered behind three stuck calls after %v", time.Since(start))
	close(release)
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stat(c, context.Background(), "after"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	<-closed // the session closes: every reader has ended
}
