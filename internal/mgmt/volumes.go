package mgmt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
	"github.com/gluster-go/gluster-go/internal/volopt"
)

// Brick root xattrs, as GlusterFS stamps them.
const (
	xattrVolumeID = "trusted.glusterfs.volume-id"
	xattrGFID     = "trusted.gfid"
)

// createVolume runs "volume create": parse and check, let every brick's
// node check its directories, commit the volume, then have the nodes
// create the directories and stamp the volume id.
func (g *Glusterd) createVolume(ctx context.Context, req api.CreateRequest) (api.Message, error) {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	var msg api.Message
	if err := api.ValidateVolumeName(req.Name); err != nil {
		return msg, err
	}
	v := &store.Volume{
		Name: req.Name, ID: uuid.NewString(), Transport: "tcp",
		ReplicaCount: max(req.Replica, 1), ArbiterCount: req.Arbiter, StripeCount: max(req.Stripe, 1),
		DisperseCount: req.Disperse, RedundancyCount: req.Redundancy,
	}
	switch strings.ToLower(req.Transport) {
	case "", "tcp":
	case "rdma":
		return msg, api.Errorf("transport-type rdma is not supported by this build; use tcp")
	case "tcp,rdma", "rdma,tcp":
		msg.Warning = "transport-type rdma is not supported; volume " + req.Name + " uses tcp only"
	default:
		return msg, api.Errorf("transport-type %s does not exist", req.Transport)
	}
	st := g.state(ctx)
	if _, ok := st.Volumes[req.Name]; ok {
		return msg, api.Errorf("Volume %s already exists", req.Name)
	}
	seen := map[string]bool{}
	for _, s := range req.Bricks {
		host, path, err := api.ParseBrick(s)
		if err != nil {
			return msg, err
		}
		if seen[host+":"+path] {
			return msg, api.Errorf("Found duplicate exports %s", s)
		}
		seen[host+":"+path] = true
		p, ok := findPeer(st, host)
		if !ok {
			return msg, api.Errorf("Host %s is not in 'Peer in Cluster' state", host)
		}
		v.Bricks = append(v.Bricks, store.Brick{Host: host, Path: path, PeerID: p.UUID})
	}
	if err := checkLayout(v); err != nil {
		return msg, err
	}
	if !req.Force {
		if err := checkSpread(v); err != nil {
			return msg, err
		}
	}
	if err := st.CheckNewVolume(v); err != nil {
		return msg, api.Errorf("%v", err)
	}
	// Stage: every node checks its bricks; nothing is changed yet.
	if err := g.onBrickNodes(ctx, st, v, "/v1/internal/bricks-check", api.BricksRequest{Volume: v, Force: req.Force}); err != nil {
		return msg, err
	}
	if err := g.store.Apply(ctx, &store.Command{Op: store.OpCreateVolume, Volume: v}); err != nil {
		return msg, err
	}
	// Commit: directories and volume ids.
	if err := g.onBrickNodes(ctx, st, v, "/v1/internal/bricks-commit", api.BricksRequest{Volume: v, Force: req.Force}); err != nil {
		if derr := g.store.Apply(ctx, &store.Command{Op: store.OpDeleteVolume, Name: v.Name}); derr != nil {
			g.log.Error("undo volume create", "volume", v.Name, "err", derr)
		}
		return msg, err
	}
	g.log.Info("volume created", "volume", v.Name, "id", v.ID, "bricks", len(v.Bricks))
	msg.VolumeID = v.ID
	return msg, nil
}

