package mgmt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gluster-go/gluster-go/internal/logfile"
	"github.com/gluster-go/gluster-go/internal/mgmt/api"
)

// notifyEnv names the descriptor a daemonized glusterd reports readiness
// (or its one-line failure) on to the process that started it.
const notifyEnv = "GLUSTERD_NOTIFY_FD"

// Command returns glusterd's command line.
func Command() *cobra.Command {
	var (
		cfg        Config
		foreground bool
		opts       daemonOpts
	)
	cmd := &cobra.Command{
		Use:           "glusterd",
		Short:         "GlusterFS management daemon",
		Version:       api.Version,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !foreground && os.Getenv(notifyEnv) == "" {
				return daemonize()
			}
			return run(cfg, opts)
		},
	}
	cmd.SetVersionTemplate("glusterfs {{.Version}}\n")
	f := cmd.Flags()
	f.StringVar(&cfg.Address, "address", "", "IP address to bind (default: all)")
	f.IntVar(&cfg.Port, "port", 24007, "management port (raft uses the next one)")
	f.StringVar(&cfg.WorkDir, "workdir", "/var/lib/glusterd", "state directory")
	f.StringVar(&cfg.LogDir, "logdir", "/var/log/glusterfs", "log directory")
	f.StringVar(&cfg.RunDir, "rundir", "/var/run/gluster", "run directory (pid files)")
	f.StringVar(&cfg.BrickBinary, "glusterfsd", "", "brick binary (default: glusterfsd next to glusterd)")
	f.BoolVar(&foreground, "foreground", false, "stay in the foreground")
	f.BoolVarP(&foreground, "no-daemon", "N", false, "same as --foreground")
	f.StringVarP(&opts.pidFile, "pid-file", "p", "", "write the daemon's pid here")
	f.StringVarP(&opts.logFile, "log-file", "l", "", "log file (default LOGDIR/glusterd.log)")
	f.StringVarP(&opts.logLevel, "log-level", "L", "INFO", "DEBUG, INFO, WARNING or ERROR")
	f.MarkHidden("port")
	f.MarkHidden("glusterfsd")
	return cmd
}

// Main runs glusterd and returns the exit code.
func Main(args []string) int {
	cmd := Command()
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "glusterd:", err)
		return 1
	}
	return 0
}

// daemonize re-executes glusterd detached (own session, no terminal) and
// returns once the child serves, or with the child's one-line failure.
func daemonize() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("executable: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("pipe: %w", err)
	}
	defer r.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Args[0] = "glusterd"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.ExtraFiles = []*os.File{w}
	cmd.Env = append(os.Environ(), notifyEnv+"=3")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("start daemon: %w", err)
	}
	w.Close()
	cmd.Process.Release()
	line, err := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSpace(line)
	switch {
	case line == "ok":
		return nil
	case line != "":
		return errors.New(line)
	}
	return fmt.Errorf("daemon exited before serving: %v", err)
}

// daemonOpts are the process's own options, beside Config.
type daemonOpts struct {
	pidFile, logFile, logLevel string
}

func run(cfg Config, opts daemonOpts) error {
	notify := func(string) {}
	if fd, err := strconv.Atoi(os.Getenv(notifyEnv)); err == nil {
		f := os.NewFile(uintptr(fd), "notify")
		os.Unsetenv(notifyEnv)
		notify = func(s string) {
			io.WriteString(f, s+"\n")
			f.Close()
		}
	}
	err := serve(cfg, opts, func() { notify("ok") })
	if err != nil {
		notify(err.Error())
	}
	return err
}

func serve(cfg Config, opts daemonOpts, ready func()) error {
	if err := os.MkdirAll(cfg.LogDir, 0o755); err != nil {
		return fmt.Errorf("mkdir %s: %w", cfg.LogDir, err)
	}
	logPath := opts.logFile
	if logPath == "" {
		logPath = filepath.Join(cfg.LogDir, "glusterd.log")
	}
	log, closeLog, err := logfile.Open(logPath, opts.logLevel, true)
	if err != nil {
		return err
	}
	defer closeLog()
	g, err := New(cfg, log)
	if err != nil {
		log.Error("glusterd failed to start", "err", err)
		return err
	}
	if opts.pidFile != "" {
		if err := writeFileAtomic(opts.pidFile, []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
			return err
		}
		defer os.Remove(opts.pidFile)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	go func() {
		for range usr1 {
			if path, err := g.Statedump(); err != nil {
				log.Error("statedump", "err", err)
			} else {
				log.Info("statedump written", "path", path)
			}
		}
	}()
	err = g.Serve(ctx, ready)
	log.Info("glusterd stopped", "err", err, "at", time.Now().Format(time.RFC3339))
	return err
}
