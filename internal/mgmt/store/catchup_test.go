package store

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestWaitCaughtUpEndsOnReset: a node whose log has a tail it cannot
// apply (its pool lost quorum) is waiting to catch up when it joins
// another pool (peer probe resets the store); the wait ends with
// ErrRestarted instead of watching the old raft instance forever.
func TestWaitCaughtUpEndsOnReset(t *testing.T) {
	s, err := Open(Config{ID: "u1", Dir: filepath.Join(t.TempDir(), "raft"), Bind: freeAddr(t)}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Apply(ctx, &Command{Op: OpAddPeer, Peer: &Peer{UUID: "u1", Hostname: "h1"}}); err != nil {
		t.Fatal(err)
	}
	// A second voter that never answers: the next entry cannot commit,
	// so the log keeps a tail no leader will apply.
	r, _ := s.raft()
	if err := r.AddVoter("u2", raft.ServerAddress(freeAddr(t)), 0, time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	if err := r.Apply([]byte(`{"op":"add-peer","peer":{"uuid":"u3","hostname":"h3"}}`), time.Second).Error(); err == nil {
		t.Fatal("an entry committed without quorum")
	}
	if r.AppliedIndex() >= r.LastIndex() {
		t.Fatalf("applied %d of %d: no tail to wait for", r.AppliedIndex(), r.LastIndex())
	}
	done := make(chan error, 1)
	go func() { done <- s.WaitCaughtUp(context.Background()) }()
	time.Sleep(300 * time.Millisecond) // let the wait start on the old instance
	if err := s.Reset(false); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, ErrRestarted) {
			t.Fatalf("WaitCaughtUp: %v, want ErrRestarted", err)
		}
	case <-ctx.Done():
		t.Fatal("WaitCaughtUp still waits after the store was reset")
	}
}