// checkLayout applies the CLI's count rules.
func checkLayout(v *store.Volume) error {
	n := len(v.Bricks)
	if n == 0 {
		return api.Errorf("No bricks specified")
	}
	if v.ArbiterCount != 0 && (v.ArbiterCount != 1 || v.ReplicaCount != 3) {
		return api.Errorf("For arbiter configuration, replica count must be 2 and arbiter count must be 1. The 3rd brick of the replica will be the arbiter")
	}
	if v.DisperseCount > 0 {
		if v.ReplicaCount > 1 {
			return api.Errorf("replicated-dispersed volume is not supported")
		}
		if v.RedundancyCount < 1 || v.RedundancyCount > (v.DisperseCount-1)/2 {
			return api.Errorf("redundancy must be greater than or equal to 1 and less than %d for a disperse %d volume", (v.DisperseCount+1)/2, v.DisperseCount)
		}
		if n%v.DisperseCount != 0 {
			return api.Errorf("number of bricks is not a multiple of disperse count")
		}
		return nil
	}
	if sc := v.SubvolCount(); n%sc != 0 {
		if v.ReplicaCount > 1 && v.StripeCount <= 1 {
			return api.Errorf("number of bricks is not a multiple of replica count")
		}
		return api.Errorf("number of bricks given doesn't match required count")
	}
	return nil
}

// checkSpread refuses a replica or disperse set with two bricks on one
// server (it would not survive that server), unless forced.
func checkSpread(v *store.Volume) error {
	sc := v.SubvolCount()
	kind := "replicate"
	switch {
	case v.DisperseCount > 0:
		kind = "disperse"
	case v.ReplicaCount <= 1:
		return nil
	}
	for i := 0; i+sc <= len(v.Bricks); i += sc {
		hosts := map[string]bool{}
		for _, b := range v.Bricks[i : i+sc] {
			if hosts[b.PeerID] {
				return api.Errorf("Multiple bricks of a %s volume are present on the same server. This setup is not optimal. Bricks should be on different nodes to have best fault tolerant configuration. Use 'force' at the end of the command if you want to override this behavior.", kind)
			}
			hosts[b.PeerID] = true
		}
	}
	return nil
}

