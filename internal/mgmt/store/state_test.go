package store

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func pool() *State {
	s := NewState()
	for _, p := range []Peer{{"u1", "h1"}, {"u2", "h2"}} {
		if err := s.Apply(&Command{Op: OpAddPeer, Peer: &p}); err != nil {
			panic(err)
		}
	}
	return s
}

func vol(name string, bricks ...Brick) *Volume {
	return &Volume{Name: name, ID: "id-" + name, ReplicaCount: 1, StripeCount: 1, Transport: "tcp", Bricks: bricks}
}

// TestApplyRefusals: a refused command leaves the state as it was.
func TestApplyRefusals(t *testing.T) {
	s := pool()
	if err := s.Apply(&Command{Op: OpCreateVolume, Volume: vol("v", Brick{Host: "h1", Path: "/b/1", PeerID: "u1"}, Brick{Host: "h2", Path: "/b/1", PeerID: "u2"})}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		c    Command
		want string
	}{
		{Command{Op: OpCreateVolume, Volume: vol("v", Brick{Host: "h1", Path: "/c", PeerID: "u1"})}, "Volume v already exists"},
		{Command{Op: OpCreateVolume, Volume: vol("w", Brick{Host: "h3", Path: "/c", PeerID: "u3"})}, "Host h3 is not in 'Peer in Cluster' state"},
		{Command{Op: OpCreateVolume, Volume: vol("w", Brick{Host: "h1", Path: "/b/1/x", PeerID: "u1"})}, "Brick: h1:/b/1/x not available. Brick may be containing or be contained by an existing brick."},
		{Command{Op: OpCreateVolume, Volume: vol("w", Brick{Host: "h1", Path: "/b", PeerID: "u1"})}, "Brick: h1:/b not available. Brick may be containing or be contained by an existing brick."},
		{Command{Op: OpCreateVolume, Volume: vol("w", Brick{Host: "h1", Path: "/c", PeerID: "u1"}, Brick{Host: "h1", Path: "/c", PeerID: "u1"})}, "Found duplicate exports h1:/c"},
		{Command{Op: OpDeleteVolume, Name: "nope"}, "Volume nope does not exist"},
		{Command{Op: OpSetStatus, Name: "v", Status: StatusStopped}, "Volume v is not in the started state"},
		{Command{Op: OpRemovePeer, Name: "u2"}, "Peer h2 hosts one or more bricks. If the peer is in not recoverable state then use either replace-brick or remove-brick command with force to remove all bricks from the peer and attempt the peer detach again."},
		{Command{Op: "bogus"}, `unknown command "bogus"`},
	}
	before, _ := json.Marshal(s)
	for _, c := range cases {
		// The FSM applies to a copy; do the same here.
		cp := s.Clone()
		err := cp.Apply(&c.c)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v, want %q", c.c.Op, err, c.want)
		}
	}
	if after, _ := json.Marshal(s); string(after) != string(before) {
		t.Errorf("state changed")
	}
	// Same brick path on another host is fine (/b/1 on h1 and h2 above).
	if err := s.Apply(&Command{Op: OpSetStatus, Name: "v", Status: StatusStarted}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(&Command{Op: OpSetStatus, Name: "v", Status: StatusStarted}); err == nil || err.Error() != "Volume v already started" {
		t.Errorf("double start: %v", err)
	}
	if err := s.Apply(&Command{Op: OpDeleteVolume, Name: "v"}); err == nil || err.Error() != "Volume v has been started.Volume needs to be stopped before deletion." {
		t.Errorf("delete started: %v", err)
	}
}

