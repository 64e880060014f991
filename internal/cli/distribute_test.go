package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/mgmttest"
)

// TestDistributeCommands runs add-brick, remove-brick, replace-brick and
// rebalance against a real glusterd, the refusals first: each failure is
// one line on stderr with GlusterFS's wording and exit code 1.
func TestDistributeCommands(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (trusted.* xattrs)")
	}
	const ip = "127.0.0.2"
	n := mgmttest.Start(t, ip, mgmttest.FreePort(t, ip))
	h := n.Addr
	dir := t.TempDir()
	b := func(name string) string { return ip + ":" + filepath.Join(dir, name) }
	if code, out, errs := run(h, "volume", "create", "v", b("b1"), "force"); code != 0 {
		t.Fatalf("create: %d %s %s", code, out, errs)
	}

	fails := []struct {
		args []string
		want string
	}{
		{[]string{"volume", "rebalance", "v"}, "Usage: " + rebalanceUsage},
		{[]string{"volume", "rebalance", "v", "start", "now"}, "Usage: " + rebalanceUsage},
		{[]string{"volume", "rebalance", "v", "start"}, "volume rebalance: v: failed: Volume v needs to be started to perform rebalance"},
		{[]string{"volume", "rebalance", "v", "status"}, "volume rebalance: v: failed: Rebalance not started for volume v."},
		{[]string{"volume", "rebalance", "nov", "start"}, "volume rebalance: nov: failed: Volume nov does not exist"},
		{[]string{"volume", "add-brick", "v"}, "Usage: " + addBrickUsage},
		{[]string{"volume", "add-brick", "nov", b("x")}, "volume add-brick: failed: Volume nov does not exist"},
		{[]string{"volume", "remove-brick", "v", b("b1")}, "Usage: " + removeBrickUsage},
		{[]string{"volume", "remove-brick", "v", b("zz"), "start"}, "volume remove-brick start: failed: Incorrect brick " + b("zz") + " for volume v"},
		{[]string{"volume", "remove-brick", "v", b("b1"), "commit"}, "volume remove-brick commit: failed: Bricks not decommissioned: run 'remove-brick v " + b("b1") + " start' first"},
		{[]string{"volume", "replace-brick", "v", b("b1"), b("b9")}, "Usage: " + replaceBrickUsage},
		{[]string{"volume", "replace-brick", "v", b("zz"), b("b9"), "commit", "force"}, "volume replace-brick: failed: brick: " + b("zz") + " does not exist in volume: v"},
	}
	for _, c := range fails {
		code, out, errs := run(h, c.args...)
		if code != 1 || out != "" || strings.TrimSpace(errs) != c.want {
			t.Errorf("gluster %s: exit %d, stdout %q, stderr %q; want exit 1 and %q", strings.Join(c.args, " "), code, out, errs, c.want)
		}
	}

	ok := []struct {
		args []string
		want string
	}{
		{[]string{"volume", "add-brick", "v", b("b2"), "force"}, "volume add-brick: success"},
		{[]string{"volume", "info", "v"}, "Number of Bricks: 2"},
		{[]string{"volume", "replace-brick", "v", b("b2"), b("b3"), "commit", "force"}, "volume replace-brick: success: replace-brick commit force operation successful"},
		{[]string{"volume", "info", "v"}, "Brick2: " + b("b3")},
		{[]string{"volume", "remove-brick", "v", b("b3"), "force"}, "volume remove-brick commit force: success"},
		{[]string{"volume", "info", "v"}, "Number of Bricks: 1"},
	}
	for _, c := range ok {
		code, out, errs := run(h, c.args...)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("gluster %s: exit %d, stdout %q, stderr %q; want %q", strings.Join(c.args, " "), code, out, errs, c.want)
		}
	}
}

