package mgmt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
)

// routes maps glusterd's HTTP API: the contract endpoints (portmap,
// volfile), the CLI's /v1/peer and /v1/volume calls, and the peer-to-peer
// /v1/internal calls.
func (g *Glusterd) routes() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /v1/portmap", g.handlePortmap)
	m.HandleFunc("POST /v1/portmap/signin", g.handleSignin)
	m.HandleFunc("GET /v1/volfile", g.serveVolfile)
	m.HandleFunc("GET /v1/ping", func(w http.ResponseWriter, r *http.Request) {
		// A node with an empty state (joining, just reset) denies no one.
		st := g.store.State()
		_, member := st.Peer(r.URL.Query().Get("from"))
		member = member || len(st.Peers) == 0
		api.WriteJSON(w, api.Ping{UUID: g.uuid, Hostname: g.hostname, Member: member}, nil)
	})

	m.HandleFunc("POST /v1/peer/probe", handle(func(ctx context.Context, req api.ProbeRequest) (any, error) {
		msg, err := g.probe(ctx, req.Host)
		return api.Message{Message: msg}, err
	}))
	m.HandleFunc("POST /v1/peer/detach", handle(func(ctx context.Context, req api.DetachRequest) (any, error) {
		return nil, g.detach(ctx, req.Host, req.Force)
	}))
	m.HandleFunc("GET /v1/peers", func(w http.ResponseWriter, r *http.Request) {
		api.WriteJSON(w, g.peerList(r.Context()), nil)
	})

	m.HandleFunc("POST /v1/volume/create", handle(func(ctx context.Context, req api.CreateRequest) (any, error) {
		return g.createVolume(ctx, req)
	}))
	m.HandleFunc("POST /v1/volume/start", handle(func(ctx context.Context, req api.VolumeRequest) (any, error) {
		return g.startVolume(ctx, req.Name, req.Force)
	}))
	m.HandleFunc("POST /v1/volume/stop", handle(func(ctx context.Context, req api.VolumeRequest) (any, error) {
		return g.stopVolume(ctx, req.Name, req.Force)
	}))
	m.HandleFunc("POST /v1/volume/delete", handle(func(ctx context.Context, req api.VolumeRequest) (any, error) {
		return g.deleteVolume(ctx, req.Name)
	}))
	m.HandleFunc("POST /v1/volume/set", handle(func(ctx context.Context, req api.SetRequest) (any, error) {
		return nil, g.setOptions(ctx, req)
	}))
	m.HandleFunc("POST /v1/volume/reset", handle(func(ctx context.Context, req api.ResetRequest) (any, error) {
		return nil, g.resetOptions(ctx, req)
	}))
	m.HandleFunc("GET /v1/volume/get", func(w http.ResponseWriter, r *http.Request) {
		opts, err := g.getOptions(r.Context(), r.URL.Query().Get("name"), r.URL.Query().Get("key"))
		api.WriteJSON(w, api.GetResponse{Options: opts}, err)
	})
	m.HandleFunc("GET /v1/volume/info", func(w http.ResponseWriter, r *http.Request) {
		info, err := g.volumeInfo(r.Context(), r.URL.Query().Get("name"))
		api.WriteJSON(w, info, err)
	})
	m.HandleFunc("GET /v1/volume/status", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		st, err := g.volumeStatus(r.Context(), q.Get("name"), q.Get("detail") != "")
		api.WriteJSON(w, st, err)
	})

	m.HandleFunc("POST /v1/internal/prepare-join", handle(func(ctx context.Context, req api.JoinInfo) (any, error) {
		return g.prepareJoin(req.UUID)
	}))
	m.HandleFunc("POST /v1/internal/join", handle(func(ctx context.Context, req api.JoinInfo) (any, error) {
		return nil, g.leaderOnly(func() error { return g.join(ctx, req) })
	}))
	m.HandleFunc("POST /v1/internal/leave", handle(func(ctx context.Context, req api.JoinInfo) (any, error) {
		return nil, g.leaderOnly(func() error { return g.leave(ctx, req) })
	}))
	m.HandleFunc("POST /v1/internal/read-index", handle(func(ctx context.Context, _ struct{}) (any, error) {
		idx, err := g.store.ReadIndex(ctx)
		return api.ApplyResponse{Index: idx}, err
	}))
	m.HandleFunc("POST /v1/internal/apply", handle(func(ctx context.Context, c store.Command) (any, error) {
		idx, err := g.store.ApplyLocal(ctx, &c)
		return api.ApplyResponse{Index: idx}, err
	}))
	m.HandleFunc("POST /v1/internal/reset", handle(func(ctx context.Context, _ struct{}) (any, error) {
		g.opMu.Lock()
		defer g.opMu.Unlock()
		g.log.Info("leaving the pool; starting a pool of our own")
		if err := g.store.Reset(true); err != nil {
			return nil, err
		}
		g.waitSettled(ctx)
		return nil, nil
	}))
	m.HandleFunc("POST /v1/internal/bricks-check", handle(func(ctx context.Context, req api.BricksRequest) (any, error) {
		return nil, g.checkLocalBricks(req.Volume, req.Force)
	}))
	m.HandleFunc("POST /v1/internal/bricks-commit", handle(func(ctx context.Context, req api.BricksRequest) (any, error) {
		return nil, g.commitLocalBricks(req.Volume)
	}))
	m.HandleFunc("POST /v1/internal/bricks-start", handle(func(ctx context.Context, req api.BricksRequest) (any, error) {
		return nil, g.bricks.startVolume(ctx, req.Volume, false)
	}))
	m.HandleFunc("POST /v1/internal/bricks-stop", handle(func(ctx context.Context, req api.BricksRequest) (any, error) {
		g.bricks.stopVolume(req.Volume)
		return nil, nil
	}))
	m.HandleFunc("POST /v1/internal/bricks-refresh", handle(func(ctx context.Context, req api.BricksRequest) (any, error) {
		g.bricks.refresh(req.Volume)
		return nil, nil
	}))
	m.HandleFunc("POST /v1/internal/bricks-status", handle(func(ctx context.Context, req api.BricksRequest) (any, error) {
		return g.bricks.status(req.Volume, req.Detail), nil
	}))
	g.healRoutes(m)
	g.distributeRoutes(m)
	return m
}

// leaderOnly runs f if this node leads, else refuses (the caller retries
// on the new leader).
func (g *Glusterd) leaderOnly(f func() error) error {
	if !g.store.IsLeader() {
		return api.Errorf("not the leader")
	}
	return f()
}

// handle adapts a JSON request/response function to an HTTP handler.
func handle[T any](f func(ctx context.Context, req T) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req T
		if r.ContentLength != 0 {
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				api.WriteJSON(w, nil, api.Errorf("bad request: %v", err))
				return
			}
		}
		out, err := f(r.Context(), req)
		api.WriteJSON(w, out, err)
	}
}

func (g *Glusterd) handlePortmap(w http.ResponseWriter, r *http.Request) {
	port, ok := g.bricks.portOf(r.URL.Query().Get("brick"))
	if !ok {
		http.Error(w, `{"error":"brick not found"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"port\":%d}\n", port)
}

func (g *Glusterd) handleSignin(w http.ResponseWriter, r *http.Request) {
	var req api.PortmapSignin
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Brick == "" || req.Port <= 0 {
		http.Error(w, "want {\"brick\":PATH,\"port\":N}", http.StatusBadRequest)
		return
	}
	g.bricks.signin(req.Brick, req.Port)
	w.WriteHeader(http.StatusNoContent)
}