// onBrickNodes calls path on every node that hosts a brick of v, this one
// included, and returns the first refusal.
func (g *Glusterd) onBrickNodes(ctx context.Context, st *store.State, v *store.Volume, path string, req any) error {
	for _, p := range brickPeers(st, v) {
		err := g.peerClient(p.Hostname, 2*brickStartTimeout).Call(ctx, "POST", path, req, nil)
		if errors.Is(err, api.ErrConnect) {
			return api.Errorf("Host %s not connected", p.Hostname)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// brickPeers returns the nodes that host bricks of v, each once, in the
// order of their first brick.
func brickPeers(st *store.State, v *store.Volume) []store.Peer {
	var out []store.Peer
	seen := map[string]bool{}
	for _, b := range v.Bricks {
		if !seen[b.PeerID] {
			seen[b.PeerID] = true
			p, _ := st.Peer(b.PeerID)
			out = append(out, p)
		}
	}
	return out
}

// checkLocalBricks is the stage of volume create on a brick's node.
func (g *Glusterd) checkLocalBricks(v *store.Volume, force bool) error {
	for _, b := range g.bricks.local(v) {
		if err := checkBrickPath(b, force); err != nil {
			return err
		}
	}
	return nil
}

func checkBrickPath(b store.Brick, force bool) error {
	fi, err := os.Stat(b.Path)
	switch {
	case err == nil && !fi.IsDir():
		return api.Errorf("%s is not a directory", b.Path)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return api.Errorf("Failed to check brick %s: %v", b.Name(), err)
	}
	// The brick, or a directory above it, already belongs to a volume.
	for dir := b.Path; ; dir = filepath.Dir(dir) {
		for _, key := range []string{xattrGFID, xattrVolumeID} {
			if _, err := unix.Lgetxattr(dir, key, nil); err == nil {
				if dir == b.Path {
					return api.Errorf("%s is already part of a volume", b.Path)
				}
				return api.Errorf("parent directory %s is already part of a volume", dir)
			}
		}
		if dir == "/" {
			break
		}
	}
	if force {
		return nil
	}
	// The brick's file system: its nearest existing ancestor's device.
	dir := b.Path
	for {
		if _, err := os.Stat(dir); err == nil {
			break
		}
		dir = filepath.Dir(dir)
	}
	var bst, rst, pst syscall.Stat_t
	if syscall.Stat(dir, &bst) == nil && syscall.Stat("/", &rst) == nil && bst.Dev == rst.Dev {
		return api.Errorf("The brick %s is being created in the root partition. It is recommended that you don't use the system's root partition for storage backend. Or use 'force' at the end of the command if you want to override this behavior.", b.Name())
	}
	if dir == b.Path && syscall.Stat(filepath.Dir(b.Path), &pst) == nil && pst.Dev != bst.Dev {
		return api.Errorf("The brick %s is a mount point. Please create a sub-directory under the mount point and use that as the brick directory. Or use 'force' at the end of the command if you want to override this behavior.", b.Name())
	}
	return nil
}

// commitLocalBricks creates the brick directories and stamps the volume id.
func (g *Glusterd) commitLocalBricks(v *store.Volume) error {
	id, err := uuid.Parse(v.ID)
	if err != nil {
		return fmt.Errorf("volume %s: bad id %q: %w", v.Name, v.ID, err)
	}
	for _, b := range g.bricks.local(v) {
		if err := os.MkdirAll(filepath.Join(b.Path, ".glusterfs"), 0o755); err != nil {
			return api.Errorf("Failed to create brick directory for brick %s. Reason : %v", b.Name(), err)
		}
		if err := unix.Lsetxattr(b.Path, xattrVolumeID, id[:], 0); err != nil {
			return api.Errorf("Failed to set extended attribute %s on %s. Reason : %v", xattrVolumeID, b.Path, err)
		}
	}
	return nil
}

// volume returns a volume of the local state or GlusterFS's refusal.
func (g *Glusterd) volume(ctx context.Context, name string) (*store.Volume, error) {
	v, ok := g.state(ctx).Volumes[name]
	if !ok {
		return nil, api.Errorf("Volume %s does not exist", name)
	}
	return v, nil
}

// startVolume runs "volume start": commit the status, then every brick
// node starts its bricks and answers once they accept connections.
func (g *Glusterd) startVolume(ctx context.Context, name string, force bool) (api.Message, error) {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	v, err := g.volume(ctx, name)
	if err != nil {
		return api.Message{}, err
	}
	return api.Message{VolumeID: v.ID}, g.startLocked(ctx, v, force)
}

func (g *Glusterd) startLocked(ctx context.Context, v *store.Volume, force bool) error {
	name := v.Name
	if v.Status == store.StatusStarted && !force {
		return api.Errorf("Volume %s already started", name)
	}
	if _, err := g.clientVolfile(v); err != nil {
		return api.Errorf("%v", err)
	}
	prev := v.Status
	if err := g.store.Apply(ctx, &store.Command{Op: store.OpSetStatus, Name: name, Status: store.StatusStarted, Force: force}); err != nil {
		return err
	}
	v.Status = store.StatusStarted
	st := g.state(ctx)
	if err := g.onBrickNodes(ctx, st, v, "/v1/internal/bricks-start", api.BricksRequest{Volume: v, Force: force}); err != nil {
		if prev != store.StatusStarted {
			// Undo: the volume goes back to what it was, bricks that did
			// start stop again.
			if uerr := g.store.Apply(ctx, &store.Command{Op: store.OpSetStatus, Name: name, Status: prev, Force: true}); uerr != nil {
				g.log.Error("undo volume start", "volume", name, "err", uerr)
			}
			if serr := g.onBrickNodes(ctx, st, v, "/v1/internal/bricks-stop", api.BricksRequest{Volume: v}); serr != nil {
				g.log.Warn("stop bricks after failed start", "volume", name, "err", serr)
			}
		}
		return err
	}
	g.log.Info("volume started", "volume", name)
	return nil
}

// stopVolume runs "volume stop".
func (g *Glusterd) stopVolume(ctx context.Context, name string, force bool) (api.Message, error) {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	v, err := g.volume(ctx, name)
	if err != nil {
		return api.Message{}, err
	}
	return api.Message{VolumeID: v.ID}, g.stopLocked(ctx, v, force)
}

func (g *Glusterd) stopLocked(ctx context.Context, v *store.Volume, force bool) error {
	name := v.Name
	if v.Status != store.StatusStarted && !force {
		return api.Errorf("Volume %s is not in the started state", name)
	}
	if err := g.store.Apply(ctx, &store.Command{Op: store.OpSetStatus, Name: name, Status: store.StatusStopped, Force: force}); err != nil {
		return err
	}
	// Nodes that are down stop their bricks when they catch up.
	if err := g.onBrickNodes(ctx, g.store.State(), v, "/v1/internal/bricks-stop", api.BricksRequest{Volume: v}); err != nil && !force {
		g.log.Warn("stop bricks", "volume", name, "err", err)
	}
	g.log.Info("volume stopped", "volume", name)
	return nil
}

// deleteVolume runs "volume delete". Brick directories keep their data and
// volume id, as in GlusterFS.
func (g *Glusterd) deleteVolume(ctx context.Context, name string) (api.Message, error) {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	v, err := g.volume(ctx, name)
	if err != nil {
		return api.Message{}, err
	}
	return api.Message{VolumeID: v.ID}, g.store.Apply(ctx, &store.Command{Op: store.OpDeleteVolume, Name: name})
}

// setOptions runs "volume set": each key validated against volopt, the
// combination checked, then committed (bumping the volfile version).
func (g *Glusterd) setOptions(ctx context.Context, req api.SetRequest) error {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	v, err := g.volume(ctx, req.Name)
	if err != nil {
		return err
	}
	if len(req.Options) == 0 {
		return api.Errorf("Empty key-value pair")
	}
	var opts []store.Option
	merged := map[string]string{}
	for _, o := range v.Options {
		merged[o.Key] = o.Value
	}
	for _, o := range req.Options {
		key, val, err := volopt.Validate(o.Key, o.Value)
		if err != nil {
			return api.Errorf("%v", err)
		}
		opts = append(opts, store.Option{Key: key, Value: val})
		merged[key] = val
	}
	if err := volopt.Check(merged); err != nil {
		return api.Errorf("%v", err)
	}
	if err := g.store.Apply(ctx, &store.Command{Op: store.OpSetOptions, Name: req.Name, Options: opts}); err != nil {
		return err
	}
	g.refreshBricks(ctx, req.Name)
	return nil
}

// refreshBricks has every node bring the running bricks of vol to its
// current options before the command returns (a node that is down does it
// when it catches up).
func (g *Glusterd) refreshBricks(ctx context.Context, vol string) {
	st := g.state(ctx)
	v, ok := st.Volumes[vol]
	if !ok || v.Status != store.StatusStarted {
		return
	}
	if err := g.onBrickNodes(ctx, st, v, "/v1/internal/bricks-refresh", api.BricksRequest{Volume: v}); err != nil {
		g.log.Warn("reconfigure bricks", "volume", vol, "err", err)
	}
}

// resetOptions runs "volume reset".
func (g *Glusterd) resetOptions(ctx context.Context, req api.ResetRequest) error {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	v, err := g.volume(ctx, req.Name)
	if err != nil {
		return err
	}
	var keys []string
	if req.Key != "" && req.Key != "all" {
		o, err := volopt.Lookup(req.Key)
		if err != nil {
			return api.Errorf("%v", err)
		}
		keys = []string{o.Key}
		// The default may not suit the options left set.
		left := map[string]string{}
		for _, opt := range v.Options {
			if opt.Key != o.Key {
				left[opt.Key] = opt.Value
			}
		}
		if err := volopt.Check(left); err != nil {
			return api.Errorf("%v", err)
		}
	}
	if err := g.store.Apply(ctx, &store.Command{Op: store.OpResetOptions, Name: req.Name, Keys: keys}); err != nil {
		return err
	}
	g.refreshBricks(ctx, req.Name)
	return nil
}

// getOptions runs "volume get": the effective value of one key, or of all.
func (g *Glusterd) getOptions(ctx context.Context, name, key string) ([]store.Option, error) {
	v, err := g.volume(ctx, name)
	if err != nil {
		return nil, err
	}
	set := map[string]string{}
	for _, o := range v.Options {
		set[o.Key] = o.Value
	}
	if key != "all" {
		o, err := volopt.Lookup(key)
		if err != nil {
			return nil, api.Errorf("%v", err)
		}
		return []store.Option{{Key: o.Key, Value: volopt.Effective(set, o.Key)}}, nil
	}
	var out []store.Option
	for _, o := range volopt.All() {
		out = append(out, store.Option{Key: o.Key, Value: volopt.Effective(set, o.Key)})
	}
	return out, nil
}

// volumeInfo answers "volume info [VOL|all]".
func (g *Glusterd) volumeInfo(ctx context.Context, name string) (api.InfoResponse, error) {
	st := g.state(ctx)
	var r api.InfoResponse
	if name != "" && name != "all" {
		v, ok := st.Volumes[name]
		if !ok {
			return r, api.Errorf("Volume %s does not exist", name)
		}
		r.Volumes = append(r.Volumes, v)
		return r, nil
	}
	for _, n := range st.VolumeNames() {
		r.Volumes = append(r.Volumes, st.Volumes[n])
	}
	return r, nil
}

// volumeStatus answers "volume status [VOL|all] [detail]" by asking every
// brick node about its bricks; bricks of unreachable nodes show offline.
func (g *Glusterd) volumeStatus(ctx context.Context, name string, detail bool) (api.StatusResponse, error) {
	st := g.state(ctx)
	var r api.StatusResponse
	var names []string
	if name != "" && name != "all" {
		v, ok := st.Volumes[name]
		if !ok {
			return r, api.Errorf("Volume %s does not exist", name)
		}
		if v.Status != store.StatusStarted {
			return r, api.Errorf("Volume %s is not started", name)
		}
		names = []string{name}
	} else {
		for _, n := range st.VolumeNames() {
			if st.Volumes[n].Status == store.StatusStarted {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			return r, api.Errorf("No volumes present")
		}
	}
	for _, n := range names {
		v := st.Volumes[n]
		got := map[string]api.BrickStatus{}
		var daemons []api.BrickStatus
		for _, p := range brickPeers(st, v) {
			var list []api.BrickStatus
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			err := g.peerClient(p.Hostname, 3*time.Second).Call(cctx, "POST", "/v1/internal/bricks-status", api.BricksRequest{Volume: v, Detail: detail}, &list)
			cancel()
			if err != nil {
				g.log.Warn("brick status", "host", p.Hostname, "err", err)
				continue
			}
			for _, bs := range list {
				if bs.Host == api.SelfHealDaemon {
					if bs.PeerID == g.uuid {
						bs.Path = "localhost"
					}
					daemons = append(daemons, bs)
					continue
				}
				got[bs.Host+":"+bs.Path] = bs
			}
		}
		vs := api.VolumeStatus{Name: n}
		for _, b := range v.Bricks {
			bs, ok := got[b.Name()]
			if !ok {
				bs = api.BrickStatus{Host: b.Host, Path: b.Path, PeerID: b.PeerID, Pid: -1}
			}
			vs.Bricks = append(vs.Bricks, bs)
		}
		vs.Bricks = append(vs.Bricks, daemons...)
		r.Volumes = append(r.Volumes, vs)
	}
	return r, nil
}
