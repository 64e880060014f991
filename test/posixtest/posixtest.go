package posixtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Test is one entry of the conformance table. Fn works only inside dir, a
// fresh directory owned by the identity Fn runs as.
type Test struct {
	Name string
	Fn   func(t *testing.T, dir string)
}

// Config sizes the tests that are expensive on a remote file system.
type Config struct {
	// ReaddirEntries is how many files ReaddirLarge lists; 0 means
	// DefaultReaddirEntries.
	ReaddirEntries int
}

// DefaultReaddirEntries is the directory size the e2e runs list.
const DefaultReaddirEntries = 100000

// Tests returns the conformance table in a stable order.
func Tests(cfg Config) []Test {
	n := cfg.ReaddirEntries
	if n <= 0 {
		n = DefaultReaddirEntries
	}
	return []Test{
		{"MkdirRmdirErrnos", MkdirRmdirErrnos},
		{"OpenExcl", OpenExcl},
		{"OpenTrunc", OpenTrunc},
		{"OpenAppend", OpenAppend},
		{"AccessDenied", AccessDenied},
		{"ChmodRules", ChmodRules},
		{"ChownRules", ChownRules},
		{"SetgidClearedOnChmod", SetgidClearedOnChmod},
		{"SuidClearedOnWrite", SuidClearedOnWrite},
		{"SuidClearedOnChown", SuidClearedOnChown},
		{"SetgidDirectory", SetgidDirectory},
		{"StickyDirectory", StickyDirectory},
		{"HardLinks", HardLinks},
		{"DirLinkCount", DirLinkCount},
		{"Symlinks", Symlinks},
		{"SymlinkLoop", SymlinkLoop},
		{"RenameFiles", RenameFiles},
		{"RenameDirs", RenameDirs},
		{"RenameNoReplace", RenameNoReplace},
		{"UnlinkOpenFile", UnlinkOpenFile},
		{"NameTooLong", NameTooLong},
		{"Truncate", Truncate},
		{"SparseFile", SparseFile},
		{"Utimens", Utimens},
		{"UtimensPermissions", UtimensPermissions},
		{"TimesOnChange", TimesOnChange},
		{"Mknod", Mknod},
		{"UserXattrs", UserXattrs},
		{"FcntlLocks", FcntlLocks},
		{"FcntlLockReleasedOnAnyClose", FcntlLockReleasedOnAnyClose},
		{"FcntlLockWait", FcntlLockWait},
		{"ReadWriteData", ReadWriteData},
		{"Mmap", Mmap},
		{"Fallocate", Fallocate},
		{"Fsync", Fsync},
		{"Statfs", Statfs},
		{"ReaddirLarge", ReaddirLarge(n)},
	}
}

// Run runs the table as the calling process's identity, each test in its own
// subdirectory of dir. When the caller is root, tests also act as other
// users, so dir and its ancestors must be searchable by everyone.
func Run(t *testing.T, dir string, cfg Config) {
	for _, tc := range Tests(cfg) {
		t.Run(tc.Name, func(t *testing.T) {
			tc.Fn(t, caseDir(t, dir, tc.Name))
		})
	}
}

// RunAsUser runs the table in child processes that hold cred, one child per
// test, each in its own subdirectory of dir owned by cred. dir and its
// ancestors must be searchable by cred; the caller must be root.
func RunAsUser(t *testing.T, dir string, cred Cred, cfg Config) {
	conf, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range Tests(cfg) {
		t.Run(tc.Name, func(t *testing.T) {
			sub := caseDir(t, dir, tc.Name)
			if err := os.Chown(sub, int(cred.UID), int(cred.GID)); err != nil {
				t.Fatal(err)
			}
			cmd := selfCommand(t, &cred, "-test.run=^"+regexp.QuoteMeta(tc.Name)+"$", "-test.v", childTimeout(t))
			cmd.Env = append(cmd.Env, envCase+"="+tc.Name, envDir+"="+sub, envConfig+"="+string(conf))
			cmd.Dir = sub
			out, err := cmd.CombinedOutput()
			reportChild(t, tc.Name, cred, string(out), err)
		})
	}
}

// childTimeout gives a child what is left of the parent's -timeout, so that
// a long test is not cut short by the child's default of ten minutes.
func childTimeout(t *testing.T) string {
	deadline, ok := t.Deadline()
	if !ok {
		return "-test.timeout=0"
	}
	return "-test.timeout=" + max(time.Until(deadline), time.Second).String()
}

// reportChild turns a child's go-test output into this subtest's outcome.
func reportChild(t *testing.T, name string, cred Cred, out string, err error) {
	t.Helper()
	switch {
	case err != nil:
		t.Errorf("as uid %d: %v\n%s", cred.UID, err, out)
	case strings.Contains(out, "--- SKIP: "+name+" ("):
		t.Skipf("as uid %d:\n%s", cred.UID, out)
	case !strings.Contains(out, "--- PASS: "+name+" ("):
		t.Errorf("as uid %d: child ran no test (does TestMain call posixtest.Main?)\n%s", cred.UID, out)
	case testing.Verbose():
		t.Logf("as uid %d:\n%s", cred.UID, out)
	}
}

// caseDir makes the fresh directory one test works in.
func caseDir(t *testing.T, dir, name string) string {
	t.Helper()
	sub := filepath.Join(dir, name)
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatalf("mkdir %s: %v", sub, err)
	}
	// Mkdir honours the umask; tests rely on exactly 0755.
	if err := os.Chmod(sub, 0o755); err != nil {
		t.Fatalf("chmod %s: %v", sub, err)
	}
	return sub
}

// Main must be called from the TestMain of every test binary that uses this
// package: it serves the child processes that the suite starts, and otherwise
// runs the binary's tests.
func Main(m *testing.M) {
	if req := os.Getenv(envOp); req != "" {
		os.Exit(serveOp(req))
	}
	if name := os.Getenv(envCase); name != "" {
		os.Exit(runCase(name, os.Getenv(envDir), os.Getenv(envConfig)))
	}
	os.Exit(m.Run())
}

// runCase runs one table test in this (child) process through the testing
// package, so that t.Fatal, t.Skip and logs behave as in the parent.
func runCase(name, dir, conf string) int {
	var cfg Config
	if err := json.Unmarshal([]byte(conf), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "posixtest: config %q: %v\n", conf, err)
		return 2
	}
	for _, tc := range Tests(cfg) {
		if tc.Name == name {
			fn := tc.Fn
			testing.Main(regexp.MatchString, []testing.InternalTest{{Name: name, F: func(t *testing.T) { fn(t, dir) }}}, nil, nil)
		}
	}
	fmt.Fprintf(os.Stderr, "posixtest: no test named %q\n", name)
	return 2
}
