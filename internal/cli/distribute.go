package cli

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
)

const (
	addBrickUsage     = "volume add-brick <VOLNAME> [<replica> <COUNT> [arbiter <COUNT>]] <NEW-BRICK> ... [force]"
	removeBrickUsage  = "volume remove-brick <VOLNAME> [replica <COUNT>] <BRICK> ... <start|stop|status|commit|force>"
	replaceBrickUsage = "volume replace-brick <VOLNAME> <SOURCE-BRICK> <NEW-BRICK> {commit force}"
	rebalanceUsage    = "volume rebalance <VOLNAME> {{fix-layout start} | {start [force]|stop|status}}"

	removeStartQuestion = "It is recommended that remove-brick be run with cluster.force-migration option disabled to prevent possible data corruption. Doing so will ensure that files that receive writes during migration will not be migrated and will need to be manually copied after the remove-brick commit operation. Please check the value of the option and update accordingly. \nDo you want to continue with your current cluster.force-migration settings?"
	removeForceQuestion = "Remove-brick force will not migrate files from the removed bricks, so they will no longer be available on the volume.\nDo you want to continue?"
)

// volumeAddBrick runs "volume add-brick".
func (s *session) volumeAddBrick(args []string) error {
	if len(args) < 2 {
		return usage(addBrickUsage)
	}
	req := api.AddBrickRequest{Name: args[0]}
	rest := args[1:]
	if rest[0] == "replica" {
		if len(rest) < 3 {
			return usage(addBrickUsage)
		}
		n, err := strconv.Atoi(rest[1])
		if err != nil || n < 1 {
			return &failure{"replica count should be greater than 0"}
		}
		req.Replica = n
		rest = rest[2:]
	}
	if rest[len(rest)-1] == "force" {
		req.Force = true
		rest = rest[:len(rest)-1]
	}
	if len(rest) == 0 {
		return usage(addBrickUsage)
	}
	req.Bricks = rest
	if err := s.call("POST", "/v1/volume/add-brick", req, nil); err != nil {
		return s.fail("volume add-brick: failed", err)
	}
	return s.success("", "", "volume add-brick: success")
}

// volumeRebalance runs "volume rebalance".
func (s *session) volumeRebalance(args []string) error {
	if len(args) < 2 {
		return usage(rebalanceUsage)
	}
	req := api.RebalanceRequest{Name: args[0]}
	switch w := args[1:]; {
	case len(w) == 2 && w[0] == "fix-layout" && w[1] == "start":
		req.Op = api.RebalanceFixLayout
	case len(w) == 1 && w[0] == "start":
		req.Op = api.RebalanceStart
	case len(w) == 2 && w[0] == "start" && w[1] == "force":
		req.Op, req.Force = api.RebalanceStart, true
	case len(w) == 1 && (w[0] == "stop" || w[0] == "status"):
		req.Op = w[0]
	default:
		return usage(rebalanceUsage)
	}
	prefix := "volume rebalance: " + req.Name
	var resp api.RebalanceResponse
	if err := s.call("POST", "/v1/volume/rebalance", req, &resp); err != nil {
		return s.fail(prefix+": failed", err)
	}
	if s.xml {
		s.xmlRebalance(req, resp)
		return nil
	}
	switch req.Op {
	case api.RebalanceStop:
		printRebalance(s.out, resp, false)
		msg := prefix + ": success: rebalance process may be in the middle of a file migration.\nThe process will be fully stopped once the migration of the file is complete.\nPlease check rebalance process for completion before doing any further brick related tasks on the volume.\n"
		return s.success("", msg, msg)
	case api.RebalanceStatus:
		printRebalance(s.out, resp, false)
		return s.success("", "", prefix+": success")
	}
	msg := fmt.Sprintf("%s: success: Rebalance on %s has been started successfully. Use rebalance status command to check status of the rebalance process.\nID: %s", prefix, req.Name, resp.ID)
	return s.success("", resp.ID, msg)
}

