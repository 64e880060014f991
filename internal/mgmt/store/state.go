// Package store holds the trusted storage pool's configuration (peers,
// volumes, bricks, options) for glusterd. Every change is a Command applied
// through one serialized state machine replicated with raft, so all nodes
// see the same pool; glusterd reads the local replica and generates the
// volfiles that the brick (glusterfsd) and client (glusterfs) graphs are
// built from.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/gluster-go/gluster-go/internal/volgen"
)

// Volume status values, as GlusterFS prints them.
const (
	StatusCreated = "Created"
	StatusStarted = "Started"
	StatusStopped = "Stopped"
)

// Peer is one node of the pool.
type Peer struct {
	UUID     string `json:"uuid"`
	Hostname string `json:"hostname"`
}

// Brick is one exported directory of a volume.
type Brick struct {
	Host   string `json:"host"`
	Path   string `json:"path"`
	PeerID string `json:"peerId"` // UUID of the node that hosts it
	// ID names the brick's client layer, VOL-client-N (GlusterFS's
	// brick_id): given once, kept while other bricks come and go,
	// because linkto xattrs and afr changelog keys name it. Empty in
	// pools stored before IDs: the brick's position then.
	ID string `json:"id,omitempty"`
}

// Name is the brick as users write it, HOST:PATH.
func (b Brick) Name() string { return b.Host + ":" + b.Path }

// Option is one reconfigured volume option.
type Option struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Volume is a volume's configuration.
type Volume struct {
	Name            string   `json:"name"`
	ID              string   `json:"id"`
	Status          string   `json:"status"`
	Transport       string   `json:"transport"`
	ReplicaCount    int      `json:"replicaCount"` // 1 when not replicated
	ArbiterCount    int      `json:"arbiterCount"`
	StripeCount     int      `json:"stripeCount"` // 1 when not striped
	DisperseCount   int      `json:"disperseCount"`
	RedundancyCount int      `json:"redundancyCount"`
	Bricks          []Brick  `json:"bricks"`
	Options         []Option `json:"options"` // in the order they were set
	// Decommissioned bricks (HOST:PATH) are being emptied by remove-brick.
	Decommissioned []string `json:"decommissioned,omitempty"`
	// Rebalance is the current or last rebalance or remove-brick.
	Rebalance *Rebalance `json:"rebalance,omitempty"`
	// Version changes whenever the client volfile may change, so that
	// mounted clients waiting on it reload.
	Version uint64 `json:"version"`
}

// SubvolCount is the number of bricks in one replica/stripe/disperse set.
func (v *Volume) SubvolCount() int {
	if v.DisperseCount > 0 {
		return v.DisperseCount
	}
	return max(v.ReplicaCount, 1) * max(v.StripeCount, 1)
}

// DistCount is the number of sets distribute spreads files over.
func (v *Volume) DistCount() int {
	n := v.SubvolCount()
	if n == 0 {
		return len(v.Bricks)
	}
	return len(v.Bricks) / n
}

// TypeName is the volume type as GlusterFS prints it in volume info.
func (v *Volume) TypeName() string { return v.Volgen().TypeName() }

// BrickCountString is the "Number of Bricks:" value of volume info.
func (v *Volume) BrickCountString() string { return v.Volgen().BrickCountString() }

// Volgen is the volume as volfile generation sees it.
func (v *Volume) Volgen() *volgen.Volume {
	gv := &volgen.Volume{
		Name:            v.Name,
		ID:              v.ID,
		ReplicaCount:    v.ReplicaCount,
		ArbiterCount:    v.ArbiterCount,
		StripeCount:     v.StripeCount,
		DisperseCount:   v.DisperseCount,
		RedundancyCount: v.RedundancyCount,
		Transport:       v.Transport,
		Options:         map[string]string{},
	}
	// volgen reads 0 as "not replicated/striped"; the store keeps 1.
	if gv.ReplicaCount == 1 {
		gv.ReplicaCount = 0
	}
	if gv.StripeCount == 1 {
		gv.StripeCount = 0
	}
	for i, b := range v.Bricks {
		gv.Bricks = append(gv.Bricks, volgen.Brick{Host: b.Host, Path: b.Path, ID: b.ID})
		if slices.Contains(v.Decommissioned, b.Name()) {
			gv.Decommissioned = append(gv.Decommissioned, i)
		}
	}
	for _, o := range v.Options {
		gv.Options[o.Key] = o.Value
	}
	return gv
}

