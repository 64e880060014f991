package rpc

import (
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// FuzzHeader: any 24 bytes either parse into a header within the limits
// or give an error.
func FuzzHeader(f *testing.F) {
	b := make([]byte, HeaderSize)
	h := Header{MsgLen: 100, PayloadLen: 4096, ID: 3, Kind: KindCall, Proc: ProcWrite}
	h.put(b)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		if h.MsgLen > MaxMessage || h.PayloadLen > MaxPayload {
			t.Fatalf("accepted %+v", h)
		}
		out := make([]byte, HeaderSize)
		h.put(out)
		if string(out) != string(b[:HeaderSize]) {
			t.Fatalf("re-encoded header differs")
		}
	})
}

// What FuzzMessage decodes, chosen by its first argument.
const (
	fuzzCall = iota
	fuzzReply
	fuzzHello
	fuzzNotify
)

// FuzzMessage feeds every message decoder (calls and replies of every
// procedure, handshakes, notifications). A message that decodes must encode back to a
// message that decodes to the same encoding.
func FuzzMessage(f *testing.F) {
	caller := fop.Caller{UID: 1, GID: 2, Groups: []uint32{3}, PID: 4, LkOwner: 5}
	for p := Proc(1); p < procEnd; p++ {
		req, resp := sampleRequest(), sampleResponse()
		b, _ := encodeRequest(nil, p, &caller, &req)
		f.Add(uint8(fuzzCall), uint16(p), b)
		b, _ = encodeResponse(nil, p, &resp)
		f.Add(uint8(fuzzReply), uint16(p), b)
	}
	f.Add(uint8(fuzzHello), uint16(0), appendHello(nil, &Hello{Version: 1, Volume: "v", Brick: "/b"}))
	f.Add(uint8(fuzzNotify), uint16(0), appendNotification(nil, &Notification{GFID: fop.RootGFID, Flags: 4, Name: "a"}))
	f.Fuzz(func(t *testing.T, what uint8, proc uint16, b []byte) {
		p := Proc(proc)
		switch what % 4 {
		case fuzzCall:
			var r Request
			var c fop.Caller
			if parseRequest(b, p, &c, &r) != nil {
				return
			}
			b1, err := encodeRequest(nil, p, &c, &r)
			if err != nil {
				t.Fatal(err)
			}
			if err := parseRequest(b1, p, &c, &r); err != nil {
				t.Fatalf("re-encoded call does not decode: %v", err)
			}
			if len(b1) != len(b) {
				t.Fatalf("re-encoded call has %d bytes, not %d", len(b1), len(b))
			}
		case fuzzReply:
			var r Response
			if parseResponse(b, p, &r) != nil {
				return
			}
			b1, err := encodeResponse(nil, p, &r)
			if err != nil {
				t.Fatal(err)
			}
			if err := parseResponse(b1, p, &r); err != nil {
				t.Fatalf("re-encoded reply does not decode: %v", err)
			}
		case fuzzHello:
			var h Hello
			if decodeHello(b, &h) != nil {
				return
			}
			var h2 Hello
			if err := decodeHello(appendHello(nil, &h), &h2); err != nil || h2 != h {
				t.Fatalf("hello round trip: %+v %v", h2, err)
			}
		case fuzzNotify:
			var n Notification
			if decodeNotification(b, &n) != nil {
				return
			}
			var n2 Notification
			if err := decodeNotification(appendNotification(nil, &n), &n2); err != nil || n2 != n {
				t.Fatalf("notification round trip: %+v %v", n2, err)
			}
		}
	})
}
