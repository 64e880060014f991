package api

import "github.com/gluster-go/gluster-go/internal/mgmt/store"

// Distribute's volume changes: add-brick, remove-brick, replace-brick and
// rebalance.
type (
	AddBrickRequest struct {
		Name    string   `json:"name"`
		Replica int      `json:"replica,omitempty"` // 0: unchanged
		Bricks  []string `json:"bricks"`
		Force   bool     `json:"force,omitempty"`
	}
	// RebalanceRequest: Op is start, fix-layout, stop or status.
	RebalanceRequest struct {
		Name  string `json:"name"`
		Op    string `json:"op"`
		Force bool   `json:"force,omitempty"`
	}
	// RemoveBrickRequest: Op is start, stop, status, commit or force
	// (commit without migration).
	RemoveBrickRequest struct {
		Name    string   `json:"name"`
		Replica int      `json:"replica,omitempty"`
		Bricks  []string `json:"bricks"`
		Op      string   `json:"op"`
	}
	ReplaceBrickRequest struct {
		Name string `json:"name"`
		Old  string `json:"old"`
		New  string `json:"new"`
	}
	// RebalanceNode is one node's part of a rebalance or remove-brick.
	RebalanceNode struct {
		Node     string  `json:"node"`
		UUID     string  `json:"uuid,omitempty"` // the node's peer UUID
		Files    int64   `json:"files"`
		Bytes    int64   `json:"bytes"`
		Scanned  int64   `json:"scanned"`
		Failures int64   `json:"failures"`
		Skipped  int64   `json:"skipped"`
		Status   string  `json:"status"`
		Elapsed  float64 `json:"elapsed"`
	}
	RebalanceResponse struct {
		ID    string          `json:"id,omitempty"`
		Kind  string          `json:"kind,omitempty"`
		Nodes []RebalanceNode `json:"nodes,omitempty"`
	}
	// RebalanceLocalRequest asks a node for its part of v's rebalance.
	RebalanceLocalRequest struct {
		Volume *store.Volume `json:"volume"`
	}
)

// Rebalance operations.
const (
	RebalanceStart     = "start"
	RebalanceFixLayout = "fix-layout"
	RebalanceStop      = "stop"
	RebalanceStatus    = "status"
)

// Remove-brick operations.
const (
	RemoveStart       = "start"
	RemoveStop        = "stop"
	RemoveStatus      = "status"
	RemoveCommit      = "commit"
	RemoveCommitForce = "commit force"
)
