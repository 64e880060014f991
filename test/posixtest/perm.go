package posixtest

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// publicDir makes a world-writable directory for tests where several
// identities create entries.
func publicDir(t *testing.T, dir, name string, mode uint32) string {
	t.Helper()
	d := filepath.Join(dir, name)
	must(t, os.Mkdir(d, 0o700))
	must(t, unix.Chmod(d, mode))
	return d
}

// ownedFile creates path with data, owned by a, with mode.
func ownedFile(t *testing.T, a actor, path, data string, mode uint32) {
	t.Helper()
	writeFile(t, path, data, 0o600)
	a.give(t, path)
	must(t, unix.Chmod(path, mode))
}

// AccessDenied checks that mode bits are enforced for a non-root user,
// including its own files, and bypassed by root.
func AccessDenied(t *testing.T, dir string) {
	u := user()
	pub := publicDir(t, dir, "pub", 0o777)
	f := filepath.Join(pub, "f")
	ownedFile(t, u, f, "x", 0o600)
	wantErrno(t, "owner reads 0600", u.do(t, "read", f), 0)
	must(t, unix.Chmod(f, 0o000))
	wantErrno(t, "owner reads 0000", u.do(t, "read", f), unix.EACCES)
	wantErrno(t, "owner access(R_OK) 0000", u.do(t, "access", f, "4"), unix.EACCES)
	wantErrno(t, "owner access(F_OK) 0000", u.do(t, "access", f, "0"), 0)
	wantErrno(t, "owner writes 0000", u.do(t, "write", f, "y"), unix.EACCES)
	must(t, unix.Chmod(f, 0o400))
	wantErrno(t, "owner writes 0400", u.do(t, "write", f, "y"), unix.EACCES)
	wantErrno(t, "owner access(R_OK) 0400", u.do(t, "access", f, "4"), 0)
	wantErrno(t, "owner access(W_OK) 0400", u.do(t, "access", f, "2"), unix.EACCES)
	wantErrno(t, "owner access(X_OK) 0400", u.do(t, "access", f, "1"), unix.EACCES)
	if os.Geteuid() == 0 {
		wantErrno(t, "root reads 0000", self().do(t, "read", f), 0)
	}

	d := filepath.Join(pub, "d")
	must(t, os.Mkdir(d, 0o755))
	must(t, os.WriteFile(filepath.Join(d, "inner"), []byte("x"), 0o644))
	u.give(t, d)
	must(t, unix.Chmod(d, 0o555))
	wantErrno(t, "create in 0555 dir", u.do(t, "create", filepath.Join(d, "new"), "644"), unix.EACCES)
	wantErrno(t, "unlink in 0555 dir", u.do(t, "unlink", filepath.Join(d, "inner")), unix.EACCES)
	must(t, unix.Chmod(d, 0o644))
	// The path is in the kernel's dentry cache by now: a FUSE file system
	// gets this right only when mounted with default_permissions, as the
	// kernel then checks search permission itself.
	wantErrno(t, "read through 0644 dir (cached path)", u.do(t, "read", filepath.Join(d, "inner")), unix.EACCES)
	must(t, unix.Chmod(d, 0o755))

	withOtherUser(t, func(t *testing.T, o actor) {
		must(t, unix.Chmod(f, 0o640))
		wantErrno(t, "other user reads 0640", o.do(t, "read", f), unix.EACCES)
		must(t, unix.Chmod(f, 0o644))
		wantErrno(t, "other user reads 0644", o.do(t, "read", f), 0)
		wantErrno(t, "other user writes 0644", o.do(t, "write", f, "y"), unix.EACCES)
		wantErrno(t, "other user creates in 0755 dir", o.do(t, "create", filepath.Join(d, "o"), "644"), unix.EACCES)
	})
}

