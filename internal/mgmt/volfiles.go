package mgmt

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
	"github.com/gluster-go/gluster-go/internal/volgen"
)

// longPollMax bounds a /v1/volfile?wait= request, as the contract says.
const longPollMax = 60 * time.Second

func toVolgen(v *store.Volume) *volgen.Volume {
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
		gv.Bricks = append(gv.Bricks, volgen.Brick{Host: b.Host, Path: b.Path})
		if slices.Contains(v.Decommissioned, b.Name()) {
			gv.Decommissioned = append(gv.Decommissioned, i)
		}
	}
	for _, o := range v.Options {
		gv.Options[o.Key] = o.Value
	}
	return gv
}

// clientVolfile generates the volfile mounts build their graph from.
func (g *Glusterd) clientVolfile(v *store.Volume) (string, error) {
	f, _, err := volgen.ClientVolfile(toVolgen(v), volgen.Env{Types: g.types})
	if err != nil {
		return "", err
	}
	return f.String(), nil
}

// brickVolfile generates the volfile of brick b's glusterfsd.
func (g *Glusterd) brickVolfile(v *store.Volume, b store.Brick) (string, error) {
	for i, x := range v.Bricks {
		if x == b {
			f, _, err := volgen.BrickVolfile(toVolgen(v), i, volgen.Env{Types: g.types})
			if err != nil {
				return "", err
			}
			return f.String(), nil
		}
	}
	return "", api.Errorf("volume %s has no brick %s", v.Name, b.Name())
}

// serveVolfile implements GET /v1/volfile?id=VOL[&wait=VERSION]: the
// client volfile with its version; with wait, only once the version
// differs from the one the client has (or after longPollMax).
func (g *Glusterd) serveVolfile(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	wait, waiting := r.URL.Query()["wait"]
	ctx, cancel := context.WithTimeout(r.Context(), longPollMax)
	defer cancel()
	st := g.state(ctx)
	for {
		ch := g.store.Updated()
		v, ok := st.Volumes[id]
		if !ok {
			http.Error(w, "volume "+id+" does not exist", http.StatusNotFound)
			return
		}
		version := strconv.FormatUint(v.Version, 10)
		if !waiting || version != wait[0] || ctx.Err() != nil {
			vf, err := g.clientVolfile(v)
			if err != nil {
				http.Error(w, err.Error(), http.StatusConflict)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("X-Volfile-Version", version)
			w.Write([]byte(vf))
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
		}
		st = g.store.State()
	}
}
