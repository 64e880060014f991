package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// Store is what glusterd needs from the pool configuration.
type Store interface {
	// State returns a private copy of the latest local state.
	State() *State
	// Updated returns a channel closed at the next change of the state.
	Updated() <-chan struct{}
	// Apply commits c on the pool (forwarding to the leader if need be)
	// and returns once the local state includes it.
	Apply(ctx context.Context, c *Command) error
}

// MaxVoters is how many nodes vote; later peers hold non-voting replicas,
// so a large pool keeps a small quorum.
const MaxVoters = 3

// applyTimeout bounds a commit, leader election included: without quorum
// a change fails rather than hangs.
const applyTimeout = 15 * time.Second

// Forwarder sends a command to the leader (known by its raft address) and
// returns the raft index it was committed at.
type Forwarder func(ctx context.Context, leaderAddr string, c *Command) (uint64, error)

// Config configures a Raft store.
type Config struct {
	ID        string // this node's UUID
	Dir       string // where the raft log and snapshots live
	Bind      string // host:port the raft transport listens on
	Advertise string // host:port peers reach it at (defaults to Bind)
	Forward   Forwarder
	LogOutput io.Writer
}

// Raft is the Store replicated with hashicorp/raft.
type Raft struct {
	cfg Config
	fsm *fsm

	mu    sync.Mutex
	r     *raft.Raft
	trans *raft.NetworkTransport
	bolt  *raftboltdb.BoltStore
}

var _ Store = (*Raft)(nil)

// Open starts the store. A node with no raft state bootstraps a pool of
// its own when bootstrap is set and otherwise waits to be added to one.
func Open(cfg Config, bootstrap bool) (*Raft, error) {
	if cfg.Advertise == "" {
		cfg.Advertise = cfg.Bind
	}
	if cfg.LogOutput == nil {
		cfg.LogOutput = io.Discard
	}
	s := &Raft{cfg: cfg, fsm: newFSM(filepath.Join(cfg.Dir, "state.json"), cfg.LogOutput)}
	if err := s.start(bootstrap); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Raft) start(bootstrap bool) error {
	if err := os.MkdirAll(s.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("raft dir %s: %w", s.cfg.Dir, err)
	}
	adv, err := net.ResolveTCPAddr("tcp", s.cfg.Advertise)
	if err != nil {
		return fmt.Errorf("raft advertise %s: %w", s.cfg.Advertise, err)
	}
	trans, err := raft.NewTCPTransport(s.cfg.Bind, adv, 3, 10*time.Second, s.cfg.LogOutput)
	if err != nil {
		return fmt.Errorf("raft listen %s: %w", s.cfg.Bind, err)
	}
	bolt, err := raftboltdb.NewBoltStore(filepath.Join(s.cfg.Dir, "raft.db"))
	if err != nil {
		trans.Close()
		return fmt.Errorf("raft log %s: %w", s.cfg.Dir, err)
	}
	snaps, err := raft.NewFileSnapshotStore(s.cfg.Dir, 2, s.cfg.LogOutput)
	if err != nil {
		trans.Close()
		bolt.Close()
		return fmt.Errorf("raft snapshots %s: %w", s.cfg.Dir, err)
	}
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(s.cfg.ID)
	rc.LogOutput = s.cfg.LogOutput
	rc.LogLevel = "WARN"
	// Loopback pools on a busy machine: fast enough to fail over in a
	// couple of seconds, slow enough not to flap.
	rc.HeartbeatTimeout = time.Second
	rc.ElectionTimeout = time.Second
	rc.LeaderLeaseTimeout = 500 * time.Millisecond
	rc.CommitTimeout = 50 * time.Millisecond
	rc.SnapshotThreshold = 1024
	if bootstrap {
		has, err := raft.HasExistingState(bolt, bolt, snaps)
		if err != nil {
			trans.Close()
			bolt.Close()
			return fmt.Errorf("raft state %s: %w", s.cfg.Dir, err)
		}
		if !has {
			conf := raft.Configuration{Servers: []raft.Server{{ID: rc.LocalID, Address: trans.LocalAddr()}}}
			if err := raft.BootstrapCluster(rc, bolt, bolt, snaps, trans, conf); err != nil {
				trans.Close()
				bolt.Close()
				return fmt.Errorf("raft bootstrap: %w", err)
			}
		}
	}
	r, err := raft.NewRaft(rc, s.fsm, bolt, bolt, snaps, trans)
	if err != nil {
		trans.Close()
		bolt.Close()
		return fmt.Errorf("raft start: %w", err)
	}
	s.mu.Lock()
	s.r, s.trans, s.bolt = r, trans, bolt
	s.mu.Unlock()
	return nil
}

func (s *Raft) stop() error {
	s.mu.Lock()
	r, trans, bolt := s.r, s.trans, s.bolt
	s.r, s.trans, s.bolt = nil, nil, nil
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	err := r.Shutdown().Error()
	return errors.Join(err, trans.Close(), bolt.Close())
}