// TestRebalanceStatusXML: the shape of GlusterFS's
// cli_xml_output_vol_rebalance_status (cli-xml-output.c): nodes not
// started are counted but not listed, remove-brick folds skipped into
// failures, the aggregate takes in progress over completed.
func TestRebalanceStatusXML(t *testing.T) {
	r := api.RebalanceResponse{Nodes: []api.RebalanceNode{
		{Node: "localhost", UUID: "u1", Files: 3, Bytes: 30, Scanned: 9, Failures: 1, Skipped: 2, Status: "completed", Elapsed: 1.5},
		{Node: "127.0.0.3", UUID: "u2", Files: 1, Bytes: 10, Scanned: 4, Status: "in progress", Elapsed: 2.25},
		{Node: "127.0.0.4", UUID: "u3", Status: "not started"},
	}}
	x := &xmlWriter{}
	xmlRebalanceStatus(x, r, true)
	want := `<nodeCount>3</nodeCount>
<node>
  <nodeName>localhost</nodeName>
  <id>u1</id>
  <files>3</files>
  <size>30</size>
  <lookups>9</lookups>
  <failures>3</failures>
  <skipped>0</skipped>
  <status>3</status>
  <statusStr>completed</statusStr>
  <runtime>1.50</runtime>
</node>
<node>
  <nodeName>127.0.0.3</nodeName>
  <id>u2</id>
  <files>1</files>
  <size>10</size>
  <lookups>4</lookups>
  <failures>0</failures>
  <skipped>0</skipped>
  <status>1</status>
  <statusStr>in progress</statusStr>
  <runtime>2.25</runtime>
</node>
<aggregate>
  <files>4</files>
  <size>40</size>
  <lookups>13</lookups>
  <failures>3</failures>
  <skipped>0</skipped>
  <status>1</status>
  <statusStr>in progress</statusStr>
  <runtime>2.25</runtime>
</aggregate>
`
	if got := x.b.String(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// TestRemoveBrickStartXML: remove-brick start --xml as Debian's GlusterFS
// 10.3 printed it (success message in opErrstr, the task id).
func TestRemoveBrickStartXML(t *testing.T) {
	var out strings.Builder
	s := &session{out: &out, xml: true}
	s.xmlRemoveBrick(api.RemoveStart, api.RebalanceResponse{ID: "a5739b9a-70c8-47dc-82c8-5962c5a7df0d"})
	want := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cliOutput>
  <opRet>0</opRet>
  <opErrno>0</opErrno>
  <opErrstr>Remove Brick start successful</opErrstr>
  <volRemoveBrick>
    <task-id>a5739b9a-70c8-47dc-82c8-5962c5a7df0d</task-id>
  </volRemoveBrick>
</cliOutput>
`
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
}

// TestRebalanceStatusXMLDocument: rebalance status --xml as Debian's
// GlusterFS 10.3 printed it for a one-node volume.
func TestRebalanceStatusXMLDocument(t *testing.T) {
	var out strings.Builder
	s := &session{out: &out, xml: true}
	s.xmlRebalance(api.RebalanceRequest{Op: api.RebalanceStatus}, api.RebalanceResponse{ID: "caf4f709-c4b3-4c91-87b2-bb6b9343126f",
		Nodes: []api.RebalanceNode{{Node: "localhost", UUID: "3c487967-8a4b-477d-bb10-0584c0c4465d", Files: 13, Bytes: 35, Scanned: 30, Status: "completed"}}})
	want := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cliOutput>
  <opRet>0</opRet>
  <opErrno>0</opErrno>
  <opErrstr/>
  <volRebalance>
    <task-id>caf4f709-c4b3-4c91-87b2-bb6b9343126f</task-id>
    <op>3</op>
    <nodeCount>1</nodeCount>
    <node>
      <nodeName>localhost</nodeName>
      <id>3c487967-8a4b-477d-bb10-0584c0c4465d</id>
      <files>13</files>
      <size>35</size>
      <lookups>30</lookups>
      <failures>0</failures>
      <skipped>0</skipped>
      <status>3</status>
      <statusStr>completed</statusStr>
      <runtime>0.00</runtime>
    </node>
    <aggregate>
      <files>13</files>
      <size>35</size>
      <lookups>30</lookups>
      <failures>0</failures>
      <skipped>0</skipped>
      <status>3</status>
      <statusStr>completed</statusStr>
      <runtime>0.00</runtime>
    </aggregate>
  </volRebalance>
</cliOutput>
`
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
}
