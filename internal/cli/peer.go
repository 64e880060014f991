package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
)

const detachQuestion = "All clients mounted through the peer which is getting detached need to be remounted using one of the other active peers in the trusted storage pool to ensure client gets notification on any changes done on the gluster configuration and if the same has been done do you want to proceed?"

func (s *session) peerCommands() *cobra.Command {
	peer := group("peer", "peer commands (probe, detach, status)", 1)
	peer.AddCommand(
		leaf("probe { <HOSTNAME> | <IP-address> }", "probe peer specified by <HOSTNAME>", s.peerProbe),
		leaf("detach { <HOSTNAME> | <IP-address> } [force]", "detach peer specified by <HOSTNAME>", s.peerDetach),
		leaf("status", "list status of peers", s.peerStatus),
	)
	return peer
}

func (s *session) poolCommands() *cobra.Command {
	pool := group("pool", "pool commands (list)", 1)
	pool.AddCommand(leaf("list", "list all the nodes in the pool (including localhost)", s.poolList))
	return pool
}

func (s *session) peerProbe(args []string) error {
	if len(args) != 1 {
		return usage("peer probe { <HOSTNAME> | <IP-address> }")
	}
	var m api.Message
	if err := s.call("POST", "/v1/peer/probe", api.ProbeRequest{Host: args[0]}, &m); err != nil {
		return s.fail("peer probe: failed", err)
	}
	msg := "success"
	if m.Message != "" {
		msg = "success. " + m.Message
	}
	return s.success("", msg, "peer probe: "+msg)
}

func (s *session) peerDetach(args []string) error {
	force := len(args) == 2 && args[1] == "force"
	if len(args) != 1 && !force {
		return usage("peer detach { <HOSTNAME> | <IP-address> } [force]")
	}
	if !s.confirm(detachQuestion) {
		return silent
	}
	if err := s.call("POST", "/v1/peer/detach", api.DetachRequest{Host: args[0], Force: force}, nil); err != nil {
		return s.fail("peer detach: failed", err)
	}
	return s.success("", "success", "peer detach: success")
}

func (s *session) peers() ([]api.PeerInfo, error) {
	var ps []api.PeerInfo
	err := s.call("GET", "/v1/peers", nil, &ps)
	return ps, err
}

func (s *session) peerStatus(args []string) error {
	if len(args) != 0 {
		return usage("peer status")
	}
	ps, err := s.peers()
	if err != nil {
		return s.fail("peer status: failed", err)
	}
	var others []api.PeerInfo
	for _, p := range ps {
		if !p.Self {
			others = append(others, p)
		}
	}
	if s.xml {
		s.xmlPeers(others)
		return nil
	}
	fmt.Fprintf(s.out, "Number of Peers: %d\n", len(others))
	for _, p := range others {
		fmt.Fprintf(s.out, "\nHostname: %s\nUuid: %s\nState: Peer in Cluster (%s)\n", p.Hostname, p.UUID, connected(p.Connected))
	}
	return nil
}

func (s *session) poolList(args []string) error {
	if len(args) != 0 {
		return usage("pool list")
	}
	ps, err := s.peers()
	if err != nil {
		return s.fail("pool list: failed", err)
	}
	// The local node is listed last, as "localhost".
	var list []api.PeerInfo
	var self *api.PeerInfo
	for i, p := range ps {
		if p.Self {
			self = &ps[i]
		} else {
			list = append(list, p)
		}
	}
	if self != nil {
		me := *self
		me.Hostname = "localhost"
		list = append(list, me)
	}
	if s.xml {
		s.xmlPeers(list)
		return nil
	}
	width := 8
	for _, p := range list {
		width = max(width, len(p.Hostname))
	}
	fmt.Fprintf(s.out, "UUID\t\t\t\t\t%-*s\tState\n", width, "Hostname")
	for _, p := range list {
		fmt.Fprintf(s.out, "%s\t%-*s\t%s \n", p.UUID, width, p.Hostname, connected(p.Connected))
	}
	return nil
}

func connected(c bool) string {
	if c {
		return "Connected"
	}
	return "Disconnected"
}

func (s *session) xmlPeers(list []api.PeerInfo) {
	s.xmlResult(0, 0, "", func(x *xmlWriter) {
		x.open("peerStatus")
		for _, p := range list {
			x.open("peer")
			x.leaf("uuid", p.UUID)
			x.leaf("hostname", p.Hostname)
			x.open("hostnames")
			x.leaf("hostname", p.Hostname)
			x.close("hostnames")
			c := 0
			if p.Connected {
				c = 1
			}
			x.leaf("connected", c)
			x.leaf("state", 3)
			x.leaf("stateStr", "Peer in Cluster")
			x.close("peer")
		}
		x.close("peerStatus")
	})
}
