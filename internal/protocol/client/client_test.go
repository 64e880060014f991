package client_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/protocol/client"
	"github.com/gluster-go/gluster-go/internal/protocol/server"
)

// startBrick serves r as brick "/b" on ln.
func startBrick(t testing.TB, r fop.Layer, opts map[string]string, ln net.Listener) *server.Server {
	t.Helper()
	if opts == nil {
		opts = map[string]string{}
	}
	l, err := server.New(&graph.Args{Name: "v-server", Type: server.Type, Options: opts,
		Children: []fop.Layer{r}, ChildNames: []string{"/b"}})
	if err != nil {
		t.Fatal(err)
	}
	s := l.(*server.Server)
	s.Listen(ln)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// newClient returns a started protocol/client for brick "/b" at addr and
// the events it reports.
func newClient(t testing.TB, addr string, extra map[string]string) (*client.Client, chan fop.Event) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	opts := map[string]string{"remote-host": host, "remote-port": port, "remote-subvolume": "/b", "transport-type": "tcp"}
	for k, v := range extra {
		if v == "" {
			delete(opts, k)
		} else {
			opts[k] = v
		}
	}
	events := make(chan fop.Event, 100)
	l, err := client.New(&graph.Args{Name: "v-client-0", Type: client.Type, Options: opts,
		Emit: func(ev fop.Event) { events <- ev }})
	if err != nil {
		t.Fatal(err)
	}
	c := l.(*client.Client)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, events
}

var (
	caller = fop.Caller{UID: 1000, GID: 100, Groups: []uint32{4, 24}, PID: 4242, LkOwner: 0x77}
	gfidF  = fop.GFID{0: 0xf, 15: 1}
	gfidD  = fop.GFID{0: 0xd, 15: 2}
	locF   = fop.Loc{Path: "/dir/f", GFID: gfidF, Parent: gfidD, Name: "f"}
	locD   = fop.Loc{Path: "/dir", GFID: gfidD, Parent: fop.RootGFID, Name: "dir"}
	locN   = fop.Loc{Path: "/dir/new", GFID: fop.GFID{0: 0xe}, Parent: gfidD, Name: "new"}
	lock   = fop.Flock{Type: syscall.F_WRLCK, Start: 100, Len: 10, PID: 4242, Owner: 0x77}
	xdata  = fop.Dict{"trusted.glusterfs.dht.linkto": []byte("v-client-1\x00")}
)

// op is one file operation, run on layer l with open file fd and open
// directory dfd; it returns the results.
type op struct {
	name string
	run  func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error)
}

func r1[T any](v T, err error) ([]any, error)          { return []any{v}, err }
func r2[T, U any](v T, w U, err error) ([]any, error)  { return []any{v, w}, err }
func r0(err error) ([]any, error)                      { return nil, err }
func r3(a, b, c fop.Attr, err error) ([]any, error)    { return []any{a, b, c}, err }
func rw(n int, a fop.Attr, err error) ([]any, error)   { return []any{n, a}, err }
func rck(w uint32, s []byte, err error) ([]any, error) { return []any{w, s}, err }

