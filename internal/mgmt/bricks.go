package mgmt

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
)

// First brick port, as GlusterFS's portmapper hands them out.
const basePort = 49152

// How long a starting brick has to accept connections.
const brickStartTimeout = 30 * time.Second

// supervisor runs this node's bricks (one glusterfsd each), keeps the
// portmap and the local copy of volume configurations (WORKDIR/vols/VOL)
// that lets bricks restart while the pool has no quorum.
type supervisor struct {
	g   *Glusterd
	bin string

	startMu sync.Mutex // one brick start or stop at a time

	mu     sync.Mutex
	ports  map[string]int    // brick path -> port (the portmap)
	known  map[string]string // volume -> status this node acted on
	copies map[string][]byte // volume -> its local copy as written
}

func newSupervisor(g *Glusterd, bin string) *supervisor {
	return &supervisor{g: g, bin: bin, ports: map[string]int{}, known: map[string]string{}, copies: map[string][]byte{}}
}

func (s *supervisor) volDir(vol string) string { return filepath.Join(s.g.cfg.WorkDir, "vols", vol) }

// brickSlug is the brick path with slashes as dashes, as in GlusterFS's
// pid and volfile names ("/bricks/b1" -> "bricks-b1").
func brickSlug(path string) string {
	return strings.ReplaceAll(strings.Trim(path, "/"), "/", "-")
}

func (s *supervisor) pidFile(vol string, b store.Brick) string {
	return filepath.Join(s.g.cfg.RunDir, "vols", vol, b.Host+"-"+brickSlug(b.Path)+".pid")
}

func (s *supervisor) volfilePath(vol string, b store.Brick) string {
	return filepath.Join(s.volDir(vol), vol+"."+b.Host+"."+brickSlug(b.Path)+".vol")
}

func (s *supervisor) logFile(b store.Brick) string {
	return filepath.Join(s.g.cfg.LogDir, "bricks", brickSlug(b.Path)+".log")
}

func (s *supervisor) local(v *store.Volume) []store.Brick {
	var out []store.Brick
	for _, b := range v.Bricks {
		if b.PeerID == s.g.uuid {
			out = append(out, b)
		}
	}
	return out
}

// writeCopy stores v and its client volfile under WORKDIR/vols/VOL (brick
// volfiles are written when the bricks start).
func (s *supervisor) writeCopy(v *store.Volume) error {
	info, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode volume %s: %w", v.Name, err)
	}
	s.mu.Lock()
	same := bytes.Equal(s.copies[v.Name], info)
	s.mu.Unlock()
	if same {
		return nil
	}
	if cf, err := s.g.clientVolfile(v); err == nil {
		if err := writeFileAtomic(filepath.Join(s.volDir(v.Name), v.Name+".tcp-fuse.vol"), []byte(cf)); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(filepath.Join(s.volDir(v.Name), "info"), info); err != nil {
		return err
	}
	s.mu.Lock()
	s.copies[v.Name] = info
	s.mu.Unlock()
	return nil
}

// readCopies loads the local copies written by writeCopy.
func (s *supervisor) readCopies() map[string]*store.Volume {
	out := map[string]*store.Volume{}
	dirs, _ := os.ReadDir(filepath.Join(s.g.cfg.WorkDir, "vols"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(s.volDir(d.Name()), "info"))
		if err != nil {
			continue
		}
		var v store.Volume
		if err := json.Unmarshal(b, &v); err != nil {
			s.g.log.Warn("bad local volume copy", "volume", d.Name(), "err", err)
			continue
		}
		out[v.Name] = &v
	}
	return out
}

// restoreLocal starts (or adopts still running) bricks of the volumes the
// local copy says are started: bricks come back with glusterd even when
// the pool has no quorum yet.
func (s *supervisor) restoreLocal(ctx context.Context) {
	for name, v := range s.readCopies() {
		s.mu.Lock()
		s.known[name] = v.Status
		s.mu.Unlock()
		if v.Status != store.StatusStarted {
			continue
		}
		if err := s.startVolume(ctx, v, false); err != nil {
			s.g.log.Error("restart bricks", "volume", name, "err", err)
		}
	}
}

// reconcileLoop follows the store: volumes that became started get their
// local bricks, stopped or deleted ones lose them. It acts only on
// changes, so a brick killed by hand stays down until "start force".
func (s *supervisor) reconcileLoop(ctx context.Context) {
	s.g.follow(ctx, "bricks", 0, s.reconcile)
}

