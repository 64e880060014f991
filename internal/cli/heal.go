package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
)

const healUsage = "volume heal <VOLNAME> [enable | disable | full | statistics heal-count | info [summary | split-brain] | split-brain {bigger-file <FILE> | latest-mtime <FILE> | source-brick <HOSTNAME:BRICKNAME> [<FILE>]}]"

// parseHeal reads the words after "volume heal".
func parseHeal(args []string) (api.HealRequest, error) {
	if len(args) == 0 {
		return api.HealRequest{}, usage(healUsage)
	}
	req := api.HealRequest{Name: args[0], Op: api.HealIndex}
	rest := args[1:]
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && (rest[0] == "full" || rest[0] == "enable" || rest[0] == "disable"):
		req.Op = rest[0]
	case len(rest) == 1 && rest[0] == "info":
		req.Op = api.HealInfo
	case len(rest) == 2 && rest[0] == "info" && rest[1] == "split-brain":
		req.Op = api.HealInfoSplitBrain
	case len(rest) == 2 && rest[0] == "info" && rest[1] == "summary":
		req.Op = api.HealInfoSummary
	case len(rest) == 2 && rest[0] == "statistics" && rest[1] == "heal-count":
		req.Op = api.HealCount
	case len(rest) == 3 && rest[0] == "split-brain" && (rest[1] == "bigger-file" || rest[1] == "latest-mtime"):
		req.Op, req.Policy, req.File = api.HealSplitBrain, rest[1], rest[2]
	case (len(rest) == 3 || len(rest) == 4) && rest[0] == "split-brain" && rest[1] == "source-brick":
		req.Op, req.Policy, req.Source = api.HealSplitBrain, rest[1], rest[2]
		if len(rest) == 4 {
			req.File = rest[3]
		}
	default:
		return req, usage(healUsage)
	}
	return req, nil
}

// volumeHeal runs "volume heal" and prints GlusterFS's output.
func (s *session) volumeHeal(args []string) error {
	req, err := parseHeal(args)
	if err != nil {
		return err
	}
	var resp api.HealResponse
	err = s.call("POST", "/v1/volume/heal", req, &resp)
	switch req.Op {
	case api.HealIndex, api.HealFull:
		what := "index"
		if req.Op == api.HealFull {
			what = "full"
		}
		head := fmt.Sprintf("Launching heal operation to perform %s self heal on volume %s has been", what, req.Name)
		if err != nil {
			return s.healFail(head+" unsuccessful:", err)
		}
		return s.success("", "", head+" successful \nUse heal info commands to check status.")
	case api.HealEnable, api.HealDisable:
		head := "Enable heal on volume " + req.Name + " has been"
		if req.Op == api.HealDisable {
			head = "Disable heal on volume " + req.Name + " has been"
		}
		if err != nil {
			return s.healFail(head+" unsuccessful:", err)
		}
		return s.success("", "", head+" successful ")
	case api.HealCount:
		head := fmt.Sprintf("Gathering count of entries to be healed on volume %s has been", req.Name)
		if err != nil {
			return s.healFail(head+" unsuccessful:", err)
		}
		var b strings.Builder
		b.WriteString(head + " successful \n")
		for _, hb := range resp.Bricks {
			fmt.Fprintf(&b, "\nBrick %s:%s\n", hb.Host, hb.Path)
			if !hb.Connected {
				b.WriteString("Status: Brick is not connected\nNo gathered input for this brick\n")
				continue
			}
			fmt.Fprintf(&b, "Number of entries: %d\n", len(hb.Entries))
		}
		return s.success("", "", strings.TrimSuffix(b.String(), "\n"))
	case api.HealInfo, api.HealInfoSplitBrain:
		if err != nil {
			return s.fail("", err)
		}
		return s.success("", "", healInfoText(resp.Bricks, req.Op == api.HealInfoSplitBrain))
	case api.HealInfoSummary:
		if err != nil {
			return s.fail("", err)
		}
		return s.success("", "", healSummaryText(resp.Bricks))
	}
	if err != nil {
		return s.fail("", err)
	}
	return s.success("", "", strings.Join(resp.Lines, "\n"))
}

// healFail reports a refused heal: GlusterFS prints the operation's
// headline, then glusterd's reason on a line of its own.
func (s *session) healFail(head string, err error) error {
	f := s.fail("", err)
	var ff *failure
	if errors.As(f, &ff) && !errors.Is(err, api.ErrConnect) {
		ff.msg = head + "\n" + ff.msg
	}
	return f
}

// healInfoText lays heal info out as glfsheal prints it: per brick, its
// entries, its status and the count, then a blank line. Pending entries
// carry a trailing space (" - Is in split-brain" for split-brains).
func healInfoText(bricks []api.HealBrick, splitBrainOnly bool) string {
	count := "Number of entries:"
	if splitBrainOnly {
		count = "Number of entries in split-brain:"
	}
	var b strings.Builder
	for _, hb := range bricks {
		fmt.Fprintf(&b, "Brick %s:%s\n", hb.Host, hb.Path)
		if !hb.Connected {
			fmt.Fprintf(&b, "Status: Transport endpoint is not connected\n%s -\n\n", count)
			continue
		}
		for _, e := range hb.Entries {
			switch {
			case splitBrainOnly:
				b.WriteString(e.Name + "\n")
			case e.SplitBrain:
				b.WriteString(e.Name + " - Is in split-brain\n")
			default:
				b.WriteString(e.Name + " \n")
			}
		}
		fmt.Fprintf(&b, "Status: Connected\n%s %d\n\n", count, len(hb.Entries))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// healSummaryText is glfsheal's info summary: per brick, the counts only.
// Heals in progress are not told apart, so "possibly healing" is 0.
func healSummaryText(bricks []api.HealBrick) string {
	var b strings.Builder
	for _, hb := range bricks {
		fmt.Fprintf(&b, "Brick %s:%s\n", hb.Host, hb.Path)
		if !hb.Connected {
			b.WriteString("Status: Transport endpoint is not connected\nTotal Number of entries: -\n" +
				"Number of entries in heal pending: -\nNumber of entries in split-brain: -\nNumber of entries possibly healing: -\n\n")
			continue
		}
		split := 0
		for _, e := range hb.Entries {
			if e.SplitBrain {
				split++
			}
		}
		fmt.Fprintf(&b, "Status: Connected\nTotal Number of entries: %d\nNumber of entries in heal pending: %d\n"+
			"Number of entries in split-brain: %d\nNumber of entries possibly healing: 0\n\n", len(hb.Entries), len(hb.Entries)-split, split)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