func TestOptionsBumpVersion(t *testing.T) {
	s := pool()
	if err := s.Apply(&Command{Op: OpCreateVolume, Volume: vol("v", Brick{Host: "h1", Path: "/b", PeerID: "u1"})}); err != nil {
		t.Fatal(err)
	}
	v0 := s.Volumes["v"].Version
	s.Apply(&Command{Op: OpSetOptions, Name: "v", Options: []Option{{"a.b", "1"}, {"c.d", "2"}}})
	s.Apply(&Command{Op: OpSetOptions, Name: "v", Options: []Option{{"a.b", "3"}}})
	v := s.Volumes["v"]
	if v.Version != v0+2 || len(v.Options) != 2 || v.Options[0] != (Option{"a.b", "3"}) {
		t.Fatalf("after set: version %d (was %d), options %v", v.Version, v0, v.Options)
	}
	s.Apply(&Command{Op: OpResetOptions, Name: "v", Keys: []string{"a.b"}})
	if v := s.Volumes["v"]; len(v.Options) != 1 || v.Options[0].Key != "c.d" || v.Version != v0+3 {
		t.Fatalf("after reset: %+v", v)
	}
}

func TestTypeName(t *testing.T) {
	b := make([]Brick, 4)
	for _, c := range []struct {
		v    Volume
		want string
	}{
		{Volume{ReplicaCount: 1, StripeCount: 1, Bricks: b}, "Distribute"},
		{Volume{ReplicaCount: 2, StripeCount: 1, Bricks: b[:2]}, "Replicate"},
		{Volume{ReplicaCount: 2, StripeCount: 1, Bricks: b}, "Distributed-Replicate"},
		{Volume{ReplicaCount: 1, StripeCount: 2, Bricks: b}, "Distributed-Stripe"},
		{Volume{ReplicaCount: 2, StripeCount: 2, Bricks: b}, "Striped-Replicate"},
		{Volume{ReplicaCount: 1, StripeCount: 1, DisperseCount: 4, RedundancyCount: 1, Bricks: b}, "Disperse"},
	} {
		if got := c.v.TypeName(); got != c.want {
			t.Errorf("%+v: %s, want %s", c.v, got, c.want)
		}
	}
}

// TestRaftSingleNode: a fresh store bootstraps itself, applies commands,
// refuses bad ones, and has its state back after a restart.
func TestRaftSingleNode(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := Config{ID: "u1", Dir: filepath.Join(dir, "raft"), Bind: addr}
	s, err := Open(cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Apply(ctx, &Command{Op: OpAddPeer, Peer: &Peer{"u1", "h1"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, &Command{Op: OpCreateVolume, Volume: vol("v", Brick{Host: "h1", Path: "/b", PeerID: "u1"})}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, &Command{Op: OpCreateVolume, Volume: vol("v", Brick{Host: "h1", Path: "/c", PeerID: "u1"})}); err == nil {
		t.Fatal("duplicate volume accepted")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	st := s.State()
	if len(st.Peers) != 1 || st.Volumes["v"] == nil || st.Volumes["v"].Bricks[0].Path != "/b" {
		t.Fatalf("after restart: %+v", st)
	}
}

// TestSavedState: a restarted state machine serves the state it saved
// until the replayed log reaches it.
func TestSavedState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	apply := func(f *fsm, idx uint64, c Command) {
		b, _ := json.Marshal(c)
		if err, ok := f.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: b}).(error); ok {
			t.Fatal(err)
		}
	}
	f := newFSM(path, io.Discard)
	apply(f, 3, Command{Op: OpAddPeer, Peer: &Peer{"u1", "h1"}})
	apply(f, 4, Command{Op: OpCreateVolume, Volume: vol("v", Brick{Host: "h1", Path: "/b", PeerID: "u1"})})

	g := newFSM(path, io.Discard)
	if st := g.state(); st.Index != 4 || st.Volumes["v"] == nil {
		t.Fatalf("restarted: %+v", st)
	}
	apply(g, 3, Command{Op: OpAddPeer, Peer: &Peer{"u1", "h1"}}) // replay
	if st := g.state(); st.Index != 4 || st.Volumes["v"] == nil {
		t.Fatalf("during replay: %+v", st)
	}
	apply(g, 4, Command{Op: OpCreateVolume, Volume: vol("v", Brick{Host: "h1", Path: "/b", PeerID: "u1"})})
	apply(g, 5, Command{Op: OpSetStatus, Name: "v", Status: StatusStarted})
	if st := g.state(); st.Index != 5 || st.Volumes["v"].Status != StatusStarted {
		t.Fatalf("after replay: %+v", st)
	}
}
