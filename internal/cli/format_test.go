package cli

import (
	"bytes"
	"testing"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
)

// The layouts below are GlusterFS's, byte for byte (trailing blanks
// included): scripts parse them.

func TestInfoLayout(t *testing.T) {
	v := &store.Volume{
		Name: "gv0", ID: "3a6bbebb-e081-4bcc-b41f-eb85cb2bf3a4", Status: store.StatusStarted, Transport: "tcp",
		ReplicaCount: 3, ArbiterCount: 1, StripeCount: 1,
		Bricks: []store.Brick{
			{Host: "n1", Path: "/b/1"}, {Host: "n2", Path: "/b/1"}, {Host: "n3", Path: "/b/1"},
			{Host: "n1", Path: "/b/2"}, {Host: "n2", Path: "/b/2"}, {Host: "n3", Path: "/b/2"},
		},
		Options: []store.Option{{Key: "network.ping-timeout", Value: "22"}, {Key: "auth.allow", Value: "10.0.0.1"}},
	}
	var b bytes.Buffer
	printInfo(&b, v)
	want := ` 
Volume Name: gv0
Type: Distributed-Replicate
Volume ID: 3a6bbebb-e081-4bcc-b41f-eb85cb2bf3a4
Status: Started
Snapshot Count: 0
Number of Bricks: 2 x (2 + 1) = 6
Transport-type: tcp
Bricks:
Brick1: n1:/b/1
Brick2: n2:/b/1
Brick3: n3:/b/1 (arbiter)
Brick4: n1:/b/2
Brick5: n2:/b/2
Brick6: n3:/b/2 (arbiter)
Options Reconfigured:
network.ping-timeout: 22
auth.allow: 10.0.0.1
`
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestBrickCount(t *testing.T) {
	bricks := make([]store.Brick, 6)
	for _, c := range []struct {
		v    store.Volume
		want string
	}{
		{store.Volume{ReplicaCount: 1, StripeCount: 1, Bricks: bricks[:3]}, "3"},
		{store.Volume{ReplicaCount: 2, StripeCount: 1, Bricks: bricks[:4]}, "2 x 2 = 4"},
		{store.Volume{ReplicaCount: 1, StripeCount: 3, Bricks: bricks[:3]}, "1 x 3 = 3"},
		{store.Volume{ReplicaCount: 1, StripeCount: 1, DisperseCount: 3, RedundancyCount: 1, Bricks: bricks}, "2 x (2 + 1) = 6"},
	} {
		if got := c.v.BrickCountString(); got != c.want {
			t.Errorf("%+v: %s, want %s", c.v, got, c.want)
		}
	}
}

func TestStatusLayout(t *testing.T) {
	v := api.VolumeStatus{Name: "gv0", Bricks: []api.BrickStatus{
		{Host: "node1", Path: "/export/brick1", Port: 49152, Online: true, Pid: 1234},
		{Host: "node2", Path: "/export/a/rather/long/brick/path/name", Pid: -1},
		{Host: api.SelfHealDaemon, Path: "localhost", Online: true, Pid: 999},
	}}
	var b bytes.Buffer
	printStatus(&b, v, false)
	want := "Status of volume: gv0\n" +
		"Gluster process                             TCP Port  RDMA Port  Online  Pid\n" +
		"------------------------------------------------------------------------------\n" +
		"Brick node1:/export/brick1                  49152     0          Y       1234 \n" +
		"Brick node2:/export/a/rather/long/brick/pat\n" +
		"h/name                                      N/A       N/A        N       N/A  \n" +
		"Self-heal Daemon on localhost               N/A       N/A        Y       999  \n" +
		" \n" +
		"Task Status of Volume gv0\n" +
		"------------------------------------------------------------------------------\n" +
		"There are no active volume tasks\n" +
		" \n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[uint64]string{512: "512Bytes", 1536: "1.5KB", 10 << 30: "10.0GB", 3 << 40: "3.0TB"} {
		if got := humanSize(n); got != want {
			t.Errorf("%d: %s, want %s", n, got, want)
		}
	}
}
