package mgmt

import (
	"context"
	"slices"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
	"github.com/gluster-go/gluster-go/internal/shd"
)

// addReplica runs `volume add-brick VOL replica N BRICK...`: one new
// brick per replica set for each step of N (taken in order, set after
// set), which the self-heal daemons then fill. The caller holds opMu.
func (g *Glusterd) addReplica(ctx context.Context, v *store.Volume, req api.AddBrickRequest) error {
	if v.DisperseCount > 0 || v.StripeCount > 1 {
		return api.Errorf("Changing the replica count of a %s volume is not supported", typeWord(v))
	}
	if req.Replica < v.ReplicaCount {
		return api.Errorf("Incorrect replica count (%d) supplied. Volume already has (%d)", req.Replica, v.ReplicaCount)
	}
	if v.ArbiterCount > 0 {
		return api.Errorf("Cannot add bricks to an arbiter volume's replica sets")
	}
	sets, more := v.DistCount(), req.Replica-v.ReplicaCount
	if len(req.Bricks) != sets*more {
		return api.Errorf("Incorrect number of bricks supplied %d with count %d", len(req.Bricks), req.Replica)
	}
	st := g.state(ctx)
	added, err := parseBricks(st, req.Bricks)
	if err != nil {
		return err
	}
	if err := g.checkNewBricks(ctx, st, v, added, req.Force); err != nil {
		return err
	}
	next := &store.Volume{ReplicaCount: req.Replica}
	for s := range sets {
		next.Bricks = append(next.Bricks, v.Bricks[s*v.ReplicaCount:(s+1)*v.ReplicaCount]...)
		next.Bricks = append(next.Bricks, added[s*more:(s+1)*more]...)
	}
	next.Bricks = v.WithIDs(next.Bricks)
	if err := g.store.Apply(ctx, &store.Command{Op: store.OpSetReplica, Name: v.Name, Volume: next}); err != nil {
		return err
	}
	nv, err := g.volume(ctx, v.Name)
	if err != nil {
		return err
	}
	if err := g.joinBricks(ctx, v, nv, added); err != nil {
		return err
	}
	if v.Status != store.StatusStarted {
		return nil
	}
	// The new bricks carry no changelog: the roots of their sets accuse
	// them, so that every daemon's index crawl (now, and whenever a
	// brick returns) copies the tree over, object by object.
	var marks []shd.Brick
	for _, b := range added {
		marks = append(marks, shd.Brick{Host: b.Host, Path: b.Path})
	}
	if err := g.withHealer(ctx, nv, func(h *shd.Healer) error { return h.MarkNew(ctx, marks) }); err != nil {
		return api.Errorf("Bricks added, but their heal could not be scheduled: %v. Run 'gluster volume heal %s full'", err, v.Name)
	}
	if err := g.onBrickNodes(ctx, g.state(ctx), nv, "/v1/internal/heal", api.HealRequest{Op: api.HealIndex, Volume: nv}); err != nil {
		g.log.Warn("add-brick: heal of the new replicas not launched", "volume", v.Name, "err", err)
	}
	g.log.Info("replica count raised", "volume", v.Name, "replica", req.Replica, "bricks", req.Bricks)
	return nil
}

// removeReplica runs `volume remove-brick VOL replica N BRICK... force`:
// the same number of bricks leaves every replica set, at once (there is
// nothing to migrate: the others hold the data). The caller holds opMu.
func (g *Glusterd) removeReplica(ctx context.Context, v *store.Volume, req api.RemoveBrickRequest) error {
	if req.Op != api.RemoveCommitForce {
		return api.Errorf("Removing bricks from replicate configuration is not allowed without reducing replica count explicitly. Use 'force' to reduce the replica count")
	}
	if v.DisperseCount > 0 || v.StripeCount > 1 {
		return api.Errorf("Changing the replica count of a %s volume is not supported", typeWord(v))
	}
	if req.Replica < 1 || req.Replica > v.ReplicaCount {
		return api.Errorf("Incorrect replica count (%d) supplied. Volume already has (%d)", req.Replica, v.ReplicaCount)
	}
	fewer := v.ReplicaCount - req.Replica
	if len(req.Bricks) != v.DistCount()*fewer {
		return api.Errorf("Remove brick incorrect brick count of %d for replica %d", len(req.Bricks), req.Replica)
	}
	perSet := map[int]int{}
	var gone []int
	for _, s := range req.Bricks {
		i := slices.IndexFunc(v.Bricks, func(b store.Brick) bool { return b.Name() == s })
		if i < 0 {
			return api.Errorf("Incorrect brick %s for volume %s", s, v.Name)
		}
		if slices.Contains(gone, i) {
			return api.Errorf("Found duplicate exports %s", s)
		}
		gone = append(gone, i)
		perSet[i/v.ReplicaCount]++
	}
	for _, n := range perSet {
		if n != fewer {
			return api.Errorf("Bricks are from same subvol")
		}
	}
	next := &store.Volume{ReplicaCount: req.Replica}
	var removed []store.Brick
	for i, b := range v.Bricks {
		if slices.Contains(gone, i) {
			removed = append(removed, b)
		} else {
			next.Bricks = append(next.Bricks, b)
		}
	}
	if v.ArbiterCount > 0 {
		// Without its last brick a set has no arbiter left; keeping the
		// arbiter as a full replica is not possible (it has no data).
		for i := range gone {
			if (gone[i]+1)%v.ReplicaCount != 0 {
				return api.Errorf("Removing a data brick of an arbiter volume is not supported; remove the arbiter brick")
			}
		}
	}
	if err := g.store.Apply(ctx, &store.Command{Op: store.OpSetReplica, Name: v.Name, Volume: next}); err != nil {
		return err
	}
	g.stopBricks(ctx, v, removed)
	g.log.Info("replica count lowered", "volume", v.Name, "replica", req.Replica, "bricks", req.Bricks)
	return nil
}

func typeWord(v *store.Volume) string {
	if v.DisperseCount > 0 {
		return "disperse"
	}
	return "stripe"
}
