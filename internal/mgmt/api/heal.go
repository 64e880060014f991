package api

import "github.com/gluster-go/gluster-go/internal/mgmt/store"

// Heal operations (`gluster volume heal VOL ...`).
const (
	HealIndex          = "index"            // heal VOL
	HealFull           = "full"             // heal VOL full
	HealInfo           = "info"             // heal VOL info
	HealInfoSplitBrain = "info-split-brain" // heal VOL info split-brain
	HealInfoSummary    = "info-summary"     // heal VOL info summary
	HealCount          = "heal-count"       // heal VOL statistics heal-count
	HealSplitBrain     = "split-brain"      // heal VOL split-brain POLICY ...
	HealEnable         = "enable"           // heal VOL enable: the self-heal daemon on
	HealDisable        = "disable"          // heal VOL disable
)

type (
	// HealRequest asks for a heal operation on volume Name; Volume is set
	// on the calls glusterd makes to the nodes holding bricks.
	HealRequest struct {
		Name string `json:"name"`
		Op   string `json:"op"`
		// Split-brain resolution: Policy is bigger-file, latest-mtime or
		// source-brick; File a volume path or gfid:UUID; Source the
		// source brick, HOST:PATH.
		Policy string        `json:"policy,omitempty"`
		File   string        `json:"file,omitempty"`
		Source string        `json:"source,omitempty"`
		Volume *store.Volume `json:"volume,omitempty"`
	}
	// HealEntry is an object a brick's index lists as needing heal.
	HealEntry struct {
		Name       string `json:"name"` // path, or <gfid:UUID>
		GFID       string `json:"gfid"`
		SplitBrain bool   `json:"splitBrain,omitempty"`
	}
	// HealBrick is one brick's part of heal info.
	HealBrick struct {
		Host      string      `json:"host"`
		Path      string      `json:"path"`
		Connected bool        `json:"connected"`
		Entries   []HealEntry `json:"entries"`
	}
	// HealResponse carries heal info per brick, in volume order, or the
	// lines of a split-brain resolution.
	HealResponse struct {
		Bricks []HealBrick `json:"bricks,omitempty"`
		Lines  []string    `json:"lines,omitempty"`
	}
)
