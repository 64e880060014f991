// Package sysmon keeps the Go runtime's monitor thread (sysmon) from
// costing a process that serves many short requests, each a few system
// calls, more CPU than its own work.
//
// When every P of a process is idle, sysmon sleeps until woken; the next
// goroutine to enter a system call wakes it, and it then polls every 20 µs
// for at least 1 ms before backing off. A brick goes idle between most
// requests, so each request paid a futex wake-up and several 20 µs
// nanosleeps of sysmon (bench/createcost.sh single: 5.7 nanosleep and 3.2
// futex calls per small-file create, with 13 useful system calls). With
// GODEBUG schedtrace set, sysmon never takes that deep sleep and backs off
// to one wake-up per 10 ms while the process is quiet; the trace line it
// then prints every schedtrace milliseconds is set to come every 24.8 days.
// GODEBUG is read at start-up, hence the re-execution.
package sysmon

import (
	"os"
	"strings"
	"syscall"
)

// Setting is the GODEBUG setting added.
const Setting = "schedtrace=2147483647"

// StayAwake re-executes the process with Setting added to GODEBUG, unless
// GODEBUG sets schedtrace already (the user's choice wins, and the
// re-executed process returns at once). Call it first thing in main. On
// failure it returns, and the process runs on as it is.
func StayAwake() {
	env := os.Environ()
	godebug := ""
	for i, kv := range env {
		v, ok := strings.CutPrefix(kv, "GODEBUG=")
		if !ok {
			continue
		}
		if strings.Contains(","+v, ",schedtrace=") {
			return
		}
		godebug = v + ","
		env = append(env[:i], env[i+1:]...)
		break
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	syscall.Exec(exe, os.Args, append(env, "GODEBUG="+godebug+Setting))
}
