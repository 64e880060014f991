package server

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/rpc"
)

func TestAllowed(t *testing.T) {
	for _, tc := range []struct {
		allow, reject string
		ip            string
		want          bool
	}{
		{"", "", "10.1.2.3", true},
		{"*", "", "127.0.0.2", true},
		{"127.0.0.2", "", "127.0.0.3", false},
		{"192.168.*", "", "192.168.1.9", true},
		{"192.168.*", "", "192.169.1.9", false},
		{"10.0.0.0/8, 127.0.0.3", "", "127.0.0.3", true},
		{"*", "127.0.0.3", "127.0.0.3", false},
		{"127.0.0.3", "127.0.0.3", "127.0.0.3", false}, // reject wins
		{"*", "127.0.0.*", "127.0.0.9", false},
	} {
		opts := map[string]string{}
		if tc.allow != "" {
			opts["auth.addr./b.allow"] = tc.allow
		}
		if tc.reject != "" {
			opts["auth.addr./b.reject"] = tc.reject
		}
		if got := allowed(opts, "/b", tc.ip); got != tc.want {
			t.Errorf("allow %q reject %q, client %s: got %v", tc.allow, tc.reject, tc.ip, got)
		}
	}
}

// whoami answers Stat with the caller the brick saw, in the Attr.
type whoami struct{ fop.Base }

func (whoami) Stat(ctx context.Context, loc *fop.Loc) (fop.Attr, error) {
	c := fop.CallerFrom(ctx)
	return fop.Attr{UID: c.UID, GID: c.GID}, nil
}

func newServer(t *testing.T, opts map[string]string) (*Server, string) {
	t.Helper()
	l, err := New(&graph.Args{Name: "v-server", Options: opts, Children: []fop.Layer{whoami{}}, ChildNames: []string{"/b"}})
	if err != nil {
		t.Fatal(err)
	}
	s := l.(*Server)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Listen(ln)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, ln.Addr().String()
}

func connect(t *testing.T, addr, src, brick string) (*rpc.ClientConn, error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rpc.Handshake(ctx, nc, &rpc.Hello{Version: rpc.Version, Brick: brick}, rpc.ClientOptions{})
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

func TestRefusals(t *testing.T) {
	_, addr := newServer(t, map[string]string{"auth.addr./b.allow": "127.0.0.2"})
	var he *rpc.HelloError
	if _, err := connect(t, addr, "127.0.0.1", "/nope"); !errors.As(err, &he) || he.Errno != syscall.ENOENT {
		t.Errorf("unknown brick: %v", err)
	}
	if _, err := connect(t, addr, "127.0.0.3", "/b"); !errors.As(err, &he) || he.Reason != "authentication failed" || he.Errno != syscall.EACCES {
		t.Errorf("refused address: %v", err)
	}
	if _, err := connect(t, addr, "127.0.0.2", "/b"); err != nil {
		t.Errorf("allowed address: %v", err)
	}
}

// Changing auth.allow live drops the clients it no longer admits.
func TestReconfigureRevokes(t *testing.T) {
	s, addr := newServer(t, nil)
	c2, err := connect(t, addr, "127.0.0.2", "/b")
	if err != nil {
		t.Fatal(err)
	}
	c3, err := connect(t, addr, "127.0.0.3", "/b")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reconfigure(map[string]string{"auth.addr./b.allow": "127.0.0.2"}); err != nil {
		t.Fatal(err)
	}
	<-c3.Done()
	var resp rpc.Response
	if _, err := c2.Call(context.Background(), rpc.ProcStat, &fop.Caller{}, &rpc.Request{}, nil, &resp, nil); err != nil {
		t.Fatalf("client still allowed: %v", err)
	}
	if _, err := connect(t, addr, "127.0.0.3", "/b"); err == nil {
		t.Fatal("revoked address reconnected")
	}
}

func TestRootSquash(t *testing.T) {
	for _, tc := range []struct {
		opts     map[string]string
		uid, gid uint32 // what root becomes
	}{
		{nil, 0, 0},
		{map[string]string{"root-squash": "on"}, 65534, 65534},
		{map[string]string{"root-squash": "yes", "anonuid": "1234", "anongid": "99"}, 1234, 99},
	} {
		_, addr := newServer(t, tc.opts)
		c, err := connect(t, addr, "127.0.0.1", "/b")
		if err != nil {
			t.Fatal(err)
		}
		// A process running as root is squashed; an internal caller
		// (pid 0) and other users are not.
		for _, who := range []fop.Caller{{PID: 10}, {}, {UID: 1000, GID: 1000, PID: 11}} {
			var resp rpc.Response
			if _, err := c.Call(context.Background(), rpc.ProcStat, &who, &rpc.Request{}, nil, &resp, nil); err != nil {
				t.Fatal(err)
			}
			wantUID, wantGID := who.UID, who.GID
			if who.UID == 0 && who.PID != 0 {
				wantUID, wantGID = tc.uid, tc.gid
			}
			if resp.Attr.UID != wantUID || resp.Attr.GID != wantGID {
				t.Errorf("options %v: caller %d:%d ran as %d:%d", tc.opts, who.UID, who.GID, resp.Attr.UID, resp.Attr.GID)
			}
		}
	}
}

func TestListenPortOption(t *testing.T) {
	l, err := New(&graph.Args{Name: "v-server", Children: []fop.Layer{whoami{}}, ChildNames: []string{"/b"},
		Options: map[string]string{"transport.socket.listen-port": "0", "transport.socket.bind-address": "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	s := l.(*Server)
	t.Cleanup(func() { s.Close() })
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, s.Addr().String(), "127.0.0.1", "/b"); err != nil {
		t.Fatal(err)
	}

	l, _ = New(&graph.Args{Name: "v-server", Children: []fop.Layer{whoami{}}, ChildNames: []string{"/b"}, Options: map[string]string{}})
	if err := l.(*Server).Start(context.Background()); err == nil {
		t.Fatal("started without a listener or a port")
	}
}
