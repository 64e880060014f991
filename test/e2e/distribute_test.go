package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/dht"
	"github.com/gluster-go/gluster-go/test/cluster"
)

// distPlacement is internal/dht/testdata/glusterfs-placement.json: where
// Debian's GlusterFS put each file of a 3-brick distribute volume.
type distPlacement struct {
	Volumes []struct {
		Name    string              `json:"name"`
		Layouts map[string][]string `json:"layouts"`
		Files   map[string]int      `json:"files"`
	} `json:"volumes"`
}

// distVolume probes 3 nodes into a pool and creates and starts a
// distribute volume with one brick on each of the given nodes.
func distVolume(t *testing.T, vol string, nodes ...int) (*cluster.Cluster, []string) {
	t.Helper()
	c := cluster.New(t, 3)
	for i := 1; i < 3; i++ {
		expect(t, c.MustGluster(0, "peer", "probe", c.Node(i).Addr), "peer probe: success")
	}
	var bricks []string
	for _, n := range nodes {
		bricks = append(bricks, c.Brick(n, vol))
	}
	expect(t, c.MustGluster(0, append(append([]string{"volume", "create", vol}, bricks...), "force")...), "volume create: "+vol+": success")
	expect(t, c.MustGluster(0, "volume", "start", vol), "volume start: "+vol+": success")
	return c, bricks
}

func distBrickDir(brick string) string { return brick[strings.Index(brick, ":")+1:] }

