package store

import (
	"errors"
	"fmt"
)

// OpSetReplica changes a volume's replica count together with its brick
// list (add-brick VOL replica N, remove-brick VOL replica N ... force).
// The command's Volume carries the new ReplicaCount, ArbiterCount and
// Bricks.
const OpSetReplica = "set-replica"

func (s *State) applyReplica(c *Command) error {
	v, ok := s.Volumes[c.Name]
	if !ok {
		return fmt.Errorf("Volume %s does not exist", c.Name)
	}
	n := c.Volume
	if n == nil || len(n.Bricks) == 0 || n.ReplicaCount < 1 {
		return errors.New("set-replica: no bricks or replica count")
	}
	if len(n.Bricks)%n.ReplicaCount != 0 {
		return fmt.Errorf("set-replica: %d bricks are not a multiple of replica %d", len(n.Bricks), n.ReplicaCount)
	}
	v.Bricks = v.WithIDs(n.Bricks)
	v.ReplicaCount = n.ReplicaCount
	v.ArbiterCount = n.ArbiterCount
	v.Version++
	return nil
}
