package mgmt

import (
	"context"
	"slices"
	"strings"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
	"github.com/gluster-go/gluster-go/internal/rebalance"
)

// parseBricks resolves HOST:PATH words to bricks of the pool.
func parseBricks(st *store.State, words []string) ([]store.Brick, error) {
	var out []store.Brick
	for _, s := range words {
		host, path, err := api.ParseBrick(s)
		if err != nil {
			return nil, err
		}
		p, ok := findPeer(st, host)
		if !ok {
			return nil, api.Errorf("Host %s is not in 'Peer in Cluster' state", host)
		}
		out = append(out, store.Brick{Host: host, Path: path, PeerID: p.UUID})
	}
	return out, nil
}

// checkNewBricks refuses bricks that are taken (by any volume, or twice in
// the list) and lets their nodes check the directories.
func (g *Glusterd) checkNewBricks(ctx context.Context, st *store.State, v *store.Volume, bricks []store.Brick, force bool) error {
	probe := &store.Volume{Name: "\x00" + v.Name, Bricks: bricks}
	if err := st.CheckNewVolume(probe); err != nil {
		return api.Errorf("%v", err)
	}
	staged := &store.Volume{Name: v.Name, ID: v.ID, Bricks: bricks}
	return g.onBrickNodes(ctx, st, staged, "/v1/internal/bricks-check", api.BricksRequest{Volume: staged, Force: force})
}

// joinBricks creates the new bricks' directories, stamps the volume id
// and, for a started volume, starts them as bricks of nv (v's new shape),
// before the store publishes nv: clients that switch to the new graph
// find every brick serving.
func (g *Glusterd) joinBricks(ctx context.Context, v, nv *store.Volume, bricks []store.Brick) error {
	st := g.state(ctx)
	staged := *v
	staged.Bricks = bricks
	if err := g.onBrickNodes(ctx, st, &staged, "/v1/internal/bricks-commit", api.BricksRequest{Volume: &staged}); err != nil {
		return err
	}
	if v.Status != store.StatusStarted {
		return nil
	}
	return g.onBrickNodes(ctx, st, nv, "/v1/internal/bricks-start", api.BricksRequest{Volume: nv})
}

// stopBricks stops bricks that left v.
func (g *Glusterd) stopBricks(ctx context.Context, v *store.Volume, bricks []store.Brick) {
	gone := &store.Volume{Name: v.Name, ID: v.ID, Bricks: bricks}
	if err := g.onBrickNodes(ctx, g.state(ctx), gone, "/v1/internal/bricks-stop", api.BricksRequest{Volume: gone}); err != nil {
		g.log.Warn("stop removed bricks", "volume", v.Name, "err", err)
	}
}

// addBrick runs `volume add-brick VOL BRICK...`: whole replica sets of new
// bricks, which get the directory tree on their first lookup and ranges
// at the next fix-layout.
func (g *Glusterd) addBrick(ctx context.Context, req api.AddBrickRequest) error {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	v, err := g.volume(ctx, req.Name)
	if err != nil {
		return err
	}
	if req.Replica != 0 && req.Replica != v.ReplicaCount {
		return g.addReplica(ctx, v, req)
	}
	if g.rebalanceRunning(ctx, v) || (v.Rebalance != nil && v.Rebalance.Kind == store.RebalanceRemove && !v.Rebalance.Stopped) {
		return api.Errorf("Volume %s has a rebalance or remove-brick in progress. Please retry after it completes, or stop it.", v.Name)
	}
	sc := v.SubvolCount()
	if len(req.Bricks) == 0 || len(req.Bricks)%sc != 0 {
		return api.Errorf("Incorrect number of bricks supplied %d with count %d", len(req.Bricks), sc)
	}
	st := g.state(ctx)
	bricks, err := parseBricks(st, req.Bricks)
	if err != nil {
		return err
	}
	if err := g.checkNewBricks(ctx, st, v, bricks, req.Force); err != nil {
		return err
	}
	nv := *v
	nv.Bricks = v.WithIDs(append(slices.Clone(v.Bricks), bricks...))
	if err := g.joinBricks(ctx, v, &nv, bricks); err != nil {
		g.stopBricks(ctx, v, bricks)
		return err
	}
	if err := g.store.Apply(ctx, &store.Command{Op: store.OpSetBricks, Name: v.Name, Bricks: nv.Bricks, Decommissioned: v.Decommissioned}); err != nil {
		g.stopBricks(ctx, v, bricks)
		return err
	}
	g.log.Info("bricks added", "volume", v.Name, "bricks", req.Bricks)
	return nil
}

