package cli

import (
	"testing"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
)

func TestParseHeal(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want api.HealRequest
	}{
		{[]string{"v"}, api.HealRequest{Name: "v", Op: api.HealIndex}},
		{[]string{"v", "full"}, api.HealRequest{Name: "v", Op: api.HealFull}},
		{[]string{"v", "enable"}, api.HealRequest{Name: "v", Op: api.HealEnable}},
		{[]string{"v", "disable"}, api.HealRequest{Name: "v", Op: api.HealDisable}},
		{[]string{"v", "info"}, api.HealRequest{Name: "v", Op: api.HealInfo}},
		{[]string{"v", "info", "split-brain"}, api.HealRequest{Name: "v", Op: api.HealInfoSplitBrain}},
		{[]string{"v", "info", "summary"}, api.HealRequest{Name: "v", Op: api.HealInfoSummary}},
		{[]string{"v", "statistics", "heal-count"}, api.HealRequest{Name: "v", Op: api.HealCount}},
		{[]string{"v", "split-brain", "bigger-file", "/f"}, api.HealRequest{Name: "v", Op: api.HealSplitBrain, Policy: "bigger-file", File: "/f"}},
		{[]string{"v", "split-brain", "latest-mtime", "gfid:x"}, api.HealRequest{Name: "v", Op: api.HealSplitBrain, Policy: "latest-mtime", File: "gfid:x"}},
		{[]string{"v", "split-brain", "source-brick", "h:/b"}, api.HealRequest{Name: "v", Op: api.HealSplitBrain, Policy: "source-brick", Source: "h:/b"}},
		{[]string{"v", "split-brain", "source-brick", "h:/b", "/f"}, api.HealRequest{Name: "v", Op: api.HealSplitBrain, Policy: "source-brick", Source: "h:/b", File: "/f"}},
	} {
		got, err := parseHeal(tc.args)
		if err != nil || got != tc.want {
			t.Errorf("%v: %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
	for _, bad := range [][]string{{}, {"v", "bogus"}, {"v", "split-brain", "bigger-file"}, {"v", "info", "x"}} {
		if _, err := parseHeal(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestHealInfoText(t *testing.T) {
	bricks := []api.HealBrick{
		{Host: "n1", Path: "/b1", Connected: true, Entries: []api.HealEntry{{Name: "/f"}, {Name: "/sb", SplitBrain: true}}},
		{Host: "n2", Path: "/b2"},
	}
	want := "Brick n1:/b1\n/f \n/sb - Is in split-brain\nStatus: Connected\nNumber of entries: 2\n\n" +
		"Brick n2:/b2\nStatus: Transport endpoint is not connected\nNumber of entries: -\n"
	if got := healInfoText(bricks, false); got != want {
		t.Errorf("heal info:\n%q\nwant\n%q", got, want)
	}
	bricks[0].Entries = bricks[0].Entries[1:]
	want = "Brick n1:/b1\n/sb\nStatus: Connected\nNumber of entries in split-brain: 1\n\n" +
		"Brick n2:/b2\nStatus: Transport endpoint is not connected\nNumber of entries in split-brain: -\n"
	if got := healInfoText(bricks, true); got != want {
		t.Errorf("heal info split-brain:\n%q\nwant\n%q", got, want)
	}
}

func TestHealSummaryText(t *testing.T) {
	bricks := []api.HealBrick{
		{Host: "n1", Path: "/b1", Connected: true, Entries: []api.HealEntry{{Name: "/f"}, {Name: "/sb", SplitBrain: true}}},
		{Host: "n2", Path: "/b2"},
	}
	want := "Brick n1:/b1\nStatus: Connected\nTotal Number of entries: 2\nNumber of entries in heal pending: 1\n" +
		"Number of entries in split-brain: 1\nNumber of entries possibly healing: 0\n\n" +
		"Brick n2:/b2\nStatus: Transport endpoint is not connected\nTotal Number of entries: -\n" +
		"Number of entries in heal pending: -\nNumber of entries in split-brain: -\nNumber of entries possibly healing: -\n"
	if got := healSummaryText(bricks); got != want {
		t.Errorf("summary:\n%q\nwant\n%q", got, want)
	}
}
