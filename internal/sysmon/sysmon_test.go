package sysmon

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const childVar = "SYSMON_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childVar) != "" {
		StayAwake()
		fmt.Printf("%d|%s|%s", os.Getpid(), os.Getenv("GODEBUG"), strings.Join(os.Args[1:], " "))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestStayAwake(t *testing.T) {
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GODEBUG=") {
			base = append(base, kv)
		}
	}
	for _, tc := range []struct{ godebug, want string }{
		{"", Setting},
		{"madvdontneed=1", "madvdontneed=1," + Setting},
		{"schedtrace=1000", "schedtrace=1000"}, // the user's own: no re-execution
	} {
		cmd := exec.Command(os.Args[0], "one", "two")
		cmd.Env = append(base[:len(base):len(base)], childVar+"=1")
		if tc.godebug != "" {
			cmd.Env = append(cmd.Env, "GODEBUG="+tc.godebug)
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Split(string(out), "|")
		if len(f) != 3 || f[0] != fmt.Sprint(cmd.Process.Pid) || f[1] != tc.want || f[2] != "one two" {
			t.Errorf("GODEBUG=%q: child said %q, want pid %d, GODEBUG %q, args \"one two\"", tc.godebug, out, cmd.Process.Pid, tc.want)
		}
	}
}
