package mgmt_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gluster-go/gluster-go/internal/mgmt/mgmttest"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
)

// raftServers reads a node's raft membership from its state dump.
func raftServers(t *testing.T, n *mgmttest.Node) map[string]bool {
	t.Helper()
	path, err := n.Statedump()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Servers map[string]bool `json:"raftServers"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d.Servers
}

func count(servers map[string]bool) (voters, others int) {
	for _, v := range servers {
		if v {
			voters++
		} else {
			others++
		}
	}
	return
}

// TestVoters: the first three nodes vote, the fourth holds a non-voting
// replica; when a voter is detached, the non-voter is promoted.
func TestVoters(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	ips := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}
	port := mgmttest.FreePort(t, ips...)
	var nodes []*mgmttest.Node
	for _, ip := range ips {
		nodes = append(nodes, mgmttest.Start(t, ip, port))
	}
	h := nodes[0].Addr
	for _, ip := range ips[1:] {
		mustGl(t, h, "peer", "probe", ip)
	}
	if v, o := count(raftServers(t, nodes[0])); v != store.MaxVoters || o != 1 {
		t.Fatalf("voters %d, non-voters %d", v, o)
	}
	// The non-voter has the whole state too.
	eventually(t, "replica on the non-voter", func() error {
		if st := nodes[3].State(); len(st.Peers) != 4 {
			return fmt.Errorf("peers %v", st.Peers)
		}
		return nil
	})
	eventually(t, "peers connected", func() error {
		out, err := gl(t, h, "peer", "status")
		if err != nil || strings.Count(out, "(Connected)") != 3 {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	mustGl(t, h, "peer", "detach", ips[2])
	if v, o := count(raftServers(t, nodes[0])); v != store.MaxVoters || o != 0 {
		t.Fatalf("after detach: voters %d, non-voters %d", v, o)
	}
	// The pool (now three voters, one of them promoted) takes changes.
	mustGl(t, nodes[3].Addr, "volume", "create", "vv", ips[3]+":"+t.TempDir()+"/b", "force")
}