var ops = []op{
	{"lookup", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r2(l.Lookup(ctx, &locF, fop.Dict{"trusted.gfid": nil}))
	}},
	{"stat", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) { return r1(l.Stat(ctx, &locF)) }},
	{"fstat", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) { return r1(l.Fstat(ctx, fd)) }},
	{"setattr", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Setattr(ctx, &locF, &fop.SetAttr{Valid: fop.SetMode | fop.SetAtime, Mode: 0o640, Atime: fop.Timespec{Sec: 5}}))
	}},
	{"fsetattr", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Fsetattr(ctx, fd, &fop.SetAttr{Valid: fop.SetUID, UID: 9}))
	}},
	{"truncate", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Truncate(ctx, &locF, 1<<33))
	}},
	{"ftruncate", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Ftruncate(ctx, fd, 7))
	}},
	{"access", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r0(l.Access(ctx, &locF, 4))
	}},
	{"readlink", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Readlink(ctx, &locF))
	}},
	{"mknod", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r2(l.Mknod(ctx, &locN, syscall.S_IFIFO|0o644, 0o22, 0x801, xdata))
	}},
	{"mkdir", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r2(l.Mkdir(ctx, &locN, 0o755, 0o22, xdata))
	}},
	{"symlink", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r2(l.Symlink(ctx, &locN, "../f", 0o22, xdata))
	}},
	{"link", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r2(l.Link(ctx, &locF, &locN))
	}},
	{"unlink", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Unlink(ctx, &locF))
	}},
	{"rmdir", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) { return r1(l.Rmdir(ctx, &locD)) }},
	{"rename", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r3(l.Rename(ctx, &locF, &locN, 1))
	}},
	{"write", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return rw(l.Write(ctx, fd, []byte("hello, brick"), 3))
	}},
	{"read", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		buf := make([]byte, 100)
		n, err := l.Read(ctx, fd, buf, 1)
		return []any{n, buf[:n]}, err
	}},
	{"flush", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		// Flush reaches the brick for files this client locked.
		l.Lk(ctx, fd, fop.SetLk, &lock)
		return r0(l.Flush(ctx, fd))
	}},
	{"fsync", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Fsync(ctx, fd, true))
	}},
	{"readdir", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Readdir(ctx, dfd, 0, 10, false, nil))
	}},
	{"readdirp", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Readdir(ctx, dfd, 1, 100, true, fop.Dict{"trusted.x": nil}))
	}},
	{"fsyncdir", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r0(l.Fsyncdir(ctx, dfd, false))
	}},
	{"statfs", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Statfs(ctx, &locD))
	}},
	{"getxattr", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Getxattr(ctx, &locF, "trusted.x"))
	}},
	{"fgetxattr", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Fgetxattr(ctx, fd, ""))
	}},
	{"setxattr", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r0(l.Setxattr(ctx, &locF, xdata, 1))
	}},
	{"fsetxattr", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r0(l.Fsetxattr(ctx, fd, xdata, 2))
	}},
	{"removexattr", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r0(l.Removexattr(ctx, &locF, "user.a"))
	}},
	{"fremovexattr", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r0(l.Fremovexattr(ctx, fd, "user.b"))
	}},
	{"xattrop", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Xattrop(ctx, &locF, fop.XattropAddArray32, fop.Dict{"trusted.afr.v-client-0": make([]byte, 12)}))
	}},
	{"fxattrop", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Fxattrop(ctx, fd, fop.XattropAddArray64, fop.Dict{"trusted.afr.dirty": make([]byte, 24)}))
	}},
	{"lk", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Lk(ctx, fd, fop.GetLk, &lock))
	}},
	{"inodelk", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r0(l.Inodelk(ctx, "v-replicate-0", &locF, fop.SetLkW, &lock))
	}},
	{"finodelk", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r0(l.Finodelk(ctx, "v-replicate-0", fd, fop.SetLk, &lock))
	}},
	{"entrylk", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r0(l.Entrylk(ctx, "v-dht", &locD, "f", fop.EntryLock, fop.EntryWrLck))
	}},
	{"fentrylk", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r0(l.Fentrylk(ctx, "v-dht", dfd, "g", fop.EntryUnlock, fop.EntryRdLck))
	}},
	{"fallocate", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Fallocate(ctx, fd, 1, 4096, 8192))
	}},
	{"discard", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Discard(ctx, fd, 0, 4096))
	}},
	{"zerofill", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Zerofill(ctx, fd, 10, 20))
	}},
	{"seek", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r1(l.Seek(ctx, fd, 100, 3))
	}},
	{"rchecksum", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return rck(l.Rchecksum(ctx, fd, 0, 128<<10))
	}},
	{"create", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		nfd := fop.NewFD(locN.GFID, syscall.O_CREAT|syscall.O_RDWR)
		obj, parent, err := l.Create(ctx, &locN, nfd.Flags, 0o644, 0o22, nfd, xdata)
		if err == nil {
			err = l.Release(ctx, nfd)
		}
		return []any{obj, parent}, err
	}},
	{"release", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) { return r0(l.Release(ctx, fd)) }},
	{"releasedir", func(ctx context.Context, l fop.Layer, fd, dfd *fop.FD) ([]any, error) {
		return r0(l.Releasedir(ctx, dfd))
	}},
}

