package rpc

import (
	"context"
	"testing"
)

func BenchmarkStat(b *testing.B) {
	addr, _ := startServer(b, &testHandler{serve: echo})
	c, err := dialErr(addr, ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := Request{}
		var resp Response
		for pb.Next() {
			if _, err := c.Call(context.Background(), ProcStat, &root, &req, nil, &resp, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkWrite128K(b *testing.B) {
	addr, _ := startServer(b, &testHandler{serve: func(ctx context.Context, c *ServerCall) error {
		c.Resp.N = uint64(len(c.Payload))
		return nil
	}})
	c, err := dialErr(addr, ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.SetBytes(128 << 10)
	b.RunParallel(func(pb *testing.PB) {
		data := make([]byte, 128<<10)
		req := Request{}
		var resp Response
		for pb.Next() {
			if _, err := c.Call(context.Background(), ProcWrite, &root, &req, data, &resp, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRead128K(b *testing.B) {
	addr, _ := startServer(b, &testHandler{serve: func(ctx context.Context, c *ServerCall) error {
		c.Data = c.ReadBuf(int(c.Req.Size))
		return nil
	}})
	c, err := dialErr(addr, ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.SetBytes(128 << 10)
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 128<<10)
		req := Request{Size: 128 << 10}
		var resp Response
		for pb.Next() {
			if _, err := c.Call(context.Background(), ProcRead, &root, &req, nil, &resp, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStatSerial is one caller's round trip, nothing to batch with.
func BenchmarkStatSerial(b *testing.B) {
	addr, _ := startServer(b, &testHandler{serve: echo})
	c, err := dialErr(addr, ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	req := Request{}
	var resp Response
	for b.Loop() {
		if _, err := c.Call(context.Background(), ProcStat, &root, &req, nil, &resp, nil); err != nil {
			b.Fatal(err)
		}
	}
}
