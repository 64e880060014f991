package mgmt

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestRaftLog(t *testing.T) {
	var out bytes.Buffer
	w := &raftLog{log: slog.New(slog.NewJSONHandler(&out, nil))}
	w.Write([]byte("2026-11-21T08:03:58.362Z [WARN]  raft: heartbeat timeout reached, start"))
	w.Write([]byte("ing election: last-leader-addr=\n2026-11-21T08:03:59Z [ERROR] raft-net: failed\n"))
	var recs []map[string]any
	dec := json.NewDecoder(&out)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, m)
	}
	if len(recs) != 2 || recs[0]["level"] != "WARN" || recs[0]["msg"] != "raft: heartbeat timeout reached, starting election: last-leader-addr=" ||
		recs[1]["level"] != "ERROR" || recs[1]["msg"] != "raft-net: failed" {
		t.Errorf("records: %v", recs)
	}
}