// volumeRemoveBrick runs "volume remove-brick".
func (s *session) volumeRemoveBrick(args []string) error {
	if len(args) < 3 {
		return usage(removeBrickUsage)
	}
	req := api.RemoveBrickRequest{Name: args[0]}
	rest := args[1:]
	if rest[0] == "replica" {
		n, err := strconv.Atoi(rest[1])
		if err != nil || n < 1 || len(rest) < 4 {
			return usage(removeBrickUsage)
		}
		req.Replica = n
		rest = rest[2:]
	}
	switch last := rest[len(rest)-1]; {
	case last == "force" && len(rest) >= 3 && rest[len(rest)-2] == "commit":
		req.Op, rest = api.RemoveCommitForce, rest[:len(rest)-2]
	case last == "force":
		req.Op, rest = api.RemoveCommitForce, rest[:len(rest)-1]
	case last == "start" || last == "stop" || last == "status" || last == "commit":
		req.Op, rest = last, rest[:len(rest)-1]
	default:
		return usage(removeBrickUsage)
	}
	if len(rest) == 0 {
		return &failure{"No bricks specified"}
	}
	req.Bricks = rest
	switch req.Op {
	case api.RemoveStart:
		if !s.confirm(removeStartQuestion) {
			return silent
		}
	case api.RemoveCommitForce:
		if !s.confirm(removeForceQuestion) {
			return silent
		}
	}
	var resp api.RebalanceResponse
	if err := s.call("POST", "/v1/volume/remove-brick", req, &resp); err != nil {
		return s.fail("volume remove-brick "+req.Op+": failed", err)
	}
	if s.xml {
		s.xmlRemoveBrick(req.Op, resp)
		return nil
	}
	switch req.Op {
	case api.RemoveStart:
		return s.success("", resp.ID, "volume remove-brick start: success\nID: "+resp.ID)
	case api.RemoveStatus:
		printRebalance(s.out, resp, true)
		return nil
	case api.RemoveStop:
		printRebalance(s.out, resp, true)
		msg := "'remove-brick' process may be in the middle of a file migration.\nThe process will be fully stopped once the migration of the file is complete.\nPlease check remove-brick process for completion before doing any further brick related tasks on the volume."
		return s.success("", msg, msg)
	case api.RemoveCommit:
		return s.success("", "", "volume remove-brick commit: success\nCheck the removed bricks to ensure all files are migrated.\nIf files with data are found on the brick path, copy them via a gluster mount point before re-purposing the removed brick. ")
	}
	return s.success("", "", "volume remove-brick commit force: success")
}

// volumeReplaceBrick runs "volume replace-brick ... commit force".
func (s *session) volumeReplaceBrick(args []string) error {
	if len(args) != 5 || args[3] != "commit" || args[4] != "force" {
		return usage(replaceBrickUsage)
	}
	req := api.ReplaceBrickRequest{Name: args[0], Old: args[1], New: args[2]}
	if err := s.call("POST", "/v1/volume/replace-brick", req, nil); err != nil {
		return s.fail("volume replace-brick: failed", err)
	}
	return s.success("", "replace-brick commit force operation successful", "volume replace-brick: success: replace-brick commit force operation successful")
}

// printRebalance prints GlusterFS's rebalance (or remove-brick) status
// table; nodes that have not started are left out, as GlusterFS does.
// remove-brick counts skipped files as failures.
func printRebalance(w io.Writer, r api.RebalanceResponse, remove bool) {
	fixLayout := false
	for _, n := range r.Nodes {
		fixLayout = fixLayout || strings.HasPrefix(n.Status, "fix-layout")
	}
	if fixLayout && !remove {
		fmt.Fprintf(w, "%35s %41s %27s\n", "Node", "status", "run time in h:m:s")
		fmt.Fprintf(w, "%35s %41s %27s\n", "---------", "-----------", "------------")
	} else {
		fmt.Fprintf(w, "%40s %16s %13s %13s %13s %13s %20s %18s\n", "Node", "Rebalanced-files", "size", "scanned", "failures", "skipped", "status", "run time in h:m:s")
		fmt.Fprintf(w, "%40s %16s %13s %13s %13s %13s %20s %18s\n", "---------", "-----------", "-----------", "-----------", "-----------", "-----------", "------------", "--------------")
	}
	for _, n := range r.Nodes {
		if n.Status == "not started" {
			continue
		}
		failures, skipped := n.Failures, n.Skipped
		if remove {
			failures, skipped = failures+skipped, 0
		}
		secs := int64(n.Elapsed)
		h, m, sec := secs/3600, secs%3600/60, secs%60
		if fixLayout && !remove {
			fmt.Fprintf(w, "%35s %50s %8d:%02d:%02d\n", n.Node, n.Status, h, m, sec)
			continue
		}
		fmt.Fprintf(w, "%40s %16d %13s %13d %13d %13d %20s %8d:%02d:%02d\n",
			n.Node, n.Files, humanSize(uint64(n.Bytes)), n.Scanned, failures, skipped, n.Status, h, m, sec)
	}
}