// Option returns the value of a reconfigured option.
func (v *Volume) Option(key string) (string, bool) {
	for _, o := range v.Options {
		if o.Key == key {
			return o.Value, true
		}
	}
	return "", false
}

// State is the whole pool configuration.
type State struct {
	Index   uint64             `json:"index"` // raft index of the last applied command
	Peers   []Peer             `json:"peers"` // in the order they joined
	Volumes map[string]*Volume `json:"volumes"`
}

// NewState returns an empty pool.
func NewState() *State { return &State{Volumes: map[string]*Volume{}} }

// Clone returns a deep copy, so readers never race with the state machine.
func (s *State) Clone() *State {
	b, err := json.Marshal(s)
	if err != nil {
		panic("store: marshal state: " + err.Error())
	}
	c := NewState()
	if err := json.Unmarshal(b, c); err != nil {
		panic("store: unmarshal state: " + err.Error())
	}
	return c
}

// Peer returns the peer with the given UUID.
func (s *State) Peer(uuid string) (Peer, bool) {
	for _, p := range s.Peers {
		if p.UUID == uuid {
			return p, true
		}
	}
	return Peer{}, false
}

// PeerByHost returns the peer called host.
func (s *State) PeerByHost(host string) (Peer, bool) {
	for _, p := range s.Peers {
		if p.Hostname == host {
			return p, true
		}
	}
	return Peer{}, false
}

