package cluster

import (
	"os/exec"
	"syscall"
)

// Proc is a daemon a harness runs (a glusterd): in a process group of its
// own, so that signals meant for the test do not reach it, with Exited
// closed once it has ended and been reaped.
type Proc struct {
	Cmd    *exec.Cmd
	Exited chan struct{}
}

// StartProc starts cmd as a Proc.
func StartProc(cmd *exec.Cmd) (*Proc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{Cmd: cmd, Exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.Exited) }()
	return p, nil
}

// Kill SIGKILLs the process (nil: nothing to do) and waits until it is gone.
func (p *Proc) Kill() {
	if p == nil {
		return
	}
	p.Cmd.Process.Kill()
	<-p.Exited
}