// ChmodRules checks that only the owner and root may chmod.
func ChmodRules(t *testing.T, dir string) {
	u := user()
	pub := publicDir(t, dir, "pub", 0o777)
	f := filepath.Join(pub, "f")
	ownedFile(t, u, f, "x", 0o644)
	wantErrno(t, "owner chmod", u.do(t, "chmod", f, "600"), 0)
	wantMode(t, f, 0o600)
	wantErrno(t, "chmod missing", u.do(t, "chmod", filepath.Join(pub, "no"), "600"), unix.ENOENT)

	withOtherUser(t, func(t *testing.T, o actor) {
		wantErrno(t, "non-owner chmod", o.do(t, "chmod", f, "666"), unix.EPERM)
		wantMode(t, f, 0o600)
		wantErrno(t, "root chmod of another's file", self().do(t, "chmod", f, "640"), 0)
		wantMode(t, f, 0o640)
	})
}

// ChownRules checks that only root changes owners and that an owner may
// change the group only to one it belongs to.
func ChownRules(t *testing.T, dir string) {
	u := user()
	pub := publicDir(t, dir, "pub", 0o777)
	f := filepath.Join(pub, "f")
	ownedFile(t, u, f, "x", 0o644)
	member, nonMember := u.memberGroup(t), u.nonMemberGroup(t)

	wantErrno(t, "owner chown to another uid", u.do(t, "chown", f, itoa(u.uid+1), "-1"), unix.EPERM)
	wantErrno(t, "owner chown to own uid", u.do(t, "chown", f, itoa(u.uid), "-1"), 0)
	wantErrno(t, "owner chgrp to a member group", u.do(t, "chown", f, "-1", itoa(member)), 0)
	if st := lstat(t, f); int(st.Gid) != member {
		t.Errorf("gid after chgrp = %d, want %d", st.Gid, member)
	}
	wantErrno(t, "owner chgrp to a non-member group", u.do(t, "chown", f, "-1", itoa(nonMember)), unix.EPERM)

	if os.Geteuid() != 0 {
		return
	}
	wantErrno(t, "root chown", unix.Lchown(f, 12345, 23456), 0)
	if st := lstat(t, f); st.Uid != 12345 || st.Gid != 23456 {
		t.Errorf("owner after root chown = %d:%d, want 12345:23456", st.Uid, st.Gid)
	}
	wantErrno(t, "former owner chgrp", u.do(t, "chown", f, "-1", itoa(member)), unix.EPERM)
	l := filepath.Join(pub, "l")
	must(t, os.Symlink("f", l))
	wantErrno(t, "root lchown symlink", unix.Lchown(l, 4242, 4343), 0)
	if st := lstat(t, l); st.Uid != 4242 || st.Gid != 4343 {
		t.Errorf("symlink owner after lchown = %d:%d, want 4242:4343", st.Uid, st.Gid)
	}
	if st := lstat(t, f); st.Uid != 12345 {
		t.Errorf("lchown of a symlink changed its target to uid %d", st.Uid)
	}
}

// SetgidClearedOnChmod checks that a non-root owner who is not in the file's
// group silently loses the setgid bit on chmod.
func SetgidClearedOnChmod(t *testing.T, dir string) {
	u := user()
	pub := publicDir(t, dir, "pub", 0o777)
	f := filepath.Join(pub, "f")
	ownedFile(t, u, f, "x", 0o755)
	wantErrno(t, "owner sets setgid with own group", u.do(t, "chmod", f, "2755"), 0)
	wantMode(t, f, 0o2755)
	t.Run("NonMember", func(t *testing.T) {
		if u.cred == nil {
			t.Skip("needs root to give a file a group its owner is not in")
		}
		must(t, unix.Lchown(f, -1, u.nonMemberGroup(t)))
		must(t, unix.Chmod(f, 0o755))
		wantErrno(t, "non-member owner sets setgid", u.do(t, "chmod", f, "2755"), 0)
		wantMode(t, f, 0o755)
	})
}

// SuidClearedOnWrite checks that a write by a non-root user clears the
// set-user-ID and (group-executable) set-group-ID bits, and root's does not.
func SuidClearedOnWrite(t *testing.T, dir string) {
	u := user()
	pub := publicDir(t, dir, "pub", 0o777)
	f := filepath.Join(pub, "f")
	ownedFile(t, u, f, "x", 0o6755)
	wantMode(t, f, 0o6755)
	wantErrno(t, "owner writes", u.do(t, "write", f, "y"), 0)
	wantMode(t, f, 0o755)
	if os.Geteuid() != 0 {
		return
	}
	must(t, unix.Chmod(f, 0o6755))
	wantErrno(t, "root writes", self().do(t, "write", f, "z"), 0)
	wantMode(t, f, 0o6755)
}