type outcome struct {
	results []any
	errno   syscall.Errno
	seen    string // what the brick was asked
}

// runOps opens a file and a directory on l, then runs every op.
func runOps(t *testing.T, l fop.Layer, r *rec) map[string]outcome {
	t.Helper()
	ctx := fop.WithCaller(context.Background(), &caller)
	fd := fop.NewFD(gfidF, syscall.O_RDWR)
	dfd := fop.NewFD(gfidD, 0)
	out := map[string]outcome{}
	out["open"] = outcome{errno: fop.Errno(l.Open(ctx, &locF, fd.Flags, fd)), seen: r.lastCall()}
	out["opendir"] = outcome{errno: fop.Errno(l.Opendir(ctx, &locD, dfd)), seen: r.lastCall()}
	for _, o := range ops {
		res, err := o.run(ctx, l, fd, dfd)
		out[o.name] = outcome{results: res, errno: fop.Errno(err), seen: r.lastCall()}
	}
	return out
}

// Every operation through client and server reaches the brick with the
// same arguments and brings back the same results as a direct call.
func TestEveryOperation(t *testing.T) {
	for _, fail := range []error{nil, syscall.ESTALE} {
		remote, direct := &rec{fail: fail}, &rec{fail: fail}
		ln := listen(t, "127.0.0.1:0")
		startBrick(t, remote, nil, ln)
		c, _ := newClient(t, ln.Addr().String(), nil)
		if fail != nil {
			// Opens fail too, so fd operations fail with EBADF before
			// reaching the brick (and releasing them is a no-op); only
			// compare errnos.
			got, want := runOps(t, c, remote), runOps(t, direct, direct)
			for name, w := range want {
				g := got[name]
				if strings.HasPrefix(name, "release") && g.errno == 0 {
					continue
				}
				if g.errno != w.errno && g.errno != syscall.EBADF {
					t.Errorf("%s: errno %v, want %v", name, g.errno, w.errno)
				}
			}
			continue
		}
		got, want := runOps(t, c, remote), runOps(t, direct, direct)
		if len(got) != len(ops)+2 {
			t.Fatalf("ran %d operations", len(got))
		}
		for name, w := range want {
			g := got[name]
			if g.errno != w.errno {
				t.Errorf("%s: errno %v, want %v", name, g.errno, w.errno)
			}
			if g.seen != w.seen {
				t.Errorf("%s: brick saw\n  %s\nwant\n  %s", name, g.seen, w.seen)
			}
			if !reflect.DeepEqual(g.results, w.results) {
				t.Errorf("%s: results %+v, want %+v", name, g.results, w.results)
			}
		}
	}
}

func TestLargeIO(t *testing.T) {
	r := &rec{}
	ln := listen(t, "127.0.0.1:0")
	startBrick(t, r, nil, ln)
	c, _ := newClient(t, ln.Addr().String(), nil)
	ctx := context.Background()
	fd := fop.NewFD(gfidF, syscall.O_RDWR)
	if err := c.Open(ctx, &locF, fd.Flags, fd); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 20<<20) // more than one frame
	rand.Read(data)
	if n, _, err := c.Write(ctx, fd, data, 0); err != nil || n != len(data) {
		t.Fatalf("write: %d, %v", n, err)
	}
	buf := make([]byte, len(data)+1)
	n, err := c.Read(ctx, fd, buf, 0)
	if err != nil || n != len(data) || !bytes.Equal(buf[:n], data) {
		t.Fatalf("read: %d, %v", n, err)
	}
}

func waitEvent(t *testing.T, events chan fop.Event) fop.Event {
	t.Helper()
	return <-events
}