// VolumeNames returns the volume names, sorted as glusterd lists them.
func (s *State) VolumeNames() []string {
	names := make([]string, 0, len(s.Volumes))
	for n := range s.Volumes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// BricksOf returns the bricks (as HOST:PATH) that the peer hosts.
func (s *State) BricksOf(uuid string) []string {
	var out []string
	for _, n := range s.VolumeNames() {
		for _, b := range s.Volumes[n].Bricks {
			if b.PeerID == uuid {
				out = append(out, b.Name())
			}
		}
	}
	return out
}

// Command operations.
const (
	OpAddPeer      = "add-peer"
	OpRemovePeer   = "remove-peer"
	OpCreateVolume = "create-volume"
	OpDeleteVolume = "delete-volume"
	OpSetStatus    = "set-status"
	OpSetOptions   = "set-options"
	OpResetOptions = "reset-options"
)

// Command is one change of the state; Apply checks it against the state
// first, so a failed command changes nothing.
type Command struct {
	Op      string   `json:"op"`
	Peer    *Peer    `json:"peer,omitempty"`
	Volume  *Volume  `json:"volume,omitempty"`
	Name    string   `json:"name,omitempty"`
	Status  string   `json:"status,omitempty"`
	Force   bool     `json:"force,omitempty"`
	Options []Option `json:"options,omitempty"`
	Keys    []string `json:"keys,omitempty"` // reset; empty resets all
	// set-bricks and set-rebalance (see distribute.go)
	Bricks         []Brick    `json:"bricks,omitempty"`
	Decommissioned []string   `json:"decommissioned,omitempty"`
	Rebalance      *Rebalance `json:"rebalance,omitempty"`
}

// Apply validates c against s and applies it. It is deterministic: every
// replica reaches the same state.
func (s *State) Apply(c *Command) error {
	switch c.Op {
	case OpAddPeer:
		if c.Peer == nil || c.Peer.UUID == "" {
			return errors.New("add-peer: no peer")
		}
		for i, p := range s.Peers {
			if p.UUID == c.Peer.UUID {
				s.Peers[i] = *c.Peer // a re-probe may rename it
				return nil
			}
		}
		s.Peers = append(s.Peers, *c.Peer)
	case OpRemovePeer:
		p, ok := s.Peer(c.Name)
		if !ok {
			return fmt.Errorf("%s is not part of cluster", c.Name)
		}
		if b := s.BricksOf(p.UUID); len(b) > 0 {
			return fmt.Errorf("Peer %s hosts one or more bricks. If the peer is in not recoverable state then use either replace-brick or remove-brick command with force to remove all bricks from the peer and attempt the peer detach again.", p.Hostname)
		}
		s.Peers = slices.DeleteFunc(s.Peers, func(q Peer) bool { return q.UUID == p.UUID })
	case OpCreateVolume:
		v := c.Volume
		if v == nil || v.Name == "" {
			return errors.New("create-volume: no volume")
		}
		if err := s.CheckNewVolume(v); err != nil {
			return err
		}
		nv := *v
		nv.Status = StatusCreated
		nv.Version = 1
		nv.Bricks = (&Volume{Name: nv.Name}).WithIDs(nv.Bricks)
		s.Volumes[v.Name] = &nv
	case OpDeleteVolume:
		v, ok := s.Volumes[c.Name]
		if !ok {
			return fmt.Errorf("Volume %s does not exist", c.Name)
		}
		if v.Status == StatusStarted {
			return fmt.Errorf("Volume %s has been started.Volume needs to be stopped before deletion.", c.Name)
		}
		delete(s.Volumes, c.Name)
	case OpSetStatus:
		v, ok := s.Volumes[c.Name]
		if !ok {
			return fmt.Errorf("Volume %s does not exist", c.Name)
		}
		switch c.Status {
		case StatusStarted:
			if v.Status == StatusStarted && !c.Force {
				return fmt.Errorf("Volume %s already started", c.Name)
			}
		case StatusStopped:
			if v.Status != StatusStarted && !c.Force {
				return fmt.Errorf("Volume %s is not in the started state", c.Name)
			}
		case StatusCreated:
			// Only to undo a start that failed on a brick node.
			if !c.Force {
				return fmt.Errorf("set-status: %s needs force", c.Status)
			}
		default:
			return fmt.Errorf("set-status: bad status %q", c.Status)
		}
		v.Status = c.Status
	case OpSetOptions:
		v, ok := s.Volumes[c.Name]
		if !ok {
			return fmt.Errorf("Volume %s does not exist", c.Name)
		}
		for _, o := range c.Options {
			set := false
			for i := range v.Options {
				if v.Options[i].Key == o.Key {
					v.Options[i].Value = o.Value
					set = true
				}
			}
			if !set {
				v.Options = append(v.Options, o)
			}
		}
		v.Version++
	case OpResetOptions:
		v, ok := s.Volumes[c.Name]
		if !ok {
			return fmt.Errorf("Volume %s does not exist", c.Name)
		}
		if len(c.Keys) == 0 {
			v.Options = nil
		} else {
			for _, k := range c.Keys {
				v.Options = slices.DeleteFunc(v.Options, func(o Option) bool { return o.Key == k })
			}
		}
		v.Version++
	case OpSetBricks, OpSetRebalance:
		return s.applyDistribute(c)
	case OpSetReplica:
		return s.applyReplica(c)
	default:
		return fmt.Errorf("unknown command %q", c.Op)
	}
	return nil
}

// CheckNewVolume refuses a volume whose name is taken, bricks on hosts
// outside the pool and bricks that are, contain or sit inside a brick of
// any volume on the same host.
func (s *State) CheckNewVolume(v *Volume) error {
	if _, ok := s.Volumes[v.Name]; ok {
		return fmt.Errorf("Volume %s already exists", v.Name)
	}
	for i, b := range v.Bricks {
		if _, ok := s.Peer(b.PeerID); !ok {
			return fmt.Errorf("Host %s is not in 'Peer in Cluster' state", b.Host)
		}
		for _, n := range s.VolumeNames() {
			for _, o := range s.Volumes[n].Bricks {
				if o.PeerID == b.PeerID && Nested(o.Path, b.Path) {
					return fmt.Errorf("Brick: %s not available. Brick may be containing or be contained by an existing brick.", b.Name())
				}
			}
		}
		for _, o := range v.Bricks[:i] {
			if o.PeerID == b.PeerID && Nested(o.Path, b.Path) {
				if o.Path == b.Path {
					return fmt.Errorf("Found duplicate exports %s", b.Name())
				}
				return fmt.Errorf("Brick: %s not available. Brick may be containing or be contained by an existing brick.", b.Name())
			}
		}
	}
	return nil
}

// Nested reports whether a and b are the same directory or one contains
// the other.
func Nested(a, b string) bool {
	a, b = strings.TrimSuffix(a, "/")+"/", strings.TrimSuffix(b, "/")+"/"
	return strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
}
