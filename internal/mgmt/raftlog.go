package mgmt

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
)

// raftLog turns hashicorp/raft's text log lines ("2026-01-02T03:04:05Z
// [WARN]  raft: msg: k=v") into records of glusterd's structured log, so
// that glusterd.log stays one JSON object per line.
type raftLog struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []byte
}

func (w *raftLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.emit(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

func (w *raftLog) emit(line string) {
	level, msg := slog.LevelInfo, line
	if i := strings.IndexByte(line, '['); i >= 0 {
		if j := strings.IndexByte(line[i:], ']'); j > 0 {
			switch line[i+1 : i+j] {
			case "TRACE", "DEBUG":
				level = slog.LevelDebug
			case "WARN":
				level = slog.LevelWarn
			case "ERROR":
				level = slog.LevelError
			}
			msg = strings.TrimSpace(line[i+j+1:])
		}
	}
	w.log.Log(context.Background(), level, msg)
}
