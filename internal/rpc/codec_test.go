package rpc

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
)

func sampleAttr(seed byte) fop.Attr {
	return fop.Attr{
		GFID: fop.GFID{0: seed, 15: 7}, Ino: 11, Dev: 12, Mode: 0o100644, Nlink: 2,
		UID: 1000, GID: 100, Rdev: 3, Size: 1 << 40, Blocks: 8, Blksize: 4096,
		Atime: fop.Timespec{Sec: -5, Nsec: 1}, Mtime: fop.Timespec{Sec: 1700000000, Nsec: 999999999},
		Ctime: fop.Timespec{Sec: 42, Nsec: 3},
	}
}

// sampleRequest sets every field, so that each procedure's schema picks
// its own. Dicts have one key, so encodings are deterministic.
func sampleRequest() Request {
	return Request{
		Loc:  fop.Loc{Path: "/a/b", GFID: fop.GFID{1: 1}, Parent: fop.RootGFID, Name: "b"},
		Loc2: fop.Loc{Path: "/c", GFID: fop.GFID{2: 2}, Parent: fop.GFID{3: 3}, Name: "c"},
		FD:   77, FDGFID: fop.GFID{4: 4}, Flags: 0o1102, Mode: 0o755, Umask: 0o22, Rdev: 0x0801,
		Size: 131072, Off: -1 << 40, Len: 4096, Cookie: 1 << 63, Max: 128, Plus: true, Datasync: true,
		Name: "trusted.afr.v-client-0", Target: "../x/y", Domain: "v-replicate-0",
		Dict: fop.Dict{"trusted.gfid": bytes.Repeat([]byte{0xab}, 16)},
		Set:  fop.SetAttr{Valid: fop.SetMode | fop.SetMtime, Mode: 0o600, UID: 5, GID: 6, Mtime: fop.Timespec{Sec: 9, Nsec: 8}},
		Cmd:  fop.SetLkW, Lock: fop.Flock{Type: 1, Start: 10, Len: 0, PID: 99, Owner: 0xdeadbeef, Client: "c1"},
		EntryCmd: fop.EntryLockNB, EntryType: fop.EntryWrLck, XattropOp: fop.XattropAddArray64,
	}
}

func sampleResponse() Response {
	a := sampleAttr(9)
	return Response{
		Attr: sampleAttr(1), Parent: sampleAttr(2), Parent2: sampleAttr(3),
		Dict: fop.Dict{"user.k": []byte("v")}, FD: 5, N: 123456, Str: "target",
		Entries: []fop.DirEntry{
			{Name: ".", Off: 1, Ino: 1, Type: 0o40000},
			{Name: "f", Off: 2, Ino: 9, Type: 0o100000, Attr: &a, Xattrs: fop.Dict{"trusted.gfid": a.GFID[:]}},
			{Name: "g", Off: 3, Ino: 10, Type: 0o120000, Xattrs: fop.Dict{}},
		},
		Statfs: fop.Statfs{Bsize: 4096, Frsize: 4096, Blocks: 1e6, Bfree: 5e5, Bavail: 4e5, Files: 1e5, Ffree: 9e4, Namemax: 255},
		Lock:   fop.Flock{Type: 2, Start: 1, Len: 2, PID: 3, Owner: 4, Client: "other"},
		Strong: bytes.Repeat([]byte{1}, 32),
	}
}

func TestRequestRoundTrip(t *testing.T) {
	caller := fop.Caller{UID: 1000, GID: 100, Groups: []uint32{4, 24, 27}, PID: 4242, LkOwner: 0x1234}
	for p := Proc(1); p < procEnd; p++ {
		t.Run(p.String(), func(t *testing.T) {
			req := sampleRequest()
			b, err := encodeRequest(nil, p, &caller, &req)
			if err != nil {
				t.Fatal(err)
			}
			var got Request
			var gotCaller fop.Caller
			if err := parseRequest(b, p, &gotCaller, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotCaller, caller) {
				t.Errorf("caller: got %+v, want %+v", gotCaller, caller)
			}
			b2, _ := encodeRequest(nil, p, &gotCaller, &got)
			if !bytes.Equal(b, b2) {
				t.Errorf("re-encoding differs:\n%x\n%x", b, b2)
			}
			// Every truncation must fail cleanly.
			for n := range len(b) {
				if err := parseRequest(b[:n], p, &gotCaller, &got); !errors.Is(err, ErrMalformed) {
					t.Fatalf("truncated to %d of %d bytes: err %v", n, len(b), err)
				}
			}
		})
	}
}

func TestResponseRoundTrip(t *testing.T) {
	for p := Proc(1); p < procEnd; p++ {
		t.Run(p.String(), func(t *testing.T) {
			resp := sampleResponse()
			b, err := encodeResponse(nil, p, &resp)
			if err != nil {
				t.Fatal(err)
			}
			var got Response
			if err := parseResponse(b, p, &got); err != nil {
				t.Fatal(err)
			}
			b2, _ := encodeResponse(nil, p, &got)
			if !bytes.Equal(b, b2) {
				t.Errorf("re-encoding differs:\n%x\n%x", b, b2)
			}
			for n := range len(b) {
				if err := parseResponse(b[:n], p, &got); !errors.Is(err, ErrMalformed) {
					t.Fatalf("truncated to %d of %d bytes: err %v", n, len(b), err)
				}
			}
			if err := parseResponse(append(b, 0), p, &got); !errors.Is(err, ErrMalformed) {
				t.Fatalf("trailing byte accepted: %v", err)
			}
		})
	}
}