// Close stops the store; its state stays on disk.
func (s *Raft) Close() error { return s.stop() }

// Reset throws the local raft state away and starts empty: a node does
// this before joining another pool, and after being detached from one
// (then with bootstrap, to be a pool of its own again).
func (s *Raft) Reset(bootstrap bool) error {
	if err := s.stop(); err != nil {
		return fmt.Errorf("raft reset: %w", err)
	}
	if err := os.RemoveAll(s.cfg.Dir); err != nil {
		return fmt.Errorf("raft reset %s: %w", s.cfg.Dir, err)
	}
	s.fsm.reset()
	return s.start(bootstrap)
}

func (s *Raft) raft() (*raft.Raft, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.r == nil {
		return nil, errors.New("store is closed")
	}
	return s.r, nil
}

// State implements Store.
func (s *Raft) State() *State { return s.fsm.state() }

// Updated implements Store.
func (s *Raft) Updated() <-chan struct{} { return s.fsm.updated() }

// IsLeader reports whether this node leads the pool.
func (s *Raft) IsLeader() bool {
	r, err := s.raft()
	return err == nil && r.State() == raft.Leader
}

// Leader returns the leader's raft address and ID, waiting up to ctx for
// one to be elected.
func (s *Raft) Leader(ctx context.Context) (addr, id string, err error) {
	for {
		r, err := s.raft()
		if err != nil {
			return "", "", err
		}
		a, i := r.LeaderWithID()
		if a != "" {
			return string(a), string(i), nil
		}
		select {
		case <-ctx.Done():
			return "", "", fmt.Errorf("no leader in the pool (quorum lost?): %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Apply implements Store.
func (s *Raft) Apply(ctx context.Context, c *Command) error {
	ctx, cancel := context.WithTimeout(ctx, applyTimeout)
	defer cancel()
	if s.IsLeader() {
		_, err := s.ApplyLocal(ctx, c)
		return err
	}
	addr, _, err := s.Leader(ctx)
	if err != nil {
		return err
	}
	if s.IsLeader() { // we were just elected
		_, err := s.ApplyLocal(ctx, c)
		return err
	}
	idx, err := s.cfg.Forward(ctx, addr, c)
	if err != nil {
		return err
	}
	return s.fsm.waitIndex(ctx, idx)
}

// ApplyLocal commits c through this node, which must be the leader, and
// returns its raft index.
func (s *Raft) ApplyLocal(ctx context.Context, c *Command) (uint64, error) {
	r, err := s.raft()
	if err != nil {
		return 0, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return 0, fmt.Errorf("encode %s: %w", c.Op, err)
	}
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	f := r.Apply(b, timeout)
	if err := f.Error(); err != nil {
		return 0, fmt.Errorf("commit %s: %w", c.Op, err)
	}
	if err, ok := f.Response().(error); ok {
		return 0, err
	}
	return f.Index(), nil
}

// Servers returns the raft configuration: ID -> voter.
func (s *Raft) Servers() (map[string]bool, error) {
	r, err := s.raft()
	if err != nil {
		return nil, err
	}
	f := r.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, sv := range f.Configuration().Servers {
		out[string(sv.ID)] = sv.Suffrage == raft.Voter
	}
	return out, nil
}

// AddNode adds a node (leader only): a voter while the pool has fewer than
// MaxVoters, otherwise a non-voting replica.
func (s *Raft) AddNode(id, addr string) error {
	r, err := s.raft()
	if err != nil {
		return err
	}
	servers, err := s.Servers()
	if err != nil {
		return err
	}
	voters := 0
	for sid, v := range servers {
		if v && sid != id {
			voters++
		}
	}
	var f raft.IndexFuture
	if voters < MaxVoters {
		f = r.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, 30*time.Second)
	} else {
		f = r.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, 30*time.Second)
	}
	if err := f.Error(); err != nil {
		return fmt.Errorf("add %s (%s) to raft: %w", id, addr, err)
	}
	return nil
}

// RemoveNode removes a node from the raft configuration (leader only)
// and, if that leaves fewer than MaxVoters voters, promotes a non-voter.
func (s *Raft) RemoveNode(id string) error {
	r, err := s.raft()
	if err != nil {
		return err
	}
	if err := r.RemoveServer(raft.ServerID(id), 0, 30*time.Second).Error(); err != nil {
		return fmt.Errorf("remove %s from raft: %w", id, err)
	}
	f := r.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil // removed; promotion waits for the next change
	}
	voters := 0
	var spare *raft.Server
	for _, sv := range f.Configuration().Servers {
		if sv.Suffrage == raft.Voter {
			voters++
		} else if spare == nil {
			spare = &sv
		}
	}
	if voters < MaxVoters && spare != nil {
		if err := r.AddVoter(spare.ID, spare.Address, 0, 30*time.Second).Error(); err != nil {
			return fmt.Errorf("promote %s to voter: %w", spare.ID, err)
		}
	}
	return nil
}

// fsm is the replicated state machine. It also keeps the last state it
// applied in a file: raft replays committed log entries only once it hears
// from a leader, so a node restarting without quorum serves (and restarts
// bricks from) that saved state until the log catches up with it.
type fsm struct {
	mu    sync.Mutex
	st    *State
	ch    chan struct{} // closed and replaced on every change
	path  string
	saved *State    // loaded at start; dropped once st reaches it
	log   io.Writer // raft's log output
}

func newFSM(path string, log io.Writer) *fsm {
	f := &fsm{st: NewState(), ch: make(chan struct{}), path: path, log: log}
	if b, err := os.ReadFile(path); err == nil {
		st := NewState()
		if json.Unmarshal(b, st) == nil {
			if st.Volumes == nil {
				st.Volumes = map[string]*Volume{}
			}
			f.saved = st
		}
	}
	return f
}

// current is the state readers see; f.mu must be held.
func (f *fsm) current() *State {
	if f.saved != nil && f.saved.Index > f.st.Index {
		return f.saved
	}
	return f.st
}

func (f *fsm) state() *State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.current().Clone()
}