// SuidClearedOnChown checks that a non-root chgrp clears set-user-ID and
// set-group-ID.
func SuidClearedOnChown(t *testing.T, dir string) {
	u := user()
	pub := publicDir(t, dir, "pub", 0o777)
	f := filepath.Join(pub, "f")
	ownedFile(t, u, f, "x", 0o6755)
	wantErrno(t, "owner chgrp", u.do(t, "chown", f, "-1", itoa(u.memberGroup(t))), 0)
	wantMode(t, f, 0o755)
}

// SetgidDirectory checks that entries in a setgid directory take its group
// and that new subdirectories inherit the bit.
func SetgidDirectory(t *testing.T, dir string) {
	u := user()
	group := u.memberGroup(t)
	d := publicDir(t, dir, "sgid", 0o777)
	must(t, os.Lchown(d, -1, group))
	must(t, unix.Chmod(d, 0o2777))
	wantMode(t, d, 0o2777)

	f := filepath.Join(d, "f")
	wantErrno(t, "create in setgid dir", u.do(t, "create", f, "644"), 0)
	sub := filepath.Join(d, "sub")
	wantErrno(t, "mkdir in setgid dir", u.do(t, "mkdir", sub, "755"), 0)
	if st := lstat(t, f); int(st.Gid) != group || int(st.Uid) != u.uid {
		t.Errorf("file in setgid dir owned by %d:%d, want %d:%d", st.Uid, st.Gid, u.uid, group)
	}
	st := lstat(t, sub)
	if int(st.Gid) != group || st.Mode&unix.S_ISGID == 0 {
		t.Errorf("subdir of setgid dir: gid %d mode %#o, want gid %d with setgid", st.Gid, st.Mode, group)
	}
	if os.Geteuid() == 0 {
		// Root, not a member, gets the directory's group too.
		rf := filepath.Join(d, "rootfile")
		must(t, os.WriteFile(rf, nil, 0o644))
		if st := lstat(t, rf); int(st.Gid) != group {
			t.Errorf("root's file in setgid dir has gid %d, want %d", st.Gid, group)
		}
	}
}

// StickyDirectory checks that in a sticky directory only the owner of an
// entry, the directory's owner and root may remove or rename it.
func StickyDirectory(t *testing.T, dir string) {
	u, o := user(), otherUser(t)
	d := publicDir(t, dir, "sticky", 0o1777)
	a, b := filepath.Join(d, "a"), filepath.Join(d, "b")
	wantErrno(t, "user creates", u.do(t, "create", a, "666"), 0)
	wantErrno(t, "other creates", o.do(t, "create", b, "666"), 0)

	wantErrno(t, "other unlinks user's file", o.do(t, "unlink", a), unix.EPERM)
	wantErrno(t, "other renames user's file", o.do(t, "rename", a, filepath.Join(d, "c")), unix.EPERM)
	wantErrno(t, "other renames over user's file", o.do(t, "rename", b, a), unix.EPERM)
	wantErrno(t, "user unlinks other's file", u.do(t, "unlink", b), unix.EPERM)
	wantErrno(t, "user renames own file", u.do(t, "rename", a, filepath.Join(d, "a2")), 0)
	wantErrno(t, "user unlinks own file", u.do(t, "unlink", filepath.Join(d, "a2")), 0)

	// The directory's owner may remove anyone's entries.
	mine := publicDir(t, dir, "usersticky", 0o1777)
	u.give(t, mine)
	x := filepath.Join(mine, "x")
	wantErrno(t, "other creates in user's sticky dir", o.do(t, "create", x, "644"), 0)
	wantErrno(t, "dir owner unlinks other's file", u.do(t, "unlink", x), 0)
	wantErrno(t, "root unlinks other's file", unix.Unlink(b), 0)
}
