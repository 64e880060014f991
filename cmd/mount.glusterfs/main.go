// Command mount.glusterfs is the helper mount(8) runs for
// "mount -t glusterfs HOST:/VOL DIR" and glusterfs fstab entries. It
// starts the glusterfs client, which returns once the mount answers.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/gluster-go/gluster-go/internal/mounthelper"
)

// Exit codes of mount(8) helpers.
const (
	exitUsage   = 1
	exitFailure = 32
)

func main() {
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "-V") {
		fmt.Println("mount.glusterfs (gluster-go)")
		return
	}
	req, err := mounthelper.Parse(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "mount.glusterfs:", err)
		os.Exit(exitUsage)
	}
	prog, err := mounthelper.FindGlusterfs()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mount.glusterfs:", err)
		os.Exit(exitFailure)
	}
	args := req.Command()
	if req.Verbose || req.Fake {
		fmt.Fprintln(os.Stderr, prog, strings.Join(args, " "))
	}
	if req.Fake {
		return
	}
	cmd := exec.Command(prog, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			fmt.Fprintln(os.Stderr, "mount.glusterfs:", err)
		}
		fmt.Fprintln(os.Stderr, "Mount failed. Check the log file for more details.")
		os.Exit(exitFailure)
	}
}