// The structured values come back field for field.
func TestStructuredValues(t *testing.T) {
	want := sampleResponse()
	var got Response
	for _, p := range []Proc{ProcReaddir, ProcStatfs, ProcLk, ProcRename, ProcRchecksum} {
		b, _ := encodeResponse(nil, p, &want)
		if err := parseResponse(b, p, &got); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(got.Entries, want.Entries) {
		t.Errorf("entries: got %+v, want %+v", got.Entries, want.Entries)
	}
	if got.Statfs != want.Statfs || got.Lock != want.Lock || got.Attr != want.Attr ||
		got.Parent != want.Parent || got.Parent2 != want.Parent2 || !bytes.Equal(got.Strong, want.Strong) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestLimits(t *testing.T) {
	var e encoder
	e.caller(&fop.Caller{})
	e.loc(&fop.Loc{Name: string(make([]byte, MaxName+1))})
	var r Request
	var c fop.Caller
	if err := parseRequest(e.b, ProcStat, &c, &r); !errors.Is(err, ErrMalformed) {
		t.Errorf("over-long name: %v", err)
	}

	// A count claiming more entries than the message can hold is refused
	// before anything is allocated.
	e = encoder{}
	e.u32(MaxDirEntries)
	var resp Response
	if err := parseResponse(e.b, ProcReaddir, &resp); !errors.Is(err, ErrMalformed) {
		t.Errorf("entry count beyond the message: %v", err)
	}
	e = encoder{}
	e.u32(MaxDirEntries + 1)
	if err := parseResponse(e.b, ProcReaddir, &resp); !errors.Is(err, ErrMalformed) {
		t.Errorf("entry count beyond the limit: %v", err)
	}
	e = encoder{}
	e.u32(1)
	e.str("k")
	e.bytes(make([]byte, MaxXattrValue+1), MaxXattrValue+1)
	if err := parseResponse(e.b, ProcGetxattr, &resp); !errors.Is(err, ErrMalformed) {
		t.Errorf("over-long xattr value: %v", err)
	}
	if err := parseResponse(nil, procEnd, &resp); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown procedure: %v", err)
	}
}

func TestHeader(t *testing.T) {
	h := Header{MsgLen: 10, PayloadLen: 20, ID: 1 << 50, Kind: KindCall, Proc: ProcWrite, Status: 5}
	b := make([]byte, HeaderSize)
	h.put(b)
	got, err := ParseHeader(b)
	if err != nil || got != h {
		t.Fatalf("got %+v, %v; want %+v", got, err, h)
	}
	bad := func(name string, mod func(b []byte)) {
		c := append([]byte{}, b...)
		mod(c)
		if _, err := ParseHeader(c); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad("version", func(b []byte) { b[17] = 9 })
	bad("kind", func(b []byte) { b[16] = 0 })
	bad("message too big", func(b []byte) { b[3] = 0xff })
	bad("payload too big", func(b []byte) { b[7] = 0x02 })
	bad("payload on a ping", func(b []byte) { b[16] = byte(KindPing) })
	if _, err := ParseHeader(b[:HeaderSize-1]); !errors.Is(err, ErrMalformed) {
		t.Errorf("short header: %v", err)
	}
}

func TestHello(t *testing.T) {
	h := Hello{Version: Version, Volume: "v", Brick: "/b/1", Process: "uuid", Hostname: "h", PID: 7}
	b := appendHello(nil, &h)
	var got Hello
	if err := decodeHello(b, &got); err != nil || got != h {
		t.Fatalf("got %+v, %v", got, err)
	}
	for n := range len(b) {
		if err := decodeHello(b[:n], &got); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated hello: %v", err)
		}
	}
}

func TestEntriesFitting(t *testing.T) {
	es := sampleResponse().Entries
	var e encoder
	e.entries(es)
	if n := entriesFitting(es, len(e.b)); n != len(es) {
		t.Fatalf("%d of %d entries fit in their own encoding", n, len(es))
	}
	if n := entriesFitting(es, len(e.b)-1); n != len(es)-1 {
		t.Fatalf("%d entries fit one byte short", n)
	}
}

func TestBudget(t *testing.T) {
	b := newBudget(10)
	b.acquire(100) // alone, one call may exceed it
	got := make(chan struct{})
	go func() {
		b.acquire(1)
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("acquired beyond the budget")
	default:
	}
	b.release(100)
	<-got
	b.acquire(9)
	b.release(9)
	b.release(1)
	if b.used != 0 {
		t.Fatalf("used %d", b.used)
	}
}

// A path too long to send is left out; the call still goes.
func TestLongPathLeftOut(t *testing.T) {
	req := Request{Loc: fop.Loc{Path: "/" + strings.Repeat("d/", MaxPath), Name: "f"}}
	b, err := encodeRequest(nil, ProcStat, &fop.Caller{}, &req)
	if err != nil {
		t.Fatal(err)
	}
	var got Request
	if err := parseRequest(b, ProcStat, &fop.Caller{}, &got); err != nil || got.Loc.Path != "" || got.Loc.Name != "f" {
		t.Fatalf("got %+v, %v", got.Loc, err)
	}
}