func (f *fsm) updated() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ch
}

// set replaces the state and saves it; f.mu must be held.
func (f *fsm) set(st *State) {
	f.st = st
	if f.saved != nil && st.Index >= f.saved.Index {
		f.saved = nil
	}
	if err := f.save(st); err != nil {
		// Only a restart without quorum would miss it.
		fmt.Fprintf(f.log, "[ERROR] store: %v\n", err)
	}
	close(f.ch)
	f.ch = make(chan struct{})
}

func (f *fsm) save(st *State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return os.Rename(tmp, f.path)
}

func (f *fsm) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.saved = nil
	f.set(NewState())
}

func (f *fsm) waitIndex(ctx context.Context, idx uint64) error {
	for {
		f.mu.Lock()
		done, ch := f.st.Index >= idx, f.ch
		f.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for index %d: %w", idx, ctx.Err())
		}
	}
}

// Apply implements raft.FSM: the command is applied to a copy, which
// replaces the state only if the command succeeds.
func (f *fsm) Apply(l *raft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := f.st.Clone()
	next.Index = l.Index
	var c Command
	var err error
	if l.Type == raft.LogCommand {
		if err = json.Unmarshal(l.Data, &c); err == nil {
			err = next.Apply(&c)
		}
	}
	if err != nil {
		st := f.st.Clone()
		st.Index = l.Index
		f.set(st)
		return err
	}
	f.set(next)
	return nil
}

// Snapshot implements raft.FSM.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	b, err := json.Marshal(f.state())
	if err != nil {
		return nil, err
	}
	return snapshot(b), nil
}

// Restore implements raft.FSM.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	st := NewState()
	if err := json.NewDecoder(rc).Decode(st); err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	if st.Volumes == nil {
		st.Volumes = map[string]*Volume{}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.set(st)
	return nil
}

type snapshot []byte

func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (snapshot) Release() {}

// ErrRestarted is what WaitCaughtUp returns when the store restarts
// under it: the node joined a pool (peer probe) or left one, and the log
// it was waiting for is gone.
var ErrRestarted = errors.New("store restarted (pool join or detach)")

// catchUpMax bounds WaitCaughtUp when the caller's context does not.
const catchUpMax = 30 * time.Second

// WaitCaughtUp returns once every log entry this node held when it
// started is applied, so that its state is no older than before a restart
// (it needs a leader, and so quorum, when the log has uncommitted tail).
// It gives up, with an error saying why, when the store restarts or after
// catchUpMax (or ctx's deadline): callers then work from the local state.
func (s *Raft) WaitCaughtUp(ctx context.Context) error {
	r, err := s.raft()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, catchUpMax)
	defer cancel()
	target := r.LastIndex()
	for r.AppliedIndex() < target {
		if cur, err := s.raft(); err != nil || cur != r {
			return fmt.Errorf("store: wait for the log held at start: %w", ErrRestarted)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: applied %d of the %d log entries held at start; no leader (pool without quorum?): %w",
				r.AppliedIndex(), target, ctx.Err())
		case <-s.fsm.updated():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// ReadIndex returns, on the leader, an index that covers every change
// committed so far: a follower that has applied up to it reads what the
// pool last wrote.
func (s *Raft) ReadIndex(ctx context.Context) (uint64, error) {
	r, err := s.raft()
	if err != nil {
		return 0, err
	}
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if err := r.Barrier(timeout).Error(); err != nil {
		return 0, fmt.Errorf("read index: %w", err)
	}
	return r.AppliedIndex(), nil
}

// WaitApplied returns once this node has applied the log up to idx.
func (s *Raft) WaitApplied(ctx context.Context, idx uint64) error {
	r, err := s.raft()
	if err != nil {
		return err
	}
	for r.AppliedIndex() < idx {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for index %d: %w", idx, ctx.Err())
		case <-s.fsm.updated():
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}