// auth.addr.BRICK.allow/reject admit clients by source address.
func TestAuth(t *testing.T) {
	for _, tc := range []struct {
		opts    map[string]string
		allowed map[string]bool
	}{
		{map[string]string{"auth.addr./b.allow": "127.0.0.2"}, map[string]bool{"127.0.0.2": true, "127.0.0.3": false}},
		{map[string]string{"auth.addr./b.allow": "*", "auth.addr./b.reject": "127.0.0.3"}, map[string]bool{"127.0.0.2": true, "127.0.0.3": false}},
		{map[string]string{"auth.addr./b.allow": "127.0.0.*"}, map[string]bool{"127.0.0.2": true, "127.0.0.3": true}},
		{map[string]string{"auth.addr./b.allow": "10.0.0.0/8,127.0.0.3"}, map[string]bool{"127.0.0.2": false, "127.0.0.3": true}},
		{nil, map[string]bool{"127.0.0.2": true, "127.0.0.3": true}},
	} {
		r := &rec{}
		ln := listen(t, "127.0.0.1:0")
		startBrick(t, r, tc.opts, ln)
		for src, ok := range tc.allowed {
			c, events := newClient(t, ln.Addr().String(), map[string]string{"transport.socket.source-addr": src})
			ev := waitEvent(t, events)
			if ok != (ev == fop.ChildUp) {
				t.Errorf("options %v, client %s: got %v", tc.opts, src, ev)
				continue
			}
			if ok {
				if _, err := c.Stat(context.Background(), &locF); err != nil {
					t.Errorf("options %v, client %s: %v", tc.opts, src, err)
				}
			}
			c.Close()
		}
	}
}

// A client whose brick restarts reconnects by itself, reports it, and
// reopens its open fds on the new connection.
func TestReconnect(t *testing.T) {
	r := &rec{}
	ln := listen(t, "127.0.0.1:0")
	addr := ln.Addr().String()
	srv := startBrick(t, r, nil, ln)
	c, events := newClient(t, addr, nil)
	if ev := waitEvent(t, events); ev != fop.ChildUp {
		t.Fatalf("first event %v", ev)
	}
	ctx := context.Background()
	fd := fop.NewFD(gfidF, syscall.O_RDWR|syscall.O_CREAT|syscall.O_TRUNC)
	if err := c.Open(ctx, &locF, fd.Flags, fd); err != nil {
		t.Fatal(err)
	}

	srv.Close()
	if ev := waitEvent(t, events); ev != fop.ChildDown {
		t.Fatalf("after the brick went: %v", ev)
	}
	// Once a client has been up, calls fail at once while it is down.
	if _, err := c.Stat(ctx, &locF); !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("stat while the brick is down: %v", err)
	}
	r2 := &rec{}
	startBrick(t, r2, nil, listen(t, addr))
	if ev := waitEvent(t, events); ev != fop.ChildUp {
		t.Fatalf("after the brick came back: %v", ev)
	}
	if _, err := c.Fstat(ctx, fd); err != nil {
		t.Fatalf("fstat on a reopened fd: %v", err)
	}
	calls := r2.calls()
	if len(calls) != 2 || calls[0] != "open" || calls[1] != "fstat" {
		t.Fatalf("new brick saw %v", calls)
	}
	if _, err := c.Stat(ctx, &locF); err != nil {
		t.Fatal(err)
	}
	if err := c.Release(ctx, fd); err != nil {
		t.Fatal(err)
	}
	if calls := r2.calls(); calls[len(calls)-1] != "release" {
		t.Fatalf("release did not reach the new brick: %v", calls)
	}
	// The first brick forgot the client when it went.
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.forgot) != 1 || !strings.Contains(r.forgot[0], "/b") {
		t.Fatalf("old brick forgot %v", r.forgot)
	}
}