func (s *supervisor) reconcile(ctx context.Context, st *store.State) {
	for _, name := range st.VolumeNames() {
		v := st.Volumes[name]
		if err := s.writeCopy(v); err != nil {
			s.g.log.Error("write local volume copy", "volume", name, "err", err)
		}
		s.mu.Lock()
		prev := s.known[name]
		s.known[name] = v.Status
		s.mu.Unlock()
		switch {
		case v.Status == store.StatusStarted && prev != store.StatusStarted:
			go func() {
				if err := s.startVolume(ctx, v, true); err != nil {
					s.g.log.Error("start bricks", "volume", name, "err", err)
				}
			}()
		case v.Status != store.StatusStarted && prev == store.StatusStarted:
			s.stopVolume(v)
		case v.Status == store.StatusStarted:
			s.refresh(v)
		}
	}
	s.mu.Lock()
	var gone []string
	for name := range s.known {
		if _, ok := st.Volumes[name]; !ok {
			gone = append(gone, name)
			delete(s.known, name)
			delete(s.copies, name)
		}
	}
	s.mu.Unlock()
	for _, name := range gone {
		if v, ok := s.readCopies()[name]; ok {
			s.stopVolume(v)
		}
		if err := os.RemoveAll(s.volDir(name)); err != nil {
			s.g.log.Error("remove local volume copy", "volume", name, "err", err)
		}
		os.RemoveAll(filepath.Join(s.g.cfg.RunDir, "vols", name))
	}
}

// running returns the pid and port of a live brick process, from its pid
// file and command line (so bricks survive a glusterd restart).
func (s *supervisor) running(vol string, b store.Brick) (pid, port int, ok bool) {
	raw, err := os.ReadFile(s.pidFile(vol, b))
	if err != nil {
		return 0, 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 || syscall.Kill(pid, 0) != nil {
		return 0, 0, false
	}
	cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return 0, 0, false
	}
	args := strings.Split(string(cmd), "\x00")
	found := false
	for i, a := range args {
		if a == s.volfilePath(vol, b) {
			found = true
		}
		if a == "--brick-port" && i+1 < len(args) {
			port, _ = strconv.Atoi(args[i+1])
		} else if v, ok := strings.CutPrefix(a, "--brick-port="); ok {
			port, _ = strconv.Atoi(v)
		}
	}
	if !found || port == 0 || isZombie(pid) {
		return 0, 0, false
	}
	return pid, port, true
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z'
}

// startVolume starts every local brick of v that is not running and waits
// until each accepts connections. With ifStarted, a brick is started only
// while the store still says the volume is started (a follow-up of the
// store that must not race with a stop).
func (s *supervisor) startVolume(ctx context.Context, v *store.Volume, ifStarted bool) error {
	if err := s.writeCopy(v); err != nil {
		return err
	}
	var errs []error
	for _, b := range s.local(v) {
		if err := s.startBrick(ctx, v, b, ifStarted); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *supervisor) startBrick(ctx context.Context, v *store.Volume, b store.Brick, ifStarted bool) error {
	vol := v.Name
	s.startMu.Lock()
	defer s.startMu.Unlock()
	if cur := s.g.store.State().Volumes[vol]; ifStarted && (cur == nil || cur.Status != store.StatusStarted) {
		return nil
	}
	if _, port, ok := s.running(vol, b); ok {
		s.mu.Lock()
		s.ports[b.Path] = port
		s.mu.Unlock()
		return nil
	}
	vf, err := s.g.brickVolfile(v, b)
	if err != nil {
		return fmt.Errorf("start brick %s: %w", b.Name(), err)
	}
	if err := writeFileAtomic(s.volfilePath(v.Name, b), []byte(vf)); err != nil {
		return err
	}
	if _, err := os.Stat(s.bin); err != nil {
		return fmt.Errorf("start brick %s: glusterfsd not found: %w", b.Name(), err)
	}
	port, err := s.freePort()
	if err != nil {
		return fmt.Errorf("start brick %s: %w", b.Name(), err)
	}
	pidFile, logFile := s.pidFile(vol, b), s.logFile(b)
	for _, d := range []string{filepath.Dir(pidFile), filepath.Dir(logFile)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("start brick %s: %w", b.Name(), err)
		}
	}
	args := []string{"-f", s.volfilePath(vol, b), "--brick-port", strconv.Itoa(port),
		"-p", pidFile, "-l", logFile, "--brick-name", b.Path, "-N"}
	if a := s.g.cfg.Address; a != "" {
		args = append(args, "--listen-host", a)
	}
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start brick %s: %w", b.Name(), err)
	}
	defer out.Close()
	cmd := exec.Command(s.bin, args...)
	cmd.Args[0] = "glusterfsd"
	cmd.Stdout, cmd.Stderr = out, out
	// Own session: bricks outlive a glusterd restart, as in GlusterFS.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start brick %s: %w", b.Name(), err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := writeFileAtomic(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n")); err != nil {
		cmd.Process.Kill()
		return err
	}
	s.mu.Lock()
	s.ports[b.Path] = port
	s.mu.Unlock()
	s.g.log.Info("brick starting", "brick", b.Name(), "pid", cmd.Process.Pid, "port", port)
	if err := waitAccept(ctx, s.dialHost(), port, exited); err != nil {
		cmd.Process.Kill()
		s.mu.Lock()
		delete(s.ports, b.Path)
		s.mu.Unlock()
		return fmt.Errorf("brick %s did not come up (see %s): %w", b.Name(), logFile, err)
	}
	return nil
}

func (s *supervisor) dialHost() string {
	if a := s.g.cfg.Address; a != "" && a != "0.0.0.0" {
		return a
	}
	return "127.0.0.1"
}

