package rpc

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
)

// A call flagged FlagNoReply is served but not answered; the next call is.
func TestNoReply(t *testing.T) {
	var served atomic.Int32
	// One worker: calls are served, and answered, in order.
	srv := &Server{Workers: 1, Handler: &testHandler{serve: func(ctx context.Context, c *ServerCall) error {
		served.Add(1)
		return echo(ctx, c)
	}}}
	cli, sv := net.Pipe()
	done := make(chan struct{})
	go func() {
		srv.ServeConn(sv)
		close(done)
	}()
	t.Cleanup(func() {
		cli.Close()
		<-done
	})
	go cli.Write(frame(KindHello, 0, 0, appendHello(nil, &Hello{Version: Version, Brick: "/b"}), nil))
	if h, _, err := readSmallFrame(cli); err != nil || h.Kind != KindHelloReply || h.Status != 0 {
		t.Fatalf("handshake: %+v %v", h, err)
	}
	req := sampleRequest()
	msg, _ := encodeRequest(nil, ProcStat, &root, &req)
	oneWay := frame(KindCall, ProcStat, 1, msg, nil)
	h := Header{MsgLen: uint32(len(msg)), ID: 1, Kind: KindCall, Proc: ProcStat, Status: FlagNoReply}
	h.put(oneWay)
	go cli.Write(append(oneWay, frame(KindCall, ProcStat, 2, msg, nil)...))
	rh, _, err := readSmallFrame(cli)
	if err != nil || rh.Kind != KindReply || rh.ID != 2 {
		t.Fatalf("first reply: %+v %v, want the reply to call 2", rh, err)
	}
	if n := served.Load(); n != 2 {
		t.Fatalf("%d calls served, want 2", n)
	}
}