// taskStatus are GlusterFS's rebalance states (gf_defrag_status_t), whose
// index --xml prints as <status>.
var taskStatus = []string{"not started", "in progress", "stopped", "completed", "failed",
	"fix-layout in progress", "fix-layout stopped", "fix-layout completed", "fix-layout failed"}

// xmlRebalanceStatus writes the node and aggregate elements of a
// rebalance or remove-brick status, as GlusterFS's
// cli_xml_output_vol_rebalance_status: nodes that have not started are
// left out (but counted), remove-brick counts skipped files as failures,
// and the aggregate status is the first of in progress, failed, stopped,
// completed that some node is in.
func xmlRebalanceStatus(x *xmlWriter, r api.RebalanceResponse, remove bool) {
	x.leaf("nodeCount", len(r.Nodes))
	rank := map[int]int{1: 1, 4: 2, 2: 3, 3: 4, 0: 5}
	var files, size, lookups, failures, skipped int64
	overall, code := -1, 0
	var runtime float64
	for _, n := range r.Nodes {
		code = max(slices.Index(taskStatus, n.Status), 0)
		if code == 0 {
			continue
		}
		f, sk := n.Failures, n.Skipped
		if remove {
			f, sk = f+sk, 0
		}
		x.open("node")
		x.leaf("nodeName", n.Node)
		x.leaf("id", n.UUID)
		x.leaf("files", n.Files)
		x.leaf("size", n.Bytes)
		x.leaf("lookups", n.Scanned)
		x.leaf("failures", f)
		x.leaf("skipped", sk)
		x.leaf("status", code)
		x.leaf("statusStr", taskStatus[code])
		x.leaf("runtime", fmt.Sprintf("%.2f", n.Elapsed))
		x.close("node")
		files, size, lookups, failures, skipped = files+n.Files, size+n.Bytes, lookups+n.Scanned, failures+f, skipped+sk
		runtime = max(runtime, n.Elapsed)
		if overall < 0 || rank[code] <= rank[overall] {
			overall = code
		}
	}
	if overall < 0 {
		overall = code
	}
	x.open("aggregate")
	x.leaf("files", files)
	x.leaf("size", size)
	x.leaf("lookups", lookups)
	x.leaf("failures", failures)
	x.leaf("skipped", skipped)
	x.leaf("status", overall)
	x.leaf("statusStr", taskStatus[overall])
	x.leaf("runtime", fmt.Sprintf("%.2f", runtime))
	x.close("aggregate")
}

// xmlRebalance prints rebalance's --xml answer: <volRebalance> with the
// task id, GlusterFS's command number (gf_defrag_type_t) and, for status
// and stop, the nodes.
func (s *session) xmlRebalance(req api.RebalanceRequest, resp api.RebalanceResponse) {
	op := map[string]int{api.RebalanceStart: 1, api.RebalanceStop: 2, api.RebalanceStatus: 3, api.RebalanceFixLayout: 4}[req.Op]
	if req.Force {
		op = 5
	}
	s.xmlResult(0, 0, "", func(x *xmlWriter) {
		x.open("volRebalance")
		if resp.ID != "" {
			x.leaf("task-id", resp.ID)
		}
		x.leaf("op", op)
		if req.Op == api.RebalanceStop || req.Op == api.RebalanceStatus {
			xmlRebalanceStatus(x, resp, false)
		}
		x.close("volRebalance")
	})
}

// xmlRemoveBrick prints remove-brick's --xml answer: <volRemoveBrick> with
// the task id and, for status and stop, the nodes. GlusterFS reports the
// other operations' success in opErrstr.
func (s *session) xmlRemoveBrick(op string, resp api.RebalanceResponse) {
	msg := ""
	if op != api.RemoveStatus && op != api.RemoveStop {
		msg = "Remove Brick " + op + " successful"
	}
	s.xmlResult(0, 0, msg, func(x *xmlWriter) {
		x.open("volRemoveBrick")
		if resp.ID != "" {
			x.leaf("task-id", resp.ID)
		}
		if op == api.RemoveStatus || op == api.RemoveStop {
			xmlRebalanceStatus(x, resp, true)
		}
		x.close("volRemoveBrick")
	})
}
