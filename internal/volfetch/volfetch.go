// Package volfetch gets a volume's client volfile from glusterd's volfile
// service (GET /v1/volfile?id=VOL on port 24007) and follows its changes
// by long polling, so that a running client graph (the FUSE mount, a gfapi
// Volume) takes option changes made with `gluster volume set` live.
package volfetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/volfile"
)

// DefaultPort is glusterd's management port.
const DefaultPort = 24007

// pollTimeout bounds one long poll: glusterd answers within 60 s.
const pollTimeout = 75 * time.Second

// maxVolfile bounds what we read from a server.
const maxVolfile = 16 << 20

// Volfile is one fetched version of a volume's volfile.
type Volfile struct {
	File    *volfile.File
	Version string
	Server  string // the server that answered
}

// Fetcher asks a list of glusterd servers, in order, for a volume's volfile.
type Fetcher struct {
	Servers []string // "HOST" or "HOST:PORT"
	Port    int      // for servers without a port; 0 = DefaultPort
	Volume  string
	Client  *http.Client // nil = a client without overall timeout
	// Overrides are applied to every fetched volfile, so that they
	// survive later versions.
	Overrides []Override
}

// ParseSpec splits "HOST:/VOL" (the mount source syntax) into its parts.
func ParseSpec(spec string) (host, vol string, err error) {
	i := strings.Index(spec, ":/")
	if i <= 0 || i+2 >= len(spec) {
		return "", "", fmt.Errorf("volume spec %q: want HOST:/VOLUME", spec)
	}
	return spec[:i], spec[i+2:], nil
}

func (f *Fetcher) addr(server string) string {
	if _, _, err := net.SplitHostPort(server); err == nil {
		return server
	}
	port := f.Port
	if port == 0 {
		port = DefaultPort
	}
	return net.JoinHostPort(server, strconv.Itoa(port))
}

func (f *Fetcher) client() *http.Client {
	if f.Client != nil {
		return f.Client
	}
	return http.DefaultClient
}

// Fetch returns the current volfile from the first server that answers.
func (f *Fetcher) Fetch(ctx context.Context) (*Volfile, error) {
	return f.get(ctx, "")
}

// Wait returns the volfile once its version differs from version, or
// (nil, nil) if no change came within one poll.
func (f *Fetcher) Wait(ctx context.Context, version string) (*Volfile, error) {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	v, err := f.get(ctx, version)
	if err != nil || v.Version == version {
		return nil, err
	}
	return v, nil
}

func (f *Fetcher) get(ctx context.Context, wait string) (*Volfile, error) {
	if len(f.Servers) == 0 {
		return nil, fmt.Errorf("fetch volfile %s: no volfile server", f.Volume)
	}
	var errs []error
	for _, s := range f.Servers {
		v, err := f.getFrom(ctx, s, wait)
		if err == nil {
			return v, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func (f *Fetcher) getFrom(ctx context.Context, server, wait string) (*Volfile, error) {
	q := url.Values{"id": {f.Volume}}
	if wait != "" {
		q.Set("wait", wait)
	}
	u := "http://" + f.addr(server) + "/v1/volfile?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch volfile %s from %s: %w", f.Volume, server, err)
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch volfile %s from %s: %w", f.Volume, server, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxVolfile))
	if err != nil {
		return nil, fmt.Errorf("fetch volfile %s from %s: %w", f.Volume, server, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		return &Volfile{Version: wait, Server: server}, nil
	default:
		return nil, fmt.Errorf("fetch volfile %s from %s: %s: %s", f.Volume, server, resp.Status, strings.TrimSpace(string(body)))
	}
	vf, err := volfile.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("fetch volfile %s from %s: %w", f.Volume, server, err)
	}
	Apply(vf, f.Overrides)
	return &Volfile{File: vf, Version: resp.Header.Get("X-Volfile-Version"), Server: server}, nil
}

// Follow applies every new version of the volfile to g until ctx ends:
// option changes go to the layers in place (graph.Reconfigurer); a change
// of structure (add-brick) needs a new graph and is logged. cur is the
// version g was built from.
func Follow(ctx context.Context, f *Fetcher, cur *Volfile, g *graph.Graph, log *slog.Logger) {
	FollowRebuild(ctx, f, cur, g, nil, log)
}

// Rebuild serves a volfile whose structure changed with a new graph,
// which it returns once that graph serves (see internal/graphswitch).
type Rebuild func(ctx context.Context, next *Volfile) (*graph.Graph, error)

// FollowRebuild is Follow that hands structural changes to rebuild (nil:
// log them) and follows the graph it returns from then on.
func FollowRebuild(ctx context.Context, f *Fetcher, cur *Volfile, g *graph.Graph, rebuild Rebuild, log *slog.Logger) {
	backoff := time.Second
	for ctx.Err() == nil {
		next, err := f.Wait(ctx, cur.Version)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("volfile poll failed", "volume", f.Volume, "err", err, "retry", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		if next == nil {
			continue
		}
		log.Info("volfile changed", "volume", f.Volume, "version", next.Version, "server", next.Server)
		switch err := g.Reconfigure(cur.File, next.File); {
		case errors.Is(err, graph.ErrStructural) && rebuild != nil:
			ng, rerr := rebuild(ctx, next)
			if rerr != nil {
				log.Error("volume graph changed but the new graph failed; still serving the old one", "volume", f.Volume, "version", next.Version, "err", rerr, "retry", backoff)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
					return
				}
				backoff = min(2*backoff, 30*time.Second)
				continue
			}
			g = ng
		case errors.Is(err, graph.ErrStructural):
			log.Warn("volume graph changed; remount to use the new graph", "volume", f.Volume, "version", next.Version)
		case err != nil:
			log.Warn("reconfigure failed", "volume", f.Volume, "err", err)
		}
		// Later changes are diffed against what we were sent, so a
		// structural change is reported once, not at every option change.
		cur = next
	}
}
