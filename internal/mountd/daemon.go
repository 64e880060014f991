package mountd

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// notifyEnv names the descriptor on which a daemonized child reports
// whether its mount answers; the parent waits for that line.
const notifyEnv = "GLUSTERFS_NOTIFY_FD"

// Daemonize runs this program again in the background with -N and the same
// arguments, in a session of its own, and returns once the child says its
// mount answers, or with the child's one-line reason for failing.
func Daemonize(args []string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("daemonize: %w", err)
	}
	defer r.Close()
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("daemonize: %w", err)
	}
	cmd := exec.Command(exe, append([]string{"-N"}, args...)...)
	// argv[0] stays what the user ran, so the process is still "glusterfs".
	cmd.Args[0] = os.Args[0]
	cmd.ExtraFiles = []*os.File{w} // fd 3
	cmd.Env = append(os.Environ(), notifyEnv+"=3")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("daemonize: %w", err)
	}
	w.Close()
	line, _ := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "ok" {
		return cmd.Process.Release()
	}
	if line != "" {
		return errors.New(line)
	}
	// The child died before it could say why.
	return fmt.Errorf("client process exited: %v", cmd.Wait())
}

// ChildNotifier returns the function a daemonized child reports readiness
// with (see Daemonize), or nil when the process runs in the foreground.
func ChildNotifier() func(error) {
	if os.Getenv(notifyEnv) != "3" {
		return nil
	}
	os.Unsetenv(notifyEnv)
	f := os.NewFile(3, "notify")
	return func(err error) {
		defer f.Close()
		if err != nil {
			fmt.Fprintln(f, strings.ReplaceAll(err.Error(), "\n", "; "))
			return
		}
		fmt.Fprintln(f, "ok")
	}
}
