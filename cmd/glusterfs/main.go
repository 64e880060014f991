// Command glusterfs is the GlusterFS client: it mounts a volume with FUSE.
//
//	glusterfs --volfile=FILE MOUNTPOINT
//	glusterfs -s HOST [-s HOST2...] --volfile-id VOL MOUNTPOINT
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gluster-go/gluster-go/internal/fuse"
	"github.com/gluster-go/gluster-go/internal/layers"
	"github.com/gluster-go/gluster-go/internal/mountd"
	"github.com/gluster-go/gluster-go/internal/volfetch"
)

func main() {
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "glusterfs:", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	var (
		cfg                                 mountd.Config
		noDaemon, debug                     bool
		logFile, logLevel, pidFile          string
		entryTimeout, attrTimeout, negative float64
	)
	cmd := &cobra.Command{
		Use:           "glusterfs [options] MOUNTPOINT",
		Short:         "mount a GlusterFS volume with FUSE",
		Args:          cobra.ExactArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.MountPoint = args[0]
			cfg.EntryTimeout = seconds(entryTimeout)
			cfg.AttrTimeout = seconds(attrTimeout)
			cfg.NegativeTimeout = seconds(negative)
			if debug {
				noDaemon, logFile, logLevel = true, "-", "DEBUG"
			}
			if !noDaemon {
				return mountd.Daemonize(os.Args[1:])
			}
			notify := mountd.ChildNotifier()
			log, closeLog, err := openLog(logFile, logLevel, cfg.MountPoint)
			if err != nil {
				if notify != nil {
					notify(err)
				}
				return err
			}
			defer closeLog()
			if pidFile != "" {
				if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
					return fmt.Errorf("pid file: %w", err)
				}
				defer os.Remove(pidFile)
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			err = mountd.Run(ctx, cfg, layers.Registry(), log, notify)
			if err != nil {
				log.Error("exiting", "err", err)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVarP(&cfg.VolfilePath, "volfile", "f", "", "client volfile to build the graph from")
	f.StringArrayVarP(&cfg.Servers, "volfile-server", "s", nil, "server to fetch the volfile from (repeatable, tried in order)")
	f.IntVar(&cfg.ServerPort, "volfile-server-port", volfetch.DefaultPort, "glusterd port of the volfile servers")
	f.StringVar(&cfg.VolumeID, "volfile-id", "", "volume whose volfile to fetch")
	f.BoolVarP(&noDaemon, "no-daemon", "N", false, "stay in the foreground")
	f.BoolVar(&debug, "debug", false, "foreground, log DEBUG to stderr")
	f.StringVarP(&logFile, "log-file", "l", "", "log file, - for stderr (default "+mountd.DefaultLogDir+"/MOUNTPOINT-WITH-DASHES.log)")
	f.StringVarP(&logLevel, "log-level", "L", "INFO", "DEBUG, INFO, WARNING, ERROR or NONE")
	f.StringVarP(&pidFile, "pid-file", "p", "", "write the process id to this file")
	f.Float64Var(&entryTimeout, "entry-timeout", fuse.DefaultEntryTimeout.Seconds(), "seconds the kernel caches names")
	f.Float64Var(&attrTimeout, "attribute-timeout", fuse.DefaultAttrTimeout.Seconds(), "seconds the kernel caches attributes")
	f.Float64Var(&negative, "negative-timeout", fuse.DefaultNegativeTimeout.Seconds(), "seconds the kernel caches missing names")
	f.BoolVar(&cfg.FuseDebug, "fuse-debug", false, "log every FUSE request (very verbose)")
	return cmd
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// openLog opens the log file (creating its directory) with GlusterFS's
// level names.
func openLog(file, level, mountPoint string) (*slog.Logger, func(), error) {
	var lv slog.Level
	switch strings.ToUpper(level) {
	case "DEBUG", "TRACE":
		lv = slog.LevelDebug
	case "INFO":
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
		if file == "" {
			file = mountd.LogFileFor(mountd.DefaultLogDir, mountPoint)
		}
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return nil, nil, fmt.Errorf("log file: %w", err)
		}
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("log file: %w", err)
		}
		w, closeFn = f, func() { f.Close() }
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv})), closeFn, nil
}
