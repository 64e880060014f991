// Package logfile opens the structured log of a gluster-go process: a file
// under the log directory (created if missing), or standard error for
// "-", at a level named as GlusterFS names them.
package logfile

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Open opens file for appending and returns a logger writing to it at
// level (DEBUG, TRACE, INFO, WARNING, ERROR, CRITICAL or NONE), and the
// function that closes it. json selects JSON lines over key=value text.
func Open(file, level string, json bool) (*slog.Logger, func(), error) {
	var lv slog.Level
	switch strings.ToUpper(level) {
	case "DEBUG", "TRACE":
		lv = slog.LevelDebug
	case "INFO", "":
		lv = slog.LevelInfo
	case "WARNING", "WARN":
		lv = slog.LevelWarn
	case "ERROR", "CRITICAL":
		lv = slog.LevelError
	case "NONE":
		return slog.New(slog.DiscardHandler), func() {}, nil
	default:
		return nil, nil, fmt.Errorf("log level %q: want DEBUG, INFO, WARNING, ERROR or NONE", level)
	}
	var w io.Writer = os.Stderr
	closeFn := func() {}
	if file != "-" {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return nil, nil, fmt.Errorf("log file: %w", err)
		}
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("log file: %w", err)
		}
		w, closeFn = f, func() { f.Close() }
	}
	opts := &slog.HandlerOptions{Level: lv}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts)), closeFn, nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), closeFn, nil
}
