package volfetch

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
)

// server is a fake volfile service whose volfile the test changes.
type server struct {
	mu      sync.Mutex
	version int
	opt     string
	changed chan struct{}
}

func (s *server) set(opt string) {
	s.mu.Lock()
	s.version++
	s.opt = opt
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/volfile" || r.URL.Query().Get("id") != "vol" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	ch := s.changed
	cur := fmt.Sprint(s.version)
	s.mu.Unlock()
	if wait := r.URL.Query().Get("wait"); wait == cur {
		select {
		case <-ch:
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("X-Volfile-Version", fmt.Sprint(s.version))
	fmt.Fprintf(w, "volume vol\n type test/r\n option x %s\nend-volume\n", s.opt)
}

type reconf struct {
	fop.Base
	got chan map[string]string
}

func (l *reconf) Reconfigure(opts map[string]string) error {
	l.got <- opts
	return nil
}

func TestParseSpec(t *testing.T) {
	h, v, err := ParseSpec("127.0.0.2:/vol1")
	if err != nil || h != "127.0.0.2" || v != "vol1" {
		t.Errorf("ParseSpec = %q %q %v", h, v, err)
	}
	for _, bad := range []string{"vol1", ":/vol", "host:/", "host"} {
		if _, _, err := ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q) accepted", bad)
		}
	}
}

func TestFetchFallbackAndFollow(t *testing.T) {
	s := &server{opt: "1", changed: make(chan struct{})}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	// A closed port first: the fetcher must go on to the next server.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()

	f := &Fetcher{Servers: []string{dead, ts.Listener.Addr().String()}, Volume: "vol"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := f.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != "0" || v.File.Top().Name != "vol" {
		t.Fatalf("got version %q top %q", v.Version, v.File.Top().Name)
	}

	layer := &reconf{got: make(chan map[string]string, 1)}
	reg := graph.Registry{"test/r": func(*graph.Args) (fop.Layer, error) { return layer, nil }}
	g, err := graph.Build(v.File, reg, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	go Follow(ctx, f, v, g, slog.New(slog.DiscardHandler))
	s.set("2")
	select {
	case opts := <-layer.got:
		if opts["x"] != "2" {
			t.Errorf("reconfigured with %v", opts)
		}
	case <-ctx.Done():
		t.Fatal("option change not applied")
	}
}

func TestFetchUnknownVolume(t *testing.T) {
	ts := httptest.NewServer(&server{changed: make(chan struct{})})
	t.Cleanup(ts.Close)
	f := &Fetcher{Servers: []string{ts.Listener.Addr().String()}, Volume: "nosuch"}
	if _, err := f.Fetch(context.Background()); err == nil {
		t.Fatal("fetch of an unknown volume succeeded")
	}
}

func TestOverrides(t *testing.T) {
	for _, bad := range []string{"noequals", "nodot=1", ".key=1", "vol.=1", "[.k=1"} {
		if _, err := ParseOverride(bad); err == nil {
			t.Errorf("ParseOverride(%q) accepted", bad)
		}
	}
	o, err := ParseOverride("*-client-*.transport.socket.keepalive=on")
	if err != nil || o.Pattern != "*-client-*" || o.Key != "transport.socket.keepalive" || o.Value != "on" {
		t.Fatalf("ParseOverride = %+v %v", o, err)
	}
	s := &server{opt: "1", changed: make(chan struct{})}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	x, _ := ParseOverride("vol.x=9")
	f := &Fetcher{Servers: []string{ts.Listener.Addr().String()}, Volume: "vol", Overrides: []Override{o, x}}
	v, err := f.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := v.File.Top().Option("x"); got != "9" {
		t.Errorf("override not applied: x = %q", got)
	}
	if _, ok := v.File.Top().Option("transport.socket.keepalive"); ok {
		t.Error("override applied to a volume its pattern does not match")
	}
}