// When a client goes, the brick releases what it left open.
func TestDisconnectReleases(t *testing.T) {
	r := &rec{}
	ln := listen(t, "127.0.0.1:0")
	srv := startBrick(t, r, nil, ln)
	c, _ := newClient(t, ln.Addr().String(), nil)
	ctx := context.Background()
	if err := c.Open(ctx, &locF, 0, fop.NewFD(gfidF, 0)); err != nil {
		t.Fatal(err)
	}
	if err := c.Opendir(ctx, &locD, fop.NewFD(gfidD, 0)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	srv.Close() // waits for the sessions to end
	calls := strings.Join(r.calls(), " ")
	if !strings.Contains(calls, "release") || !strings.Contains(calls, "releasedir") || len(r.forgot) != 1 {
		t.Fatalf("brick saw %s, forgot %v", calls, r.forgot)
	}
}

// Calls made before the first connection is up wait for it.
func TestCallsWaitForConnection(t *testing.T) {
	r := &rec{}
	ln := listen(t, "127.0.0.1:0")
	startBrick(t, r, nil, ln)
	c, _ := newClient(t, ln.Addr().String(), nil)
	if _, err := c.Stat(context.Background(), &locF); err != nil {
		t.Fatal(err)
	}
}

// With nothing listening, calls fail with ENOTCONN (after a bounded wait)
// and the layers above hear CHILD_DOWN.
func TestNoBrick(t *testing.T) {
	ln := listen(t, "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	c, events := newClient(t, addr, nil)
	if ev := waitEvent(t, events); ev != fop.ChildDown {
		t.Fatalf("got %v", ev)
	}
	_, err := c.Stat(context.Background(), &locF)
	if !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("got %v", err)
	}
}

// Without remote-port the client asks glusterd's portmapper.
func TestPortmap(t *testing.T) {
	ln := listen(t, "127.0.0.1:0")
	brick := startBrick(t, &rec{}, nil, ln)
	brickPort := ln.Addr().(*net.TCPAddr).Port
	asked := make(chan string, 10)
	pm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- r.URL.Path + "?" + r.URL.RawQuery:
		default:
		}
		if r.URL.Path != "/v1/portmap" || r.URL.Query().Get("brick") != "/b" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"port":%d}`, brickPort)
	}))
	t.Cleanup(pm.Close)
	mgmtPort := strconv.Itoa(pm.Listener.Addr().(*net.TCPAddr).Port)

	c, events := newClient(t, "127.0.0.1:0", map[string]string{"remote-port": "", "remote-mgmt-port": mgmtPort})
	if ev := waitEvent(t, events); ev != fop.ChildUp {
		t.Fatalf("got %v", ev)
	}
	if q := <-asked; q != "/v1/portmap?brick=%2Fb" {
		t.Fatalf("portmapper asked %s", q)
	}
	if _, err := c.Stat(context.Background(), &locF); err != nil {
		t.Fatal(err)
	}

	// With the portmapper gone, a restarted brick on its old port is
	// found again.
	pm.Close()
	brick.Close()
	if ev := waitEvent(t, events); ev != fop.ChildDown {
		t.Fatalf("got %v", ev)
	}
	startBrick(t, &rec{}, nil, listen(t, ln.Addr().String()))
	if ev := waitEvent(t, events); ev != fop.ChildUp {
		t.Fatalf("got %v", ev)
	}

	_, events = newClient(t, "127.0.0.1:0", map[string]string{"remote-port": "", "remote-mgmt-port": mgmtPort, "remote-subvolume": "/nope"})
	if ev := waitEvent(t, events); ev != fop.ChildDown {
		t.Fatalf("brick the portmapper does not know: %v", ev)
	}
}

// A live option change to the brick address (replace-brick) moves the
// client; other changes leave the connection alone.
func TestReconfigureMovesBrick(t *testing.T) {
	r1, r2 := &rec{}, &rec{}
	ln1, ln2 := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
	startBrick(t, r1, nil, ln1)
	startBrick(t, r2, nil, ln2)
	c, events := newClient(t, ln1.Addr().String(), nil)
	if ev := waitEvent(t, events); ev != fop.ChildUp {
		t.Fatalf("got %v", ev)
	}
	opts := func(addr string, extra ...string) map[string]string {
		host, port, _ := net.SplitHostPort(addr)
		m := map[string]string{"remote-host": host, "remote-port": port, "remote-subvolume": "/b"}
		for i := 0; i < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	if err := c.Reconfigure(opts(ln1.Addr().String(), "ping-timeout", "10")); err != nil {
		t.Fatal(err)
	}
	if err := c.Reconfigure(opts(ln2.Addr().String())); err != nil {
		t.Fatal(err)
	}
	if ev := waitEvent(t, events); ev != fop.ChildDown {
		t.Fatalf("got %v", ev)
	}
	if ev := waitEvent(t, events); ev != fop.ChildUp {
		t.Fatalf("got %v", ev)
	}
	if _, err := c.Stat(context.Background(), &locF); err != nil {
		t.Fatal(err)
	}
	if len(r2.calls()) != 1 || len(r1.calls()) != 0 {
		t.Fatalf("old brick saw %v, new brick %v", r1.calls(), r2.calls())
	}
	if err := c.Reconfigure(map[string]string{"remote-host": "x"}); err == nil {
		t.Fatal("accepted options without remote-subvolume")
	}
}

func TestTransportOptions(t *testing.T) {
	r := &rec{}
	ln := listen(t, "127.0.0.1:0")
	startBrick(t, r, map[string]string{"tcp-window-size": "1MB"}, ln)
	c, _ := newClient(t, ln.Addr().String(), map[string]string{"filter-O_DIRECT": "on", "tcp-window-size": "256KB"})
	fd := fop.NewFD(gfidF, syscall.O_RDWR|syscall.O_DIRECT)
	if err := c.Open(context.Background(), &locF, fd.Flags, fd); err != nil {
		t.Fatal(err)
	}
	if seen := r.lastCall(); !strings.Contains(seen, fmt.Sprint(syscall.O_RDWR)+" fd{") {
		t.Fatalf("brick saw %s, want flags without O_DIRECT", seen)
	}
	for _, bad := range []map[string]string{{"tcp-window-size": "lots"}, {"filter-O_DIRECT": "maybe"}, {"ping-timeout": "-1"}, {"remote-port": "70000"}} {
		opts := map[string]string{"remote-host": "127.0.0.1", "remote-subvolume": "/b"}
		for k, v := range bad {
			opts[k] = v
		}
		if _, err := client.New(&graph.Args{Name: "v-client-0", Options: opts}); err == nil {
			t.Errorf("accepted %v", bad)
		}
	}
}

func TestStatedump(t *testing.T) {
	ln := listen(t, "127.0.0.1:0")
	startBrick(t, &rec{}, nil, ln)
	c, events := newClient(t, ln.Addr().String(), nil)
	if ev := waitEvent(t, events); ev != fop.ChildUp {
		t.Fatalf("got %v", ev)
	}
	var b strings.Builder
	c.Statedump(&b)
	for _, want := range []string{"remote-subvolume=/b", "connected=1", "remote-addr=" + ln.Addr().String(), "pending-calls=0"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("state dump lacks %q:\n%s", want, b.String())
		}
	}
}

// Flush goes to the brick only for files this client locked: there it
// releases the closing owner's locks and does nothing else.
func TestFlushOnlyAfterLocks(t *testing.T) {
	remote := &rec{}
	ln := listen(t, "127.0.0.1:0")
	startBrick(t, remote, nil, ln)
	c, _ := newClient(t, ln.Addr().String(), nil)
	ctx := fop.WithCaller(context.Background(), &caller)
	fd := fop.NewFD(gfidF, syscall.O_RDWR)
	if err := c.Open(ctx, &locF, fd.Flags, fd); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctx, fd); err != nil || strings.HasPrefix(remote.lastCall(), "flush") {
		t.Fatalf("flush of a file never locked: %v, brick saw %q", err, remote.lastCall())
	}
	if _, err := c.Lk(ctx, fd, fop.SetLk, &lock); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(ctx, fd); err != nil || !strings.HasPrefix(remote.lastCall(), "flush") {
		t.Fatalf("flush of a locked file: %v, brick saw %q", err, remote.lastCall())
	}
}
