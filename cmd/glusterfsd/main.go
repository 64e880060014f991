// Command glusterfsd is the brick process: it serves one brick, described
// by a brick volfile, to clients on the brick port.
//
//	glusterfsd -f BRICK.vol --brick-port 49152 [--listen-host ADDR] [-p PIDFILE] [-l LOGFILE]
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gluster-go/gluster-go/internal/brickd"
	"github.com/gluster-go/gluster-go/internal/layers"
	"github.com/gluster-go/gluster-go/internal/logfile"
	"github.com/gluster-go/gluster-go/internal/pprofenv"
	"github.com/gluster-go/gluster-go/internal/sysmon"
)

func main() {
	sysmon.StayAwake()
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "glusterfsd:", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	var (
		cfg               brickd.Config
		logFile, logLevel string
	)
	cmd := &cobra.Command{
		Use:           "glusterfsd -f VOLFILE [flags]",
		Short:         "serve one brick of a volume",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Volfile == "" {
				return fmt.Errorf("no volfile (-f)")
			}
			log, closeLog, err := openLog(logFile, logLevel, cfg.BrickName)
			if err != nil {
				return err
			}
			defer closeLog()
			pprofenv.Start(log)
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			if err := brickd.Run(ctx, cfg, layers.Registry(), log, nil); err != nil {
				log.Error("exiting", "err", err)
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&cfg.Volfile, "volfile", "f", "", "brick volfile")
	f.IntVar(&cfg.Port, "brick-port", 0, "port to serve the brick on (default: the volfile's listen-port, else any)")
	f.StringVar(&cfg.ListenHost, "listen-host", "", "address to listen on (default all)")
	f.StringVarP(&cfg.PidFile, "pid-file", "p", "", "write the process id here")
	f.StringVar(&cfg.BrickName, "brick-name", "", "brick path, for logs")
	f.StringVarP(&logFile, "log-file", "l", "", "log file, - for stderr (default "+brickd.DefaultLogDir+"/BRICK-PATH.log)")
	f.StringVarP(&logLevel, "log-level", "L", "INFO", "DEBUG, INFO, WARNING, ERROR or NONE")
	// glusterd supervises bricks, so glusterfsd always stays in the
	// foreground; -N is accepted as GlusterFS's glusterfsd takes it.
	f.BoolP("no-daemon", "N", false, "stay in the foreground (always the case)")
	return cmd
}

// openLog opens the brick's log, by default named after the brick.
func openLog(file, level, brick string) (*slog.Logger, func(), error) {
	if file == "" {
		file = brickd.LogFileFor(brick)
	}
	log, closeFn, err := logfile.Open(file, level, false)
	if err != nil {
		return nil, nil, err
	}
	return log.With("proc", "glusterfsd"), closeFn, nil
}
