package locks

import (
	"context"
	"errors"
	"runtime"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// below stands for storage/posix: it records what reaches it. Any other
// call panics (nil Next), which proves that locks never pass down.
type below struct {
	fop.Base
	flushes   int
	forgotten []string
	xattrop   fop.Dict
	created   fop.Dict // the xdata of the last create
	createErr error
	existing  fop.GFID // a create finds this file instead of making one
}

func (b *below) Xattrop(_ context.Context, _ *fop.Loc, _ fop.XattropOp, x fop.Dict) (fop.Dict, error) {
	b.xattrop = x
	return x, nil
}

// Create makes the object loc names, or finds the one called existing.
func (b *below) Create(_ context.Context, loc *fop.Loc, _, _, _ uint32, _ *fop.FD, x fop.Dict) (fop.Attr, fop.Attr, error) {
	b.created = x
	if b.createErr != nil {
		return fop.Attr{}, fop.Attr{}, b.createErr
	}
	if !b.existing.IsZero() {
		return fop.Attr{GFID: b.existing}, fop.Attr{}, nil
	}
	return fop.Attr{GFID: loc.GFID}, fop.Attr{}, nil
}

func (b *below) Flush(context.Context, *fop.FD) error { b.flushes++; return nil }
func (b *below) ForgetClient(c string)                { b.forgotten = append(b.forgotten, c) }

func newLocks() (*Locks, *below) {
	b := &below{}
	return NewLayer(b), b
}

func who(client string, owner uint64) context.Context {
	return fop.WithCaller(context.Background(), &fop.Caller{UID: 1000, Client: client, LkOwner: owner})
}

var (
	alice = who("c1", 1)
	bob   = who("c2", 1)
	carol = who("c2", 2) // same client as bob, another owner
)

func wr(start, n int64) *fop.Flock { return &fop.Flock{Type: syscall.F_WRLCK, Start: start, Len: n} }
func rd(start, n int64) *fop.Flock { return &fop.Flock{Type: syscall.F_RDLCK, Start: start, Len: n} }
func un(start, n int64) *fop.Flock { return &fop.Flock{Type: syscall.F_UNLCK, Start: start, Len: n} }

func errno(err error) syscall.Errno { return fop.Errno(err) }

// queued waits (without any time limit) until key has n blocked requests.
func queued(l *Locks, key tableKey, n int) {
	for {
		l.mu.Lock()
		t := l.tables[key]
		got := 0
		if t != nil {
			got = len(t.queue)
		}
		l.mu.Unlock()
		if got == n {
			return
		}
		runtime.Gosched()
	}
}

func TestPosixConflictSplitMerge(t *testing.T) {
	l, _ := newLocks()
	fd := fop.NewFD(fop.NewGFID(), 0)
	steps := []struct {
		ctx  context.Context
		cmd  int
		fl   *fop.Flock
		want syscall.Errno
		// for GetLk: the lock reported (Type F_UNLCK = none)
		got *fop.Flock
	}{
		{alice, fop.SetLk, wr(0, 100), 0, nil},
		{bob, fop.SetLk, rd(50, 10), syscall.EAGAIN, nil},
		{bob, fop.GetLk, rd(50, 10), 0, &fop.Flock{Type: syscall.F_WRLCK, Start: 0, Len: 100, Owner: 1, Client: "c1"}},
		{alice, fop.GetLk, wr(0, 1000), 0, &fop.Flock{Type: syscall.F_UNLCK}}, // own locks never conflict
		{alice, fop.SetLk, un(40, 20), 0, nil},                                // split: [0,40) and [60,100)
		{bob, fop.SetLk, rd(45, 10), 0, nil},
		{carol, fop.GetLk, wr(0, 0), 0, &fop.Flock{Type: syscall.F_WRLCK, Start: 0, Len: 40, Owner: 1, Client: "c1"}},
		{carol, fop.GetLk, wr(60, 1), 0, &fop.Flock{Type: syscall.F_WRLCK, Start: 60, Len: 40, Owner: 1, Client: "c1"}},
		{carol, fop.SetLk, rd(50, 1), 0, nil}, // readers share
		{carol, fop.SetLk, wr(50, 1), syscall.EAGAIN, nil},
		{alice, fop.SetLk, wr(100, 0), 0, nil}, // merges with [60,100) to the end
		{bob, fop.GetLk, rd(1<<40, 1), 0, &fop.Flock{Type: syscall.F_WRLCK, Start: 60, Len: 0, Owner: 1, Client: "c1"}},
		{alice, fop.SetLk, rd(70, 10), 0, nil}, // downgrade a part
		{bob, fop.SetLk, rd(75, 1), 0, nil},
		{bob, fop.SetLk, rd(80, 1), syscall.EAGAIN, nil},
		{alice, fop.SetLk, &fop.Flock{Type: syscall.F_WRLCK, Start: 10, Len: -11}, syscall.EINVAL, nil},
	}
	for i, s := range steps {
		got, err := l.Lk(s.ctx, fd, s.cmd, s.fl)
		if errno(err) != s.want {
			t.Fatalf("step %d: %v, want %v", i, err, s.want)
		}
		if s.got != nil {
			if s.got.Type == syscall.F_UNLCK {
				if got.Type != syscall.F_UNLCK {
					t.Fatalf("step %d: conflict %+v reported", i, got)
				}
			} else if got != *s.got {
				t.Fatalf("step %d: getlk %+v, want %+v", i, got, *s.got)
			}
		}
	}
}

func TestBlockingGrantAndCancel(t *testing.T) {
	l, _ := newLocks()
	fd := fop.NewFD(fop.NewGFID(), 0)
	key := tableKey{g: fd.GFID, kind: posixKind}
	if _, err := l.Lk(alice, fd, fop.SetLk, wr(0, 10)); err != nil {
		t.Fatal(err)
	}
	granted := make(chan error, 1)
	go func() { _, err := l.Lk(bob, fd, fop.SetLkW, wr(5, 10)); granted <- err }()
	queued(l, key, 1)
	ctx, cancel := context.WithCancel(carol)
	cancelled := make(chan error, 1)
	go func() { _, err := l.Lk(ctx, fd, fop.SetLkW, rd(0, 1)); cancelled <- err }()
	queued(l, key, 2)
	cancel()
	if err := <-cancelled; errno(err) != syscall.EINTR || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	queued(l, key, 1)
	select {
	case err := <-granted:
		t.Fatalf("granted while held: %v", err)
	default:
	}
	if _, err := l.Lk(alice, fd, fop.SetLk, un(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := <-granted; err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lk(alice, fd, fop.SetLk, rd(7, 1)); errno(err) != syscall.EAGAIN {
		t.Fatalf("waiter's lock not held: %v", err)
	}
}

func TestForgetClient(t *testing.T) {
	l, b := newLocks()
	fd := fop.NewFD(fop.NewGFID(), 0)
	dir := &fop.Loc{GFID: fop.NewGFID()}
	l.Lk(alice, fd, fop.SetLk, wr(0, 0))
	l.Inodelk(alice, "afr", &fop.Loc{GFID: fd.GFID}, fop.SetLk, wr(0, 0))
	l.Entrylk(alice, "afr", dir, "x", fop.EntryLock, fop.EntryWrLck)
	done := make(chan error, 3)
	go func() { _, err := l.Lk(bob, fd, fop.SetLkW, wr(0, 1)); done <- err }()
	go func() { done <- l.Inodelk(bob, "afr", &fop.Loc{GFID: fd.GFID}, fop.SetLkW, wr(0, 0)) }()
	go func() { done <- l.Entrylk(bob, "afr", dir, "", fop.EntryLock, fop.EntryRdLck) }()
	queued(l, tableKey{g: fd.GFID, kind: posixKind}, 1)
	queued(l, tableKey{g: fd.GFID, kind: inodeKind, domain: "afr"}, 1)
	queued(l, tableKey{g: dir.GFID, kind: entryKind, domain: "afr"}, 1)
	l.ForgetClient("c1")
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if len(b.forgotten) != 1 || b.forgotten[0] != "c1" {
		t.Fatalf("ForgetClient not passed down: %v", b.forgotten)
	}
	// A forgotten client's pending requests fail.
	pending := make(chan error, 1)
	go func() { _, err := l.Lk(alice, fd, fop.SetLkW, rd(0, 1)); pending <- err }()
	queued(l, tableKey{g: fd.GFID, kind: posixKind}, 1)
	l.ForgetClient("c1")
	if err := <-pending; errno(err) != syscall.ENOTCONN {
		t.Fatalf("pending request of a gone client: %v", err)
	}
	// Everything bob held goes with c2; no table is left behind.
	l.ForgetClient("c2")
	if len(l.tables) != 0 {
		t.Fatalf("tables left: %v", l.tables)
	}
}

func TestFlushReleasesOwnersLocks(t *testing.T) {
	l, b := newLocks()
	fd := fop.NewFD(fop.NewGFID(), 0)
	l.Lk(alice, fd, fop.SetLk, wr(0, 10))
	l.Lk(bob, fd, fop.SetLk, wr(20, 10))
	if err := l.Flush(bob, fd); err != nil || b.flushes != 1 {
		t.Fatalf("flush: %v %d", err, b.flushes)
	}
	if _, err := l.Lk(carol, fd, fop.SetLk, wr(0, 1)); errno(err) != syscall.EAGAIN {
		t.Fatalf("another owner's flush released alice's lock: %v", err)
	}
	if _, err := l.Lk(carol, fd, fop.SetLk, wr(20, 1)); err != nil {
		t.Fatalf("bob's lock survived his flush: %v", err)
	}
}

func TestInodelkNestsAndDomains(t *testing.T) {
	l, _ := newLocks()
	loc := &fop.Loc{GFID: fop.NewGFID()}
	if err := l.Inodelk(alice, "d1", loc, fop.SetLk, wr(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := l.Inodelk(alice, "d1", loc, fop.SetLk, wr(0, 100)); err != nil {
		t.Fatal(err)
	}
	// Releasing the inner lock keeps the outer one.
	if err := l.Inodelk(alice, "d1", loc, fop.SetLk, un(0, 100)); err != nil {
		t.Fatal(err)
	}
	if err := l.Inodelk(bob, "d1", loc, fop.SetLk, rd(500, 1)); errno(err) != syscall.EAGAIN {
		t.Fatalf("outer lock lost: %v", err)
	}
	if err := l.Inodelk(bob, "d2", loc, fop.SetLk, wr(0, 0)); err != nil {
		t.Fatalf("domains are independent: %v", err)
	}
	if err := l.Inodelk(bob, "d1", loc, fop.SetLk, un(0, 0)); errno(err) != syscall.EINVAL {
		t.Fatalf("unlock of a lock not held: %v", err)
	}
	fd := fop.NewFD(loc.GFID, 0)
	if err := l.Finodelk(alice, "d1", fd, fop.SetLk, un(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := l.Finodelk(bob, "d1", fd, fop.SetLk, wr(0, 0)); err != nil {
		t.Fatal(err)
	}
}

func TestEntrylk(t *testing.T) {
	l, _ := newLocks()
	dir := &fop.Loc{GFID: fop.NewGFID()}
	steps := []struct {
		ctx  context.Context
		name string
		cmd  fop.EntrylkCmd
		typ  fop.EntrylkType
		want syscall.Errno
	}{
		{alice, "x", fop.EntryLockNB, fop.EntryWrLck, 0},
		{bob, "x", fop.EntryLockNB, fop.EntryWrLck, syscall.EAGAIN},
		{bob, "x", fop.EntryLockNB, fop.EntryRdLck, syscall.EAGAIN},
		{bob, "y", fop.EntryLockNB, fop.EntryWrLck, 0},
		{carol, "", fop.EntryLockNB, fop.EntryRdLck, syscall.EAGAIN}, // whole dir vs a write-locked name
		{bob, "y", fop.EntryUnlock, fop.EntryWrLck, 0},
		{bob, "y", fop.EntryUnlock, fop.EntryWrLck, syscall.EINVAL},
		{alice, "x", fop.EntryUnlock, fop.EntryWrLck, 0},
		{carol, "", fop.EntryLockNB, fop.EntryRdLck, 0},
		{bob, "z", fop.EntryLockNB, fop.EntryRdLck, 0}, // readers share
		{bob, "z", fop.EntryLockNB, fop.EntryWrLck, syscall.EAGAIN},
	}
	for i, s := range steps {
		if err := l.Entrylk(s.ctx, "dom", dir, s.name, s.cmd, s.typ); errno(err) != s.want {
			t.Fatalf("step %d: %v, want %v", i, err, s.want)
		}
	}
	// A blocking whole-directory write lock waits for every name.
	got := make(chan error, 1)
	go func() { got <- l.Fentrylk(alice, "dom", fop.NewFD(dir.GFID, 0), "", fop.EntryLock, fop.EntryWrLck) }()
	queued(l, tableKey{g: dir.GFID, kind: entryKind, domain: "dom"}, 1)
	l.Entrylk(carol, "dom", dir, "", fop.EntryUnlock, fop.EntryRdLck)
	select {
	case err := <-got:
		t.Fatalf("granted while bob holds z: %v", err)
	default:
	}
	l.Entrylk(bob, "dom", dir, "z", fop.EntryUnlock, fop.EntryRdLck)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

func TestDeadlock(t *testing.T) {
	l, _ := newLocks()
	f1, f2 := fop.NewFD(fop.NewGFID(), 0), fop.NewFD(fop.NewGFID(), 0)
	l.Lk(alice, f1, fop.SetLk, wr(0, 1))
	l.Lk(bob, f2, fop.SetLk, wr(0, 1))
	blocked := make(chan error, 1)
	go func() { _, err := l.Lk(alice, f2, fop.SetLkW, wr(0, 1)); blocked <- err }()
	queued(l, tableKey{g: f2.GFID, kind: posixKind}, 1)
	// bob waiting for alice's f1 would close the cycle.
	if _, err := l.Lk(bob, f1, fop.SetLkW, wr(0, 1)); errno(err) != syscall.EDEADLK {
		t.Fatalf("cycle across two files: %v", err)
	}
	// Two readers upgrading the same range: the second one is refused.
	f3 := fop.NewFD(fop.NewGFID(), 0)
	l.Lk(carol, f3, fop.SetLk, rd(0, 10))
	l.Lk(bob, f3, fop.SetLk, rd(0, 10))
	up := make(chan error, 1)
	go func() { _, err := l.Lk(carol, f3, fop.SetLkW, wr(0, 10)); up <- err }()
	queued(l, tableKey{g: f3.GFID, kind: posixKind}, 1)
	if _, err := l.Lk(bob, f3, fop.SetLkW, wr(0, 10)); errno(err) != syscall.EDEADLK {
		t.Fatalf("upgrade deadlock: %v", err)
	}
	// bob gives up his locks: both waiters get theirs.
	l.Lk(bob, f2, fop.SetLk, un(0, 0))
	l.Lk(bob, f3, fop.SetLk, un(0, 0))
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	if err := <-up; err != nil {
		t.Fatal(err)
	}
}

// An xattrop carrying ReleaseKey applies the update without the key and
// then drops the caller's lock it names; one carrying LockKey takes the
// lock first, or fails.
func TestXattropTakesAndReleasesLock(t *testing.T) {
	for _, tc := range []struct {
		name    string
		release []byte
		take    func(l *Locks, ctx context.Context, loc *fop.Loc) error
	}{
		{"inode", ReleaseInode("d"), func(l *Locks, ctx context.Context, loc *fop.Loc) error {
			return l.Inodelk(ctx, "d", loc, fop.SetLk, &fop.Flock{Type: syscall.F_WRLCK})
		}},
		{"entry", ReleaseEntries("d"), func(l *Locks, ctx context.Context, loc *fop.Loc) error {
			return l.Entrylk(ctx, "d", loc, "", fop.EntryLockNB, fop.EntryWrLck)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, bl := newLocks()
			loc := &fop.Loc{GFID: fop.NewGFID()}
			a, b := alice, carol
			if err := tc.take(l, a, loc); err != nil {
				t.Fatal(err)
			}
			if err := tc.take(l, b, loc); !errors.Is(err, syscall.EAGAIN) {
				t.Fatalf("second owner: %v, want EAGAIN", err)
			}
			if _, err := l.Xattrop(a, loc, fop.XattropAddArray32, fop.Dict{"trusted.x": make([]byte, 12), ReleaseKey: tc.release}); err != nil {
				t.Fatal(err)
			}
			if _, ok := bl.xattrop[ReleaseKey]; ok || len(bl.xattrop) != 1 {
				t.Fatalf("the layer below got %v", bl.xattrop)
			}
			if err := tc.take(l, b, loc); err != nil {
				t.Fatalf("second owner after the release: %v", err)
			}
			// LockKey: refused while the second owner holds the lock,
			// granted (before the update) once it is free.
			bl.xattrop = nil
			if _, err := l.Xattrop(a, loc, fop.XattropAddArray32, fop.Dict{"trusted.x": make([]byte, 12), LockKey: tc.release}); !errors.Is(err, syscall.EAGAIN) || bl.xattrop != nil {
				t.Fatalf("xattrop with a held lock: %v, update %v; want EAGAIN and none", err, bl.xattrop)
			}
			if _, err := l.Xattrop(b, loc, fop.XattropAddArray32, fop.Dict{"trusted.x": make([]byte, 12), ReleaseKey: tc.release}); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Xattrop(a, loc, fop.XattropAddArray32, fop.Dict{"trusted.x": make([]byte, 12), LockKey: tc.release}); err != nil {
				t.Fatal(err)
			}
			if _, ok := bl.xattrop[LockKey]; ok || len(bl.xattrop) != 1 {
				t.Fatalf("the layer below got %v", bl.xattrop)
			}
			if err := tc.take(l, b, loc); !errors.Is(err, syscall.EAGAIN) {
				t.Fatalf("second owner after LockKey: %v, want EAGAIN", err)
			}
		})
	}
}

// A create with LockKey leaves the new file locked for the caller; one
// that fails or finds another file leaves nothing locked; one whose GFID
// someone else locked creates nothing.
func TestCreateTakesLock(t *testing.T) {
	l, bl := newLocks()
	lockOf := func(ctx context.Context, g fop.GFID) error {
		return l.Inodelk(ctx, "d", &fop.Loc{GFID: g}, fop.SetLk, &fop.Flock{Type: syscall.F_WRLCK})
	}
	x := fop.Dict{"trusted.x": []byte{1}, LockKey: ReleaseInode("d")}
	create := func(g fop.GFID) error {
		_, _, err := l.Create(alice, &fop.Loc{Parent: fop.RootGFID, Name: "f", GFID: g}, syscall.O_CREAT, 0o644, 0, fop.NewFD(g, 0), x)
		return err
	}

	g := fop.NewGFID()
	if err := create(g); err != nil {
		t.Fatal(err)
	}
	if _, ok := bl.created[LockKey]; ok || len(bl.created) != 1 {
		t.Fatalf("the layer below got %v", bl.created)
	}
	if err := lockOf(carol, g); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("another owner locking the new file: %v, want EAGAIN", err)
	}
	if _, err := l.Xattrop(alice, &fop.Loc{GFID: g}, fop.XattropAddArray32, fop.Dict{ReleaseKey: ReleaseInode("d")}); err != nil {
		t.Fatal(err)
	}
	if err := lockOf(carol, g); err != nil {
		t.Fatalf("another owner after the release: %v", err)
	}

	// carol holds the lock of a GFID alice is about to create.
	bl.created = nil
	if err := create(g); !errors.Is(err, syscall.EAGAIN) || bl.created != nil {
		t.Fatalf("create of a locked GFID: %v, reached posix: %v; want EAGAIN, no", err, bl.created != nil)
	}

	for _, tc := range []struct {
		name     string
		err      error
		existing fop.GFID
	}{{"failed", syscall.EEXIST, fop.GFID{}}, {"existing", nil, fop.NewGFID()}} {
		bl.createErr, bl.existing = tc.err, tc.existing
		g := fop.NewGFID()
		if err := create(g); !errors.Is(err, tc.err) {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := lockOf(carol, g); err != nil {
			t.Errorf("%s create left the lock held: %v", tc.name, err)
		}
	}
	if _, _, err := l.Create(alice, &fop.Loc{Parent: fop.RootGFID, Name: "f"}, 0, 0, 0, nil, x); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("create with LockKey and no GFID: %v, want EINVAL", err)
	}
}
