package posixtest

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// actor performs operations in a test: the test process itself (cred nil),
// or a child under another identity, which only a root test process can start.
type actor struct {
	cred     *Cred
	uid, gid int
}

func self() actor {
	return actor{uid: os.Geteuid(), gid: os.Getegid()}
}

func child(c Cred) actor {
	return actor{cred: &c, uid: int(c.UID), gid: int(c.GID)}
}

// user is a non-root actor: the test process when it is not root, otherwise
// a child running as Nobody.
func user() actor {
	if os.Geteuid() != 0 {
		return self()
	}
	return child(Nobody())
}

// otherUser is a non-root actor distinct from user(); only root can start
// one, so tests that need it skip when run unprivileged.
func otherUser(t *testing.T) actor {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to act as a second user")
	}
	return child(stranger())
}

// withOtherUser runs the part of a test that needs otherUser as a subtest,
// so that an unprivileged run skips only that part.
func withOtherUser(t *testing.T, fn func(t *testing.T, o actor)) {
	t.Helper()
	t.Run("OtherUser", func(t *testing.T) { fn(t, otherUser(t)) })
}

func (a actor) do(t *testing.T, op string, args ...string) error {
	t.Helper()
	if a.cred == nil {
		_, err := doOp(op, args)
		return err
	}
	_, err := runOp(t, a.cred, op, args...)
	return err
}

// give makes path owned by a (a no-op when a is the test process, which
// created it).
func (a actor) give(t *testing.T, path string) {
	t.Helper()
	if a.cred != nil {
		must(t, os.Lchown(path, a.uid, a.gid))
	}
}

// memberGroup returns a group a belongs to other than its primary one.
func (a actor) memberGroup(t *testing.T) int {
	t.Helper()
	if a.cred != nil {
		return SpareGID
	}
	groups, err := os.Getgroups()
	must(t, err)
	for _, g := range groups {
		if g != a.gid {
			return g
		}
	}
	t.Skip("needs a supplementary group")
	return 0
}

// nonMemberGroup returns a group a does not belong to.
func (a actor) nonMemberGroup(t *testing.T) int {
	t.Helper()
	if a.cred == nil {
		groups, err := os.Getgroups()
		must(t, err)
		if a.gid == 0 || slices.Contains(groups, 0) {
			t.Skip("the test user belongs to group 0")
		}
	}
	return 0
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErrno checks that err is exactly want (nil meaning success).
func wantErrno(t *testing.T, what string, err error, want syscall.Errno) {
	t.Helper()
	if want == 0 {
		if err != nil {
			t.Errorf("%s: %v, want success", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %s (%v)", what, errText(err), unix.ErrnoName(want), want)
	}
}

func errText(err error) string {
	var e syscall.Errno
	if errors.As(err, &e) {
		return fmt.Sprintf("%s (%v)", unix.ErrnoName(e), e)
	}
	if err == nil {
		return "success"
	}
	return err.Error()
}

func lstat(t *testing.T, path string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatalf("lstat %s: %v", path, err)
	}
	return st
}

func writeFile(t *testing.T, path string, data string, mode os.FileMode) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(data), mode))
	must(t, os.Chmod(path, mode))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return string(b)
}

func wantMode(t *testing.T, path string, want uint32) {
	t.Helper()
	if got := lstat(t, path).Mode &^ unix.S_IFMT; got != want {
		t.Errorf("mode of %s = %#o, want %#o", path, got, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
