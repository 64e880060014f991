package mgmt

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
	"github.com/gluster-go/gluster-go/internal/volgen"
)

// longPollMax bounds a /v1/volfile?wait= request, as the contract says.
const longPollMax = 60 * time.Second

// clientVolfile generates the volfile mounts build their graph from.
func (g *Glusterd) clientVolfile(v *store.Volume) (string, error) {
	f, _, err := volgen.ClientVolfile(v.Volgen(), volgen.Env{Types: g.types})
	if err != nil {
		return "", err
	}
	return f.String(), nil
}

// brickVolfile generates the volfile of brick b's glusterfsd.
func (g *Glusterd) brickVolfile(v *store.Volume, b store.Brick) (string, error) {
	for i, x := range v.Bricks {
		if x == b {
			f, _, err := volgen.BrickVolfile(v.Volgen(), i, volgen.Env{Types: g.types})
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
