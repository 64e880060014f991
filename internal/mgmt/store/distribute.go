package store

import (
	"errors"
	"fmt"
	"slices"
)

// Commands of distribute's volume changes (add-brick, remove-brick,
// replace-brick, rebalance).
const (
	// OpSetBricks replaces a volume's brick list and decommissioned set.
	OpSetBricks = "set-bricks"
	// OpSetRebalance records a rebalance or remove-brick operation (a new
	// one, or a stop).
	OpSetRebalance = "set-rebalance"
)

// Rebalance kinds.
const (
	RebalanceFixLayout = "fix-layout"
	RebalanceMigrate   = "rebalance"
	RebalanceRemove    = "remove-brick"
)

// Rebalance is a volume's current or last data movement. Every node with
// bricks of the volume runs its part; ID tells runs apart so that a node
// resumes the right one after a restart.
type Rebalance struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Force   bool   `json:"force,omitempty"`
	Stopped bool   `json:"stopped,omitempty"`
	// Commit is the layout commit hash the run stamps on directories.
	Commit uint32 `json:"commit"`
}

func (s *State) applyDistribute(c *Command) error {
	v, ok := s.Volumes[c.Name]
	if !ok {
		return fmt.Errorf("Volume %s does not exist", c.Name)
	}
	switch c.Op {
	case OpSetBricks:
		if len(c.Bricks) == 0 {
			return errors.New("set-bricks: a volume needs at least one brick")
		}
		for _, d := range c.Decommissioned {
			if !slices.ContainsFunc(c.Bricks, func(b Brick) bool { return b.Name() == d }) {
				return fmt.Errorf("set-bricks: decommissioned brick %s is not in the volume", d)
			}
		}
		v.Bricks = v.WithIDs(c.Bricks)
		v.Decommissioned = slices.Clone(c.Decommissioned)
		v.Version++
	case OpSetRebalance:
		if c.Rebalance == nil {
			return errors.New("set-rebalance: no rebalance")
		}
		r := *c.Rebalance
		v.Rebalance = &r
	}
	return nil
}
