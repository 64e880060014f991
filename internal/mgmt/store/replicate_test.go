package store

import "testing"

func TestSetReplica(t *testing.T) {
	s := pool()
	b1, b2, b3 := Brick{Host: "h1", Path: "/b/1", PeerID: "u1"}, Brick{Host: "h2", Path: "/b/1", PeerID: "u2"}, Brick{Host: "h1", Path: "/b/3", PeerID: "u1"}
	v := vol("v", b1, b2)
	v.ReplicaCount = 2
	if err := s.Apply(&Command{Op: OpCreateVolume, Volume: v}); err != nil {
		t.Fatal(err)
	}
	before := s.Volumes["v"].Version
	if err := s.Apply(&Command{Op: OpSetReplica, Name: "v", Volume: &Volume{ReplicaCount: 2, Bricks: []Brick{b1, b2, b3}}}); err == nil {
		t.Fatal("3 bricks accepted for replica 2")
	}
	if err := s.Apply(&Command{Op: OpSetReplica, Name: "v", Volume: &Volume{ReplicaCount: 3, Bricks: []Brick{b1, b2, b3}}}); err != nil {
		t.Fatal(err)
	}
	got := s.Volumes["v"]
	if got.ReplicaCount != 3 || len(got.Bricks) != 3 || got.Version == before {
		t.Fatalf("after set-replica: %+v", got)
	}
	if err := s.Apply(&Command{Op: OpSetReplica, Name: "nope", Volume: &Volume{ReplicaCount: 1, Bricks: []Brick{b1}}}); err == nil {
		t.Fatal("unknown volume accepted")
	}
}