// removeBrick runs `volume remove-brick VOL BRICK... start|stop|status|
// commit|force`.
func (g *Glusterd) removeBrick(ctx context.Context, req api.RemoveBrickRequest) (api.RebalanceResponse, error) {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	var resp api.RebalanceResponse
	v, err := g.volume(ctx, req.Name)
	if err != nil {
		return resp, err
	}
	if req.Replica != 0 && req.Replica != v.ReplicaCount {
		return resp, g.removeReplica(ctx, v, req)
	}
	var idx []int
	for _, s := range req.Bricks {
		i := slices.IndexFunc(v.Bricks, func(b store.Brick) bool { return b.Name() == s })
		if i < 0 {
			return resp, api.Errorf("Incorrect brick %s for volume %s", s, v.Name)
		}
		idx = append(idx, i)
	}
	names := make([]string, len(idx))
	for k, i := range idx {
		names[k] = v.Bricks[i].Name()
	}
	inTask := v.Rebalance != nil && v.Rebalance.Kind == store.RebalanceRemove && !v.Rebalance.Stopped
	sameSet := inTask && sameBricks(v.Decommissioned, names)
	switch req.Op {
	case api.RemoveStart:
		if err := checkWholeSets(v, idx); err != nil {
			return resp, err
		}
		if v.Status != store.StatusStarted {
			return resp, api.Errorf("Volume %s needs to be started before remove-brick (you can use 'force' or 'commit' to override this behavior)", v.Name)
		}
		if inTask {
			return resp, api.Errorf("An earlier remove-brick task exists for volume %s. Either commit it or stop it before starting a new task.", v.Name)
		}
		if g.rebalanceRunning(ctx, v) {
			return resp, api.Errorf("Rebalance is in progress. Please retry after completion")
		}
		if err := g.store.Apply(ctx, &store.Command{Op: store.OpSetBricks, Name: v.Name, Bricks: v.Bricks, Decommissioned: names}); err != nil {
			return resp, err
		}
		resp.ID, err = g.newRebalance(ctx, v, store.RebalanceRemove, false)
		return resp, err
	case api.RemoveStatus, api.RemoveStop:
		if v.Rebalance == nil || v.Rebalance.Kind != store.RebalanceRemove {
			return resp, api.Errorf("No remove-brick task is in progress for volume %s", v.Name)
		}
		if !sameBricks(v.Decommissioned, names) && len(v.Decommissioned) > 0 {
			return resp, api.Errorf("Incorrect brick(s) given: they are not being removed")
		}
		if req.Op == api.RemoveStop {
			if !inTask {
				return resp, api.Errorf("No remove-brick task is in progress for volume %s", v.Name)
			}
			if err := g.store.Apply(ctx, &store.Command{Op: store.OpSetBricks, Name: v.Name, Bricks: v.Bricks}); err != nil {
				return resp, err
			}
			op := *v.Rebalance
			op.Stopped = true
			if err := g.store.Apply(ctx, &store.Command{Op: store.OpSetRebalance, Name: v.Name, Rebalance: &op}); err != nil {
				return resp, err
			}
			v.Rebalance = &op
		}
		return g.gatherRebalance(ctx, v), nil
	case api.RemoveCommit:
		if !sameSet {
			return resp, api.Errorf("Bricks not decommissioned: run 'remove-brick %s %s start' first", v.Name, strings.Join(names, " "))
		}
		for _, n := range g.gatherRebalance(ctx, v).Nodes {
			switch {
			case n.Status == rebalance.InProgress:
				return resp, api.Errorf("use 'force' option as migration is in progress")
			case n.Status == rebalance.Failed || n.Status == rebalance.Stopped:
				return resp, api.Errorf("use 'force' option as migration has failed")
			case n.Failures > 0 || n.Skipped > 0:
				return resp, api.Errorf("use 'force' option as migration of some files might have been skipped or has failed")
			}
		}
	case api.RemoveCommitForce:
		if err := checkWholeSets(v, idx); err != nil {
			return resp, err
		}
	default:
		return resp, api.Errorf("Invalid remove-brick command %q", req.Op)
	}
	// Commit: the bricks leave the volume (data not migrated stays on them).
	var keep, gone []store.Brick
	for i, b := range v.Bricks {
		if slices.Contains(idx, i) {
			gone = append(gone, b)
		} else {
			keep = append(keep, b)
		}
	}
	if len(keep) == 0 {
		return resp, api.Errorf("Deleting all the bricks of the volume is not allowed")
	}
	if err := g.store.Apply(ctx, &store.Command{Op: store.OpSetBricks, Name: v.Name, Bricks: keep}); err != nil {
		return resp, err
	}
	if inTask {
		op := *v.Rebalance
		op.Stopped = true
		if err := g.store.Apply(ctx, &store.Command{Op: store.OpSetRebalance, Name: v.Name, Rebalance: &op}); err != nil {
			return resp, err
		}
	}
	g.stopBricks(ctx, v, gone)
	g.log.Info("bricks removed", "volume", v.Name, "bricks", names)
	return resp, nil
}