// TestDistributeHashVectors creates on our volume the files GlusterFS
// placed (same volume name, so the same subvolume names, and bricks of
// equal size) and checks that each lands on the same brick and that every
// directory gets the same layout xattr.
func TestDistributeHashVectors(t *testing.T) {
	raw, err := os.ReadFile("../../internal/dht/testdata/glusterfs-placement.json")
	must(t, err)
	var p distPlacement
	must(t, json.Unmarshal(raw, &p))
	want := p.Volumes[0]
	if want.Name != "hv" {
		t.Fatalf("first recorded volume is %q, want hv (3 equal bricks)", want.Name)
	}
	c, bricks := distVolume(t, "hv", 0, 1, 2)
	mp := c.Mount("hv", 0)
	var dirs []string
	for d := range want.Layouts {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	for _, d := range dirs {
		if d != "/" {
			must(t, os.MkdirAll(filepath.Join(mp, d), 0o755))
		}
	}
	for f := range want.Files {
		must(t, os.WriteFile(filepath.Join(mp, f), []byte(f), 0o644))
	}
	for f, b := range want.Files {
		var on []int
		for i, br := range bricks {
			if st, err := os.Lstat(filepath.Join(distBrickDir(br), f)); err == nil && st.Mode()&os.ModeSticky == 0 {
				on = append(on, i)
			}
		}
		if len(on) != 1 || on[0] != b {
			t.Errorf("%q: on bricks %v, GlusterFS put it on %d", f, on, b)
		}
	}
	for _, d := range dirs {
		for i, br := range bricks {
			buf := make([]byte, 16)
			n, err := unix.Lgetxattr(filepath.Join(distBrickDir(br), d), "trusted.glusterfs.dht", buf)
			if err != nil {
				t.Errorf("layout of %s on brick %d: %v", d, i, err)
				continue
			}
			if got := hex.EncodeToString(buf[:n]); got != want.Layouts[d][i] {
				t.Errorf("layout of %q on brick %d: %s, GlusterFS %s", d, i, got, want.Layouts[d][i])
			}
		}
	}
}

// distWorkload writes and rewrites files under a mount and reads them back
// while the volume changes shape, keeping what each file must hold.
type distWorkload struct {
	root string
	mu   sync.Mutex
	sums map[string]*distFile // by name

	stop     chan struct{}
	wg       sync.WaitGroup
	errMu    sync.Mutex
	errs     []string
	written  int
	verified int
}

type distFile struct {
	mu  sync.Mutex
	sum [32]byte
}

func newDistWorkload(root string) *distWorkload {
	return &distWorkload{root: root, sums: map[string]*distFile{}, stop: make(chan struct{})}
}

func (w *distWorkload) fail(format string, a ...any) {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	if len(w.errs) < 20 {
		w.errs = append(w.errs, fmt.Sprintf(format, a...))
	}
}

// write creates file name, or rewrites it, with fresh content.
func (w *distWorkload) write(r *rand.Rand, name string) {
	w.mu.Lock()
	f, ok := w.sums[name]
	if !ok {
		// Locked before it is published, so the reader never reads a
		// file that is still being created.
		f = &distFile{}
		f.mu.Lock()
		defer f.mu.Unlock()
		w.sums[name] = f
	}
	w.mu.Unlock()
	data := make([]byte, 1+r.IntN(96<<10))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	if ok {
		f.mu.Lock()
		defer f.mu.Unlock()
	}
	if err := os.WriteFile(filepath.Join(w.root, name), data, 0o644); err != nil {
		w.fail("write %s: %v", name, err)
		return
	}
	f.sum = sha256.Sum256(data)
	w.mu.Lock()
	w.written++
	w.mu.Unlock()
}

// verify reads name and compares it with what was last written.
func (w *distWorkload) verify(name string) bool {
	w.mu.Lock()
	f := w.sums[name]
	w.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := os.ReadFile(filepath.Join(w.root, name))
	switch {
	case err != nil:
		w.fail("read %s: %v", name, err)
	case sha256.Sum256(data) != f.sum:
		w.fail("%s: content differs from what was written (%d bytes)", name, len(data))
	default:
		w.mu.Lock()
		w.verified++
		w.mu.Unlock()
		return true
	}
	return false
}

func (w *distWorkload) names() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for n := range w.sums {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// run starts a writer (new files, and rewrites of old ones) and a reader.
func (w *distWorkload) run() {
	w.wg.Add(2)
	go func() {
		defer w.wg.Done()
		r := rand.New(rand.NewPCG(7, 7))
		for k := 0; ; k++ {
			select {
			case <-w.stop:
				return
			default:
			}
			if names := w.names(); k%4 == 3 && len(names) > 0 {
				w.write(r, names[r.IntN(len(names))])
			} else {
				w.write(r, fmt.Sprintf("live-%05d", k))
			}
		}
	}()
	go func() {
		defer w.wg.Done()
		r := rand.New(rand.NewPCG(9, 9))
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			if names := w.names(); len(names) > 0 {
				w.verify(names[r.IntN(len(names))])
			}
		}
	}()
}

func (w *distWorkload) halt(t *testing.T) {
	close(w.stop)
	w.wg.Wait()
	t.Logf("workload: %d writes, %d verified reads", w.written, w.verified)
	for _, e := range w.errs {
		t.Error(e)
	}
}

// check verifies the end state: the listing names every file once, each
// reads back as last written, and each sits as data on exactly one of
// bricks (and on none of gone).
func (w *distWorkload) check(t *testing.T, dir string, bricks, gone []string) {
	t.Helper()
	ents, err := os.ReadDir(w.root)
	must(t, err)
	var listed []string
	for _, e := range ents {
		listed = append(listed, e.Name())
	}
	names := w.names()
	if !slices.Equal(listed, names) {
		t.Errorf("listing has %d names, %d files were written (lost or duplicated entries)", len(listed), len(names))
	}
	all := append(slices.Clone(bricks), gone...)
	for _, n := range names {
		if !w.verify(n) {
			t.Errorf("%s: %s", n, distWhere(dir, n, all))
		}
		on := 0
		for _, b := range bricks {
			if st, err := os.Lstat(filepath.Join(distBrickDir(b), dir, n)); err == nil && st.Mode()&os.ModeSticky == 0 {
				on++
			}
		}
		if on != 1 {
			t.Errorf("%s: data on %d bricks (%s)", n, on, distWhere(dir, n, all))
		}
		for _, b := range gone {
			if st, err := os.Lstat(filepath.Join(distBrickDir(b), dir, n)); err == nil && st.Size() > 0 {
				t.Errorf("%s still has data on removed brick %s", n, b)
			}
		}
	}
	for _, e := range w.errs {
		t.Error(e)
	}
}

// distWhere describes what each brick holds under name, for failures.
func distWhere(dir, name string, bricks []string) string {
	var out []string
	for i, b := range bricks {
		st, err := os.Lstat(filepath.Join(distBrickDir(b), dir, name))
		if err != nil {
			continue
		}
		buf := make([]byte, 256)
		n, _ := unix.Lgetxattr(filepath.Join(distBrickDir(b), dir, name), "trusted.glusterfs.dht.linkto", buf)
		out = append(out, fmt.Sprintf("brick %d: mode %v size %d linkto %q", i, st.Mode(), st.Size(), buf[:max(n, 0)]))
	}
	return strings.Join(out, "; ")
}

var distStatusRow = regexp.MustCompile(`^\s*(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.+?)\s+(\d+):(\d\d):(\d\d)\s*$`)

// distRow is one node's line of a rebalance status table.
type distRow struct {
	node                     string
	files, scanned, failures int
	status                   string
}

func distStatus(out string) []distRow {
	var rows []distRow
	for _, l := range strings.Split(out, "\n") {
		m := distStatusRow.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		files, _ := strconv.Atoi(m[2])
		scanned, _ := strconv.Atoi(m[4])
		failures, _ := strconv.Atoi(m[5])
		rows = append(rows, distRow{node: m[1], files: files, scanned: scanned, failures: failures, status: m[7]})
	}
	return rows
}

// distWait polls a status command until each of nodes reports completed
// and returns the last table's rows. The limit is a hang guard.
func distWait(t *testing.T, c *cluster.Cluster, nodes int, args ...string) []distRow {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		out, err := c.Gluster(0, args...)
		rows := distStatus(out)
		done := err == nil && len(rows) == nodes
		for _, r := range rows {
			if r.status == "failed" {
				t.Fatalf("%s failed on %s:\n%s", strings.Join(args, " "), r.node, out)
			}
			done = done && r.status == "completed"
		}
		if done {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not complete:\n%s", strings.Join(args, " "), out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func distTotal(rows []distRow) (files, failures int) {
	for _, r := range rows {
		files += r.files
		failures += r.failures
	}
	return files, failures
}

// TestDistributeGrowAndShrinkUnderLoad runs a writer and a reader on a
// mount while a brick is added and the volume rebalanced, then while a
// brick is removed: no file is lost or duplicated and every read matches
// what was written.
func TestDistributeGrowAndShrinkUnderLoad(t *testing.T) {
	c, bricks := distVolume(t, "dv", 0, 1)
	mp := c.Mount("dv", 0)
	root := filepath.Join(mp, "load")
	must(t, os.Mkdir(root, 0o755))
	w := newDistWorkload(root)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range 300 {
		w.write(r, fmt.Sprintf("pre-%04d", i))
	}
	w.run()
	stopped := false
	defer func() {
		if !stopped {
			w.halt(t)
		}
	}()

	nb := c.Brick(2, "dv")
	expect(t, c.MustGluster(0, "volume", "add-brick", "dv", nb, "force"), "volume add-brick: success")
	bricks = append(bricks, nb)
	expect(t, c.MustGluster(0, "volume", "rebalance", "dv", "start"), "volume rebalance: dv: success: Rebalance on dv has been started successfully.", "ID: ")
	rows := distWait(t, c, 3, "volume", "rebalance", "dv", "status")
	if files, failures := distTotal(rows); files == 0 || failures != 0 {
		t.Errorf("rebalance moved %d files with %d failures", files, failures)
	}

	gone := bricks[0]
	expect(t, c.MustGluster(0, "volume", "remove-brick", "dv", gone, "start"), "volume remove-brick start: success", "ID: ")
	if out, err := c.Gluster(0, "volume", "remove-brick", "dv", gone, "commit"); err == nil {
		// Allowed only if the migration already finished.
		if rows := distStatus(c.MustGluster(0, "volume", "remove-brick", "dv", gone, "status")); len(rows) == 0 || rows[0].status != "completed" {
			t.Fatalf("commit accepted before the migration completed:\n%s", out)
		}
	} else {
		distWait(t, c, 3, "volume", "remove-brick", "dv", gone, "status")
		expect(t, c.MustGluster(0, "volume", "remove-brick", "dv", gone, "commit"), "volume remove-brick commit: success")
	}
	bricks = bricks[1:]
	// A little more load on the new shape before stopping.
	time.Sleep(2 * time.Second)
	w.halt(t)
	stopped = true
	expect(t, c.MustGluster(0, "volume", "info", "dv"), "Number of Bricks: 2", "Brick1: "+bricks[0], "Brick2: "+bricks[1])
	w.check(t, "load", bricks, []string{gone})
}

// distMoving fills a 2-brick volume vol, adds a third brick, starts a
// rebalance and returns once it is moving files; ok is false if it
// finished before that could be seen.
func distMoving(t *testing.T, vol string) (c *cluster.Cluster, w *distWorkload, bricks []string, ok bool) {
	t.Helper()
	c, bricks = distVolume(t, vol, 0, 1)
	mp := c.Mount(vol, 0)
	root := filepath.Join(mp, "data")
	must(t, os.Mkdir(root, 0o755))
	w = newDistWorkload(root)
	r := rand.New(rand.NewPCG(3, 3))
	for i := range 1500 {
		w.write(r, fmt.Sprintf("f-%05d", i))
	}
	nb := c.Brick(2, vol)
	expect(t, c.MustGluster(0, "volume", "add-brick", vol, nb, "force"), "volume add-brick: success")
	bricks = append(bricks, nb)
	expect(t, c.MustGluster(0, "volume", "rebalance", vol, "start"), "has been started successfully")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		rows := distStatus(c.MustGluster(0, "volume", "rebalance", vol, "status"))
		if files, _ := distTotal(rows); files > 0 {
			return c, w, bricks, rows[0].status == "in progress"
		}
		if time.Now().After(deadline) {
			t.Fatal("rebalance moved nothing")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDistributeRebalanceSurvivesBrickKill kills -9 a brick while a
// rebalance moves files, restarts it, and the rebalance completes with
// every file intact.
func TestDistributeRebalanceSurvivesBrickKill(t *testing.T) {
	c, w, bricks, ok := distMoving(t, "kv")
	if !ok {
		t.Skip("rebalance finished before the brick could be killed")
	}
	c.KillBrick("kv", bricks[0])
	expect(t, c.MustGluster(0, "volume", "start", "kv", "force"), "volume start: kv: success")
	rows := distWait(t, c, 3, "volume", "rebalance", "kv", "status")
	if files, failures := distTotal(rows); files == 0 || failures != 0 {
		t.Errorf("rebalance moved %d files with %d failures", files, failures)
	}
	w.check(t, "data", bricks, nil)
}

// TestDistributeRebalanceResumesAfterGlusterdRestart kills -9 the glusterd
// running a node's part of a rebalance and starts it again: the node
// resumes from its progress file and the rebalance completes.
func TestDistributeRebalanceResumesAfterGlusterdRestart(t *testing.T) {
	c, w, bricks, ok := distMoving(t, "rv")
	if !ok {
		t.Skip("rebalance finished before glusterd could be killed")
	}
	c.Restart(0)
	rows := distWait(t, c, 3, "volume", "rebalance", "rv", "status")
	if files, failures := distTotal(rows); files == 0 || failures != 0 {
		t.Errorf("rebalance moved %d files with %d failures", files, failures)
	}
	w.check(t, "data", bricks, nil)
}

// TestDistributeBrickDown stops (SIGSTOP: a hung server, which only
// network.ping-timeout detects) one brick of three: files on the others
// stay readable and writable, new files hashing to them are created, a
// mkdir succeeds, operations on the stopped brick's files fail with
// ENOTCONN instead of hanging, and once the brick runs again its files are
// back and the new directory's layout includes it.
func TestDistributeBrickDown(t *testing.T) {
	c, bricks := distVolume(t, "bd", 0, 1, 2)
	expect(t, c.MustGluster(0, "volume", "set", "bd", "network.ping-timeout", "3"), "volume set: success")
	mp := c.Mount("bd", 0)
	on := map[int][]string{}
	for i := range 60 {
		n := fmt.Sprintf("f%02d", i)
		must(t, os.WriteFile(filepath.Join(mp, n), []byte(n), 0o644))
		for b, br := range bricks {
			if _, err := os.Stat(filepath.Join(distBrickDir(br), n)); err == nil {
				on[b] = append(on[b], n)
			}
		}
	}
	pid, err := c.BrickPid("bd", bricks[2])
	must(t, err)
	must(t, unix.Kill(pid, unix.SIGSTOP))
	defer unix.Kill(pid, unix.SIGCONT)

	if _, err := os.ReadFile(filepath.Join(mp, on[2][0])); !errors.Is(err, unix.ENOTCONN) {
		t.Errorf("read of a file on the stopped brick: %v, want ENOTCONN", err)
	}
	for _, b := range []int{0, 1} {
		for _, n := range on[b] {
			if raw, err := os.ReadFile(filepath.Join(mp, n)); err != nil || string(raw) != n {
				t.Errorf("%s on up brick %d: %q, %v", n, b, raw, err)
			}
			must(t, os.WriteFile(filepath.Join(mp, n), []byte(n+"!"), 0o644))
		}
	}
	created := 0
	for i := range 30 {
		n := fmt.Sprintf("new%02d", i)
		if err := os.WriteFile(filepath.Join(mp, n), []byte(n), 0o644); err == nil {
			created++
		} else if !errors.Is(err, unix.ENOTCONN) {
			t.Errorf("create %s: %v", n, err)
		}
	}
	if created == 0 {
		t.Error("no new file could be created while one brick of three was down")
	}
	// The new directory's hashed brick must be up; try names until one is.
	var dir string
	for i := 0; dir == ""; i++ {
		n := fmt.Sprintf("dir%d", i)
		switch err := os.Mkdir(filepath.Join(mp, n), 0o755); {
		case err == nil:
			dir = n
		case !errors.Is(err, unix.ENOTCONN) || i > 50:
			t.Fatalf("mkdir %s: %v", n, err)
		}
	}

	must(t, unix.Kill(pid, unix.SIGCONT))
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, err := os.ReadFile(filepath.Join(mp, on[2][0]))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("file on the returned brick: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, n := range on[2] {
		if raw, err := os.ReadFile(filepath.Join(mp, n)); err != nil || string(raw) != n {
			t.Errorf("%s after the brick returned: %q, %v", n, raw, err)
		}
	}
	// The next lookup of the directory by name (once the kernel's entry
	// cache lets one through) heals it onto the returned brick.
	buf := make([]byte, 16)
	for {
		_, serr := os.Stat(filepath.Join(mp, dir))
		n, err := unix.Lgetxattr(filepath.Join(distBrickDir(bricks[2]), dir), "trusted.glusterfs.dht", buf)
		if serr == nil && err == nil && n == 16 && !bytes.Equal(buf[8:16], make([]byte, 8)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("layout of %s on the returned brick: %x, %v (stat: %v)", dir, buf[:max(n, 0)], err, serr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := os.ReadDir(filepath.Join(mp, dir)); err != nil {
		t.Fatal(err)
	}
}

// TestDistributeRemoveBrickKeepsLinktos renames files on a 3-brick volume
// so that linkto files exist, removes the first brick (start, commit) and
// checks that no linkto left on the other bricks names the client layer of
// a brick without its data (the remaining bricks keep their client names,
// as GlusterFS's brick_id; positional names shifted under the linktos),
// and that a fresh mount reads every file back.
func TestDistributeRemoveBrickKeepsLinktos(t *testing.T) {
	c, bricks := distVolume(t, "lk", 0, 1, 2)
	mp := c.Mount("lk", 0)
	must(t, os.Mkdir(filepath.Join(mp, "d"), 0o755))
	const n = 90
	for i := range n {
		p := filepath.Join(mp, "d", fmt.Sprintf("a-%03d", i))
		must(t, os.WriteFile(p, []byte(fmt.Sprintf("content %d", i)), 0o644))
		must(t, os.Rename(p, filepath.Join(mp, "d", fmt.Sprintf("b-%03d", i))))
	}
	if links := distLinktos(t, bricks); len(links) == 0 {
		t.Fatal("no rename left a linkto file")
	}
	gone := bricks[0]
	expect(t, c.MustGluster(0, "volume", "remove-brick", "lk", gone, "start"), "volume remove-brick start: success")
	distWait(t, c, 3, "volume", "remove-brick", "lk", gone, "status")
	expect(t, c.MustGluster(0, "volume", "remove-brick", "lk", gone, "status", "--xml"),
		"<volRemoveBrick>", "<nodeCount>3</nodeCount>", "<nodeName>localhost</nodeName>", "<statusStr>completed</statusStr>", "<aggregate>")
	expect(t, c.MustGluster(0, "volume", "remove-brick", "lk", gone, "commit"), "volume remove-brick commit: success")
	bricks = bricks[1:]

	f, err := c.Volfile(0, "lk")
	must(t, err)
	clients := map[string]string{} // client layer -> brick directory
	for _, v := range f.Volumes {
		if v.Type == "protocol/client" {
			clients[v.Name], _ = v.Option("remote-subvolume")
		}
	}
	for p, target := range distLinktos(t, bricks) {
		dir, ok := clients[target]
		if !ok {
			// Stale, as in GlusterFS: it named the removed brick,
			// whose file moved elsewhere; dht finds no such
			// subvolume and looks the name up everywhere.
			continue
		}
		st, err := os.Lstat(filepath.Join(dir, "d", filepath.Base(p)))
		if err != nil || st.Mode()&os.ModeSticky != 0 {
			t.Errorf("%s: linkto names %s (%s), which has no data file: %v", p, target, dir, err)
		}
	}
	// Each name's lookup must reach dht (not be answered from a listing
	// by lookup-ahead) for the repair checked below.
	c.MustGluster(0, "volume", "set", "lk", "performance.lookup-ahead", "off")
	fresh := c.Mount("lk", 1)
	for i := range n {
		name := fmt.Sprintf("b-%03d", i)
		got, err := os.ReadFile(filepath.Join(fresh, "d", name))
		if want := fmt.Sprintf("content %d", i); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q (%s)", name, got, err, want, distWhere("d", name, bricks))
		}
	}
	// Those lookups replaced the stale linktos on each name's hashed
	// brick by ones naming the brick with the data. A stale linkto on a
	// brick the name no longer hashes to is never looked at (GlusterFS
	// leaves those too).
	for p, target := range distLinktos(t, bricks) {
		dir, ok := clients[target]
		if !ok {
			if distHashesHere(t, filepath.Dir(p), filepath.Base(p)) {
				t.Errorf("%s: linkto on the hashed brick still names %s, which left the volume", p, target)
			}
			continue
		}
		if st, err := os.Lstat(filepath.Join(dir, "d", filepath.Base(p))); err != nil || st.Mode()&os.ModeSticky != 0 {
			t.Errorf("%s: linkto names %s (%s), which has no data file: %v", p, target, dir, err)
		}
	}
}

// TestDistributeLookupOptimize: lookup-optimize is on by default, as in
// GlusterFS; after add-brick and a rebalance every brick's range of a
// directory carries the rebalance's settled commit hash (odd, the same
// on all), so a name missing on its hashed brick is not looked for
// elsewhere, and every file still reads back through a fresh mount.
func TestDistributeLookupOptimize(t *testing.T) {
	c, bricks := distVolume(t, "lo", 0, 1)
	if out := c.MustGluster(0, "volume", "get", "lo", "cluster.lookup-optimize"); !regexp.MustCompile(`cluster\.lookup-optimize\s+on\b`).MatchString(out) {
		t.Errorf("volume get lo cluster.lookup-optimize:\n%s", out)
	}
	mp := c.Mount("lo", 0)
	must(t, os.Mkdir(filepath.Join(mp, "d"), 0o755))
	const n = 60
	for i := range n {
		must(t, os.WriteFile(filepath.Join(mp, "d", fmt.Sprintf("f-%03d", i)), []byte(fmt.Sprintf("content %d", i)), 0o644))
	}
	nb := c.Brick(2, "lo")
	expect(t, c.MustGluster(0, "volume", "add-brick", "lo", nb, "force"), "volume add-brick: success")
	bricks = append(bricks, nb)
	expect(t, c.MustGluster(0, "volume", "rebalance", "lo", "start"), "volume rebalance: lo: success")
	rows := distWait(t, c, 3, "volume", "rebalance", "lo", "status")
	if files, failures := distTotal(rows); files == 0 || failures != 0 {
		t.Errorf("rebalance moved %d files with %d failures", files, failures)
	}
	var commit uint32
	for i, b := range bricks {
		buf := make([]byte, 16)
		if _, err := unix.Lgetxattr(filepath.Join(distBrickDir(b), "d"), "trusted.glusterfs.dht", buf); err != nil {
			t.Fatalf("%s: layout: %v", b, err)
		}
		got := uint32(buf[0])<<24 | uint32(buf[1])<<16 | uint32(buf[2])<<8 | uint32(buf[3])
		if got&1 == 0 || i > 0 && got != commit {
			t.Errorf("%s: commit hash %#x, want the same odd (settled) one on every brick (first %#x)", b, got, commit)
		}
		commit = got
	}
	fresh := c.Mount("lo", 1)
	for i := range n {
		name := fmt.Sprintf("f-%03d", i)
		got, err := os.ReadFile(filepath.Join(fresh, "d", name))
		if want := fmt.Sprintf("content %d", i); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q (%s)", name, got, err, want, distWhere("d", name, bricks))
		}
	}
	if _, err := os.Stat(filepath.Join(fresh, "d", "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat of a missing name: %v", err)
	}
}

// distLinktos maps each linkto file under d/ on bricks to the subvolume
// its xattr names.
// distHashesHere reports whether name hashes into the range brick
// directory dir has in its layout.
func distHashesHere(t *testing.T, dir, name string) bool {
	t.Helper()
	buf := make([]byte, 64)
	n, err := unix.Lgetxattr(dir, dht.LayoutKey, buf)
	must(t, err)
	r, _, err := dht.DecodeRange(buf[:n])
	must(t, err)
	h := dht.HashName(name)
	return r.Set && r.Start <= h && h <= r.Stop
}

func distLinktos(t *testing.T, bricks []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, b := range bricks {
		ents, err := os.ReadDir(filepath.Join(distBrickDir(b), "d"))
		must(t, err)
		for _, e := range ents {
			p := filepath.Join(distBrickDir(b), "d", e.Name())
			buf := make([]byte, 256)
			if n, err := unix.Lgetxattr(p, "trusted.glusterfs.dht.linkto", buf); err == nil {
				out[p] = strings.TrimRight(string(buf[:n]), "\x00")
			}
		}
	}
	return out
}

// TestDistributeRemoveBrickMovesHardLinks removes a brick holding files
// with hard links (in one directory and across two): the migration moves
// them (nothing skipped, so a plain commit is allowed) and every name
// still reads the content, as one file.
func TestDistributeRemoveBrickMovesHardLinks(t *testing.T) {
	c, bricks := distVolume(t, "hl", 0, 1, 2)
	mp := c.Mount("hl", 0)
	for _, d := range []string{"a", "b"} {
		must(t, os.Mkdir(filepath.Join(mp, d), 0o755))
	}
	const n = 20
	for i := range n {
		p := filepath.Join(mp, "a", fmt.Sprintf("f%02d", i))
		must(t, os.WriteFile(p, []byte(fmt.Sprintf("data %d", i)), 0o644))
		must(t, os.Link(p, filepath.Join(mp, "a", fmt.Sprintf("g%02d", i))))
		must(t, os.Link(p, filepath.Join(mp, "b", fmt.Sprintf("h%02d", i))))
	}
	gone := bricks[0]
	expect(t, c.MustGluster(0, "volume", "remove-brick", "hl", gone, "start"), "volume remove-brick start: success")
	rows := distWait(t, c, 3, "volume", "remove-brick", "hl", gone, "status")
	expect(t, c.MustGluster(0, "volume", "remove-brick", "hl", gone, "commit"), "volume remove-brick commit: success")
	if files, failures := distTotal(rows); files == 0 || failures != 0 {
		t.Errorf("remove-brick moved %d files with %d failures", files, failures)
	}
	fresh := c.Mount("hl", 1)
	for i := range n {
		want := fmt.Sprintf("data %d", i)
		var ino uint64
		for k, name := range []string{"a/f%02d", "a/g%02d", "b/h%02d"} {
			p := filepath.Join(fresh, fmt.Sprintf(name, i))
			got, err := os.ReadFile(p)
			if err != nil || string(got) != want {
				t.Errorf("%s = %q, %v; want %q", p, got, err, want)
				continue
			}
			var st unix.Stat_t
			must(t, unix.Stat(p, &st))
			if st.Nlink != 3 || (k > 0 && st.Ino != ino) {
				t.Errorf("%s: inode %d with %d links, want inode %d with 3", p, st.Ino, st.Nlink, ino)
			}
			ino = st.Ino
		}
	}
}
