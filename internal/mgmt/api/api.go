// Package api is glusterd's HTTP interface: the request and response types
// shared by glusterd (internal/mgmt), its peers and the gluster CLI
// (internal/cli), and a small client. Data never passes through it; it
// carries pool configuration, brick ports and volfiles, which the brick and
// client graphs are built from.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gluster-go/gluster-go/internal/mgmt/store"
)

// DefaultPort is glusterd's management port.
const DefaultPort = 24007

// SelfHealDaemon is the Host of a self-heal daemon's line in volume status.
const SelfHealDaemon = "Self-heal Daemon"

// AddrFile, in glusterd's run directory, holds the HOST:PORT its API
// answers on, for the CLI to find a glusterd bound to one address.
const AddrFile = "glusterd.addr"

// Version is the GlusterFS release whose commands and outputs this build
// follows, printed by --version.
const Version = "11.1"

// Response is the envelope of every /v1 answer except the contract
// endpoints (portmap, volfile), in GlusterFS's opRet/opErrno/opErrstr terms.
type Response struct {
	OpRet    int             `json:"opRet"`
	OpErrno  int             `json:"opErrno"`
	OpErrstr string          `json:"opErrstr"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// OpError is a refused operation: Msg is the one-line reason.
type OpError struct {
	Errno int
	Msg   string
}

func (e *OpError) Error() string { return e.Msg }

// Errorf returns an OpError.
func Errorf(format string, a ...any) *OpError {
	return &OpError{Errno: -1, Msg: fmt.Sprintf(format, a...)}
}

// ErrConnect means glusterd did not answer at all.
var ErrConnect = errors.New("Connection failed. Please check if gluster daemon is operational.")

// Peer requests.
type (
	ProbeRequest struct {
		Host string `json:"host"`
	}
	DetachRequest struct {
		Host  string `json:"host"`
		Force bool   `json:"force"`
	}
	// Message is a success message ("Probe on localhost not needed").
	Message struct {
		Message  string `json:"message,omitempty"`
		Warning  string `json:"warning,omitempty"`
		VolumeID string `json:"volumeId,omitempty"` // of the volume acted on
	}
	PeerInfo struct {
		UUID      string `json:"uuid"`
		Hostname  string `json:"hostname"`
		Connected bool   `json:"connected"`
		Self      bool   `json:"self"`
	}
)

// Volume requests.
type (
	CreateRequest struct {
		Name       string   `json:"name"`
		Replica    int      `json:"replica,omitempty"`
		Arbiter    int      `json:"arbiter,omitempty"`
		Stripe     int      `json:"stripe,omitempty"`
		Disperse   int      `json:"disperse,omitempty"`
		Redundancy int      `json:"redundancy,omitempty"`
		Transport  string   `json:"transport,omitempty"`
		Bricks     []string `json:"bricks"`
		Force      bool     `json:"force,omitempty"`
	}
	VolumeRequest struct {
		Name  string `json:"name"`
		Force bool   `json:"force,omitempty"`
	}
	SetRequest struct {
		Name    string         `json:"name"`
		Options []store.Option `json:"options"`
	}
	ResetRequest struct {
		Name  string `json:"name"`
		Key   string `json:"key,omitempty"`
		Force bool   `json:"force,omitempty"`
	}
	InfoResponse struct {
		Volumes []*store.Volume `json:"volumes"`
	}
	GetResponse struct {
		Options []store.Option `json:"options"`
	}
	BrickStatus struct {
		Host   string `json:"host"`
		Path   string `json:"path"`
		PeerID string `json:"peerId"`
		Port   int    `json:"port"`
		Online bool   `json:"online"`
		Pid    int    `json:"pid"` // -1 when unknown
		// Detail (volume status ... detail).
		FileSystem   string `json:"fsName,omitempty"`
		Device       string `json:"device,omitempty"`
		MountOptions string `json:"mountOptions,omitempty"`
		InodeSize    string `json:"inodeSize,omitempty"`
		BlockSize    uint64 `json:"blockSize,omitempty"`
		Free         uint64 `json:"free,omitempty"`
		Total        uint64 `json:"total,omitempty"`
		Inodes       uint64 `json:"inodes,omitempty"`
		FreeInodes   uint64 `json:"freeInodes,omitempty"`
	}
	// A BrickStatus with Host SelfHealDaemon is a node's self-heal
	// daemon, Path naming the node, as GlusterFS lists it.
	VolumeStatus struct {
		Name   string        `json:"name"`
		Bricks []BrickStatus `json:"bricks"`
	}
	StatusResponse struct {
		Volumes []VolumeStatus `json:"volumes"`
	}
)

// Internal (peer to peer) requests.
type (
	JoinInfo struct {
		UUID     string `json:"uuid"`
		RaftAddr string `json:"raftAddr"`
		Hostname string `json:"hostname"`
	}
	// Ping answers a heartbeat (GET /v1/ping?from=UUID): Member says
	// whether the asking node is in the answering node's pool.
	Ping struct {
		UUID     string `json:"uuid"`
		Hostname string `json:"hostname"`
		Member   bool   `json:"member"`
	}
	ApplyResponse struct {
		Index uint64 `json:"index"`
	}
	BricksRequest struct {
		Volume *store.Volume `json:"volume"`
		Force  bool          `json:"force,omitempty"`
		Detail bool          `json:"detail,omitempty"`
	}
	PortmapSignin struct {
		Brick string `json:"brick"`
		Port  int    `json:"port"`
	}
)

// Client calls one glusterd.
type Client struct {
	Addr string // host:port
	HTTP *http.Client
}

// NewClient returns a client of the glusterd on host (port 24007 unless
// host names one) with the given per-call timeout.
func NewClient(host string, timeout time.Duration) *Client {
	addr := host
	if _, _, err := net.SplitHostPort(host); err != nil {
		addr = net.JoinHostPort(host, strconv.Itoa(DefaultPort))
	}
	return &Client{Addr: addr, HTTP: &http.Client{Timeout: timeout}}
}

// Call sends in (JSON, nil for none) with method to path and decodes the
// envelope's data into out (nil to ignore). A refusal is an *OpError; no
// answer at all wraps ErrConnect.
func (c *Client) Call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.Addr+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w: %w", method, path, ErrConnect, err)
	}
	defer resp.Body.Close()
	var r Response
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("%s %s: bad answer (HTTP %d): %w", method, path, resp.StatusCode, err)
	}
	if r.OpRet != 0 {
		return &OpError{Errno: r.OpErrno, Msg: r.OpErrstr}
	}
	if out != nil && len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// WriteJSON writes data (or err) in the Response envelope.
func WriteJSON(w http.ResponseWriter, data any, err error) {
	var r Response
	if err != nil {
		r.OpRet, r.OpErrno, r.OpErrstr = -1, -1, err.Error()
		var oe *OpError
		if errors.As(err, &oe) {
			r.OpErrno, r.OpErrstr = oe.Errno, oe.Msg
		}
	} else if data != nil {
		b, merr := json.Marshal(data)
		if merr != nil {
			r.OpRet, r.OpErrno, r.OpErrstr = -1, -1, merr.Error()
		} else {
			r.Data = b
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(r)
}