// checkWholeSets refuses to remove part of a replica set.
func checkWholeSets(v *store.Volume, idx []int) error {
	sc := v.SubvolCount()
	if len(idx)%sc != 0 {
		return api.Errorf("Remove brick incorrect brick count of %d for replica %d", len(idx), sc)
	}
	sets := map[int]int{}
	for _, i := range idx {
		sets[i/sc]++
	}
	for _, n := range sets {
		if n != sc {
			return api.Errorf("Bricks not from same subvol for replica")
		}
	}
	return nil
}

func sameBricks(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// replaceBrick runs `volume replace-brick VOL OLD NEW commit force`: NEW
// takes OLD's place (and subvolume name); a replica set heals it, a plain
// distribute subvolume starts empty, as in GlusterFS.
func (g *Glusterd) replaceBrick(ctx context.Context, req api.ReplaceBrickRequest) error {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	v, err := g.volume(ctx, req.Name)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(v.Bricks, func(b store.Brick) bool { return b.Name() == req.Old })
	if i < 0 {
		return api.Errorf("brick: %s does not exist in volume: %s", req.Old, v.Name)
	}
	st := g.state(ctx)
	nb, err := parseBricks(st, []string{req.New})
	if err != nil {
		return err
	}
	// "commit force" is the only form, and forces as volume create's
	// force does (a brick on the root file system).
	if err := g.checkNewBricks(ctx, st, v, nb, true); err != nil {
		return err
	}
	bricks := v.WithIDs(v.Bricks)
	old := bricks[i]
	// NEW serves under OLD's client name: its replicas' changelogs
	// and linkto files name it so.
	nb[0].ID = old.ID
	bricks[i] = nb[0]
	var dec []string
	for _, d := range v.Decommissioned {
		if d != old.Name() {
			dec = append(dec, d)
		}
	}
	nv := *v
	nv.Bricks, nv.Decommissioned = bricks, dec
	if err := g.joinBricks(ctx, v, &nv, nb); err != nil {
		g.stopBricks(ctx, v, nb)
		return err
	}
	if err := g.store.Apply(ctx, &store.Command{Op: store.OpSetBricks, Name: v.Name, Bricks: bricks, Decommissioned: dec}); err != nil {
		g.stopBricks(ctx, v, nb)
		return err
	}
	g.stopBricks(ctx, v, []store.Brick{old})
	g.log.Info("brick replaced", "volume", v.Name, "old", req.Old, "new", req.New)
	return nil
}
