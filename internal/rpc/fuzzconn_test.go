package rpc

import (
	"context"
	"io"
	"net"
	"testing"
	"time"
)

func frame(k Kind, p Proc, id uint64, msg, payload []byte) []byte {
	b := make([]byte, HeaderSize)
	h := Header{MsgLen: uint32(len(msg)), PayloadLen: uint32(len(payload)), ID: id, Kind: k, Proc: p}
	h.put(b)
	return append(append(b, msg...), payload...)
}

// FuzzServerConn feeds a server connection arbitrary bytes after a valid
// handshake: it must end the connection or answer, never panic or hang.
func FuzzServerConn(f *testing.F) {
	req := sampleRequest()
	msg, _ := encodeRequest(nil, ProcWrite, &root, &req)
	f.Add(frame(KindCall, ProcWrite, 1, msg, []byte("data")))
	msg, _ = encodeRequest(nil, ProcRead, &root, &req)
	f.Add(append(frame(KindPing, 0, 7, nil, nil), frame(KindCall, ProcRead, 2, msg, nil)...))
	f.Add(frame(KindCall, procEnd, 3, []byte{1, 2}, []byte{3}))
	f.Fuzz(func(t *testing.T, in []byte) {
		srv := &Server{Handler: &testHandler{serve: func(ctx context.Context, c *ServerCall) error {
			if c.Proc == ProcRead {
				c.Data = c.ReadBuf(int(min(c.Req.Size, 1<<16)))
			}
			return nil
		}}}
		cli, sv := net.Pipe()
		done := make(chan struct{})
		go func() {
			srv.ServeConn(sv)
			close(done)
		}()
		go io.Copy(io.Discard, cli)
		cli.Write(frame(KindHello, 0, 0, appendHello(nil, &Hello{Version: Version, Brick: "/b"}), nil))
		cli.Write(in)
		cli.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("server connection did not end after its client closed")
		}
	})
}

// FuzzClientConn feeds a client connection arbitrary bytes from the
// server: calls in flight must fail or succeed, never panic.
func FuzzClientConn(f *testing.F) {
	resp := sampleResponse()
	msg, _ := encodeResponse(nil, ProcStat, &resp)
	f.Add(frame(KindReply, ProcStat, 1, msg, nil))
	f.Add(frame(KindReply, ProcStat, 1, nil, []byte("too much payload")))
	f.Add(append(frame(KindPing, 0, 9, nil, nil), frame(KindReply, ProcStat, 1, msg[:10], nil)...))
	f.Add(append(frame(KindNotify, 0, 0, appendNotification(nil, &Notification{Flags: 1, Name: "n"}), nil), frame(KindReply, ProcStat, 1, msg, nil)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		cli, sv := net.Pipe()
		go func() {
			readSmallFrame(sv)
			sv.Write(frame(KindHelloReply, 0, 0, nil, nil))
			go io.Copy(io.Discard, sv)
			sv.Write(in)
			sv.Close()
		}()
		c, err := Handshake(context.Background(), cli, &Hello{Version: Version}, ClientOptions{OnNotify: func(*Notification) {}})
		if err != nil {
			return
		}
		defer c.Close()
		var r Response
		c.Call(context.Background(), ProcStat, &root, &Request{}, nil, &r, make([]byte, 4))
		<-c.Done()
	})
}
