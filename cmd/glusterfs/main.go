// Command glusterfs is the GlusterFS client: it mounts a volume with FUSE.
//
//	glusterfs --volfile=FILE MOUNTPOINT
//	glusterfs -s HOST [-s HOST2...] --volfile-id VOL MOUNTPOINT
package main

import (
	"context"
	"fmt"
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
	"github.com/gluster-go/gluster-go/internal/logfile"
	"github.com/gluster-go/gluster-go/internal/mountd"
	"github.com/gluster-go/gluster-go/internal/pprofenv"
	"github.com/gluster-go/gluster-go/internal/volfetch"
)

func main() {
	if err := newCommand().Execute(); err != nil {
		// One line, whatever was joined into err.
		fmt.Fprintln(os.Stderr, "glusterfs:", strings.ReplaceAll(err.Error(), "\n", "; "))
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	var (
		cfg                                             mountd.Config
		noDaemon, debug                                 bool
		logFile, logLevel, pidFile, readdirp, directIO  string
		entryTimeout, attrTimeout, negative, gidTimeout float64
		upTimeout                                       float64
		xlatorOpts                                      []string
	)
	cmd := &cobra.Command{
		Use:           "glusterfs [options] MOUNTPOINT",
		Short:         "mount a GlusterFS volume with FUSE",
		Args:          cobra.ExactArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.MountPoint = args[0]
			cfg.FS.EntryTimeout = seconds(entryTimeout)
			cfg.FS.AttrTimeout = seconds(attrTimeout)
			cfg.FS.NegativeTimeout = seconds(negative)
			cfg.FS.GroupsTTL = seconds(gidTimeout)
			cfg.FS.UpTimeout = seconds(upTimeout)
			var err error
			if cfg.Mount.NoReaddirPlus, err = isOff("use-readdirp", readdirp); err != nil {
				return err
			}
			switch directIO {
			case "enable":
				cfg.FS.DirectIO = true
			case "disable", "auto":
			default:
				return fmt.Errorf("direct-io-mode %q: want enable, disable or auto", directIO)
			}
			for _, x := range xlatorOpts {
				o, err := volfetch.ParseOverride(x)
				if err != nil {
					return err
				}
				cfg.Overrides = append(cfg.Overrides, o)
			}
			if debug {
				noDaemon, logFile, logLevel = true, "-", "DEBUG"
			}
			if !noDaemon {
				return mountd.Daemonize(os.Args[1:])
			}
			notify := mountd.ChildNotifier()
			// A daemonized child tells its parent why it gives up.
			fail := func(err error) error {
				if notify != nil {
					notify(err)
				}
				return err
			}
			log, closeLog, err := openLog(logFile, logLevel, cfg.MountPoint)
			if err != nil {
				return fail(err)
			}
			defer closeLog()
			pprofenv.Start(log)
			if pidFile != "" {
				// The client leaves its working directory (see mountd.Run).
				if pidFile, err = filepath.Abs(pidFile); err != nil {
					return fail(fmt.Errorf("pid file: %w", err))
				}
				if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
					return fail(fmt.Errorf("pid file: %w", err))
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
	f.StringVar(&cfg.VolumeID, "volfile-id", "", "volume whose volfile to fetch; VOL/DIR mounts directory DIR of it")
	f.StringVar(&cfg.Subdir, "subdir-mount", "", "mount this directory of the volume instead of its root")
	f.StringVar(&cfg.DumpDir, "statedump-dir", mountd.DefaultDumpDir, "where SIGUSR1 writes a state dump")
	f.BoolVarP(&noDaemon, "no-daemon", "N", false, "stay in the foreground")
	f.BoolVar(&debug, "debug", false, "foreground, log DEBUG to stderr")
	f.StringVarP(&logFile, "log-file", "l", "", "log file, - for stderr (default "+mountd.DefaultLogDir+"/MOUNTPOINT-WITH-DASHES.log)")
	f.StringVarP(&logLevel, "log-level", "L", "INFO", "DEBUG, INFO, WARNING, ERROR or NONE")
	f.StringVarP(&pidFile, "pid-file", "p", "", "write the process id to this file")
	f.Float64Var(&entryTimeout, "entry-timeout", fuse.DefaultEntryTimeout.Seconds(), "seconds the kernel caches names")
	f.Float64Var(&attrTimeout, "attribute-timeout", fuse.DefaultAttrTimeout.Seconds(), "seconds the kernel caches attributes")
	f.Float64Var(&negative, "negative-timeout", fuse.DefaultNegativeTimeout.Seconds(), "seconds the kernel caches missing names")
	f.Float64Var(&upTimeout, "up-timeout", fuse.DefaultUpTimeout.Seconds(), "seconds a fresh mount waits for the bricks before answering anyway")
	f.Float64Var(&gidTimeout, "gid-timeout", fuse.DefaultGroupsTTL.Seconds(), "seconds a process's supplementary groups are cached")
	f.BoolVar(&cfg.Mount.ReadOnly, "read-only", false, "mount read-only")
	f.BoolVar(&cfg.Mount.ACL, "acl", false, "let the bricks decide every access, POSIX ACLs included")
	f.BoolVar(&cfg.FS.KeepCache, "fopen-keep-cache", false, "keep cached file data across opens")
	f.StringVar(&readdirp, "use-readdirp", "yes", "list directories with attributes (READDIRPLUS): yes or no")
	f.StringVar(&directIO, "direct-io-mode", "auto", "enable: bypass the page cache for file data; disable, auto: use it")
	f.IntVar(&cfg.Mount.MaxBackground, "background-qlen", fuse.DefaultMaxBackground, "kernel queue of background requests")
	f.IntVar(&cfg.Mount.CongestionThreshold, "congestion-threshold", 0, "background requests at which the kernel throttles (0: 3/4 of the queue)")
	f.StringArrayVar(&xlatorOpts, "xlator-option", nil, "VOLUME.KEY=VALUE: set a layer option (VOLUME may hold wildcards; repeatable)")
	f.BoolVar(&cfg.Mount.Debug, "fuse-debug", false, "log every FUSE request (very verbose)")
	return cmd
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// isOff reads a GlusterFS boolean option value.
func isOff(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes", "on", "true", "enable", "1":
		return false, nil
	case "no", "off", "false", "disable", "0":
		return true, nil
	}
	return false, fmt.Errorf("%s %q: want yes or no", name, v)
}

// openLog opens the client's log, by default named after the mount point.
func openLog(file, level, mountPoint string) (*slog.Logger, func(), error) {
	if file == "" {
		file = mountd.LogFileFor(mountd.DefaultLogDir, mountPoint)
	}
	return logfile.Open(file, level, false)
}