// freePort returns the lowest port from 49152 that no brick of ours holds
// and nothing else listens on.
func (s *supervisor) freePort() (int, error) {
	s.mu.Lock()
	used := map[int]bool{}
	for _, p := range s.ports {
		used[p] = true
	}
	s.mu.Unlock()
	for p := basePort; p < 61000; p++ {
		if used[p] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(s.g.cfg.Address, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		ln.Close()
		return p, nil
	}
	return 0, errors.New("all brick ports are in use")
}

func waitAccept(ctx context.Context, host string, port int, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(ctx, brickStartTimeout)
	defer cancel()
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("no connection on %s: %w", addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// refresh brings running bricks to v's options: a changed brick volfile
// is rewritten and the brick told (SIGHUP) to apply it live.
func (s *supervisor) refresh(v *store.Volume) {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	for _, b := range s.local(v) {
		pid, _, ok := s.running(v.Name, b)
		if !ok {
			continue
		}
		vf, err := s.g.brickVolfile(v, b)
		if err != nil {
			s.g.log.Error("brick volfile", "brick", b.Name(), "err", err)
			continue
		}
		path := s.volfilePath(v.Name, b)
		if cur, err := os.ReadFile(path); err == nil && string(cur) == vf {
			continue
		}
		if err := writeFileAtomic(path, []byte(vf)); err != nil {
			s.g.log.Error("brick volfile", "brick", b.Name(), "err", err)
			continue
		}
		syscall.Kill(pid, syscall.SIGHUP)
		s.g.log.Info("brick reconfigured", "brick", b.Name(), "pid", pid)
	}
}

// stopVolume stops the local bricks of v.
func (s *supervisor) stopVolume(v *store.Volume) {
	for _, b := range s.local(v) {
		s.stopBrick(v.Name, b)
	}
}

func (s *supervisor) stopBrick(vol string, b store.Brick) {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	if pid, _, ok := s.running(vol, b); ok {
		syscall.Kill(pid, syscall.SIGTERM)
		deadline := time.Now().Add(5 * time.Second)
		for syscall.Kill(pid, 0) == nil && !isZombie(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if syscall.Kill(pid, 0) == nil && !isZombie(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		s.g.log.Info("brick stopped", "brick", b.Name(), "pid", pid)
	}
	os.Remove(s.pidFile(vol, b))
	s.mu.Lock()
	delete(s.ports, b.Path)
	s.mu.Unlock()
}

// portOf answers the portmapper.
func (s *supervisor) portOf(path string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.ports[filepath.Clean(path)]
	return p, ok
}

// portmap returns a copy of the brick ports.
func (s *supervisor) portmap() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.ports)
}

func (s *supervisor) signin(path string, port int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ports[filepath.Clean(path)] = port
}

// status reports the local bricks of v.
func (s *supervisor) status(v *store.Volume, detail bool) []api.BrickStatus {
	var out []api.BrickStatus
	for _, b := range s.local(v) {
		bs := api.BrickStatus{Host: b.Host, Path: b.Path, PeerID: b.PeerID, Pid: -1}
		if pid, port, ok := s.running(v.Name, b); ok {
			bs.Online, bs.Pid, bs.Port = true, pid, port
		}
		if detail {
			fillDetail(&bs)
		}
		out = append(out, bs)
	}
	if shd, ok := s.shdStatus(v); ok && !detail {
		out = append(out, shd)
	}
	return out
}

// shdStatus is this node's self-heal daemon line for v's status: replicated
// volumes with bricks here have one (it runs inside glusterd).
func (s *supervisor) shdStatus(v *store.Volume) (api.BrickStatus, bool) {
	if v.ReplicaCount <= 1 || len(s.local(v)) == 0 {
		return api.BrickStatus{}, false
	}
	bs := api.BrickStatus{Host: api.SelfHealDaemon, Path: s.g.hostname, PeerID: s.g.uuid, Pid: -1}
	if s.g.heals.healer(v) != nil {
		bs.Online, bs.Pid = true, os.Getpid()
	}
	return bs, true
}

// fillDetail adds what "volume status detail" shows about the brick's
// file system.
func fillDetail(bs *api.BrickStatus) {
	var sf syscall.Statfs_t
	if err := syscall.Statfs(bs.Path, &sf); err == nil {
		bs.BlockSize = uint64(sf.Bsize)
		bs.Free = sf.Bavail * uint64(sf.Bsize)
		bs.Total = sf.Blocks * uint64(sf.Bsize)
		bs.Inodes, bs.FreeInodes = sf.Files, sf.Ffree
	}
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return
	}
	defer f.Close()
	best := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 4 {
			continue
		}
		mnt := fs[1]
		if strings.HasPrefix(bs.Path+"/", strings.TrimSuffix(mnt, "/")+"/") && len(mnt) >= len(best) {
			best = mnt
			bs.Device, bs.FileSystem, bs.MountOptions = fs[0], fs[2], fs[3]
		}
	}
	bs.InodeSize = inodeSize(bs.Device, bs.FileSystem)
}
