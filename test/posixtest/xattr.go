package posixtest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func listXattrs(t *testing.T, path string) []string {
	t.Helper()
	n, err := unix.Llistxattr(path, nil)
	must(t, err)
	buf := make([]byte, n)
	n, err = unix.Llistxattr(path, buf)
	must(t, err)
	return strings.FieldsFunc(string(buf[:n]), func(r rune) bool { return r == 0 })
}

// UserXattrs checks user.* extended attributes and their errnos.
func UserXattrs(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, "", 0o644)
	for _, path := range []string{f, dir} {
		wantErrno(t, "setxattr", unix.Setxattr(path, "user.a", []byte("hello"), 0), 0)
		wantErrno(t, "setxattr empty value", unix.Setxattr(path, "user.empty", nil, 0), 0)
		buf := make([]byte, 64)
		if n, err := unix.Getxattr(path, "user.a", buf); err != nil || string(buf[:n]) != "hello" {
			t.Errorf("getxattr user.a on %s = %q, %v", path, buf[:n], err)
		}
		if n, err := unix.Getxattr(path, "user.a", nil); err != nil || n != 5 {
			t.Errorf("getxattr size query = %d, %v; want 5", n, err)
		}
		if n, err := unix.Getxattr(path, "user.empty", buf); err != nil || n != 0 {
			t.Errorf("getxattr empty value = %d, %v", n, err)
		}
		_, err := unix.Getxattr(path, "user.a", make([]byte, 2))
		wantErrno(t, "getxattr small buffer", err, unix.ERANGE)
		_, err = unix.Getxattr(path, "user.missing", buf)
		wantErrno(t, "getxattr missing", err, unix.ENODATA)
		wantErrno(t, "XATTR_CREATE existing", unix.Setxattr(path, "user.a", []byte("x"), unix.XATTR_CREATE), unix.EEXIST)
		wantErrno(t, "XATTR_REPLACE missing", unix.Setxattr(path, "user.b", []byte("x"), unix.XATTR_REPLACE), unix.ENODATA)
		wantErrno(t, "XATTR_CREATE new", unix.Setxattr(path, "user.b", []byte("x"), unix.XATTR_CREATE), 0)
		wantErrno(t, "XATTR_REPLACE existing", unix.Setxattr(path, "user.b", []byte("yz"), unix.XATTR_REPLACE), 0)
		if n, err := unix.Getxattr(path, "user.b", buf); err != nil || string(buf[:n]) != "yz" {
			t.Errorf("replaced value = %q, %v", buf[:n], err)
		}
		names := listXattrs(t, path)
		for _, want := range []string{"user.a", "user.b", "user.empty"} {
			if !slices.Contains(names, want) {
				t.Errorf("listxattr %s = %q, missing %s", path, names, want)
			}
		}
		if n, err := unix.Listxattr(path, make([]byte, 1)); err == nil {
			t.Errorf("listxattr into 1 byte returned %d, want ERANGE", n)
		} else {
			wantErrno(t, "listxattr small buffer", err, unix.ERANGE)
		}
		wantErrno(t, "removexattr", unix.Removexattr(path, "user.a"), 0)
		_, err = unix.Getxattr(path, "user.a", buf)
		wantErrno(t, "getxattr removed", err, unix.ENODATA)
		wantErrno(t, "removexattr missing", unix.Removexattr(path, "user.a"), unix.ENODATA)
		if names := listXattrs(t, path); slices.Contains(names, "user.a") {
			t.Errorf("listxattr after remove = %q", names)
		}
	}
	wantErrno(t, "setxattr name > 255", unix.Setxattr(f, "user."+strings.Repeat("n", 251), []byte("x"), 0), unix.ERANGE)
	l := filepath.Join(dir, "l")
	must(t, os.Symlink("f", l))
	wantErrno(t, "user.* on a symlink", unix.Lsetxattr(l, "user.a", []byte("x"), 0), unix.EPERM)

	withOtherUser(t, func(t *testing.T, o actor) {
		u := user()
		pub := publicDir(t, dir, "pub", 0o777)
		g := filepath.Join(pub, "g")
		ownedFile(t, u, g, "", 0o644)
		wantErrno(t, "owner setxattr", u.do(t, "setxattr", g, "user.o", "v"), 0)
		wantErrno(t, "setxattr without write access", o.do(t, "setxattr", g, "user.o", "v"), unix.EACCES)
	})
}

// InternalXattrsHidden checks that a gluster mount neither shows nor
// accepts the trusted.* attributes its bricks keep their metadata in. It is
// not in Tests: on a local file system root sees trusted.* as ordinary
// attributes.
func InternalXattrsHidden(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, "x", 0o644)
	must(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
	for _, path := range []string{f, filepath.Join(dir, "d"), dir} {
		for _, name := range listXattrs(t, path) {
			if strings.HasPrefix(name, "trusted.") {
				t.Errorf("listxattr %s shows %s", path, name)
			}
		}
		for _, name := range []string{"trusted.gfid", "trusted.glusterfs.volume-id", "trusted.glusterfs.dht", "trusted.afr.dirty"} {
			if n, err := unix.Lgetxattr(path, name, make([]byte, 256)); err == nil {
				t.Errorf("getxattr %s %s returned %d bytes, want an error", path, name, n)
			}
		}
		if err := unix.Lsetxattr(path, "trusted.x", []byte("v"), 0); err == nil {
			t.Errorf("setxattr %s trusted.x succeeded, want an error", path)
		}
		if err := unix.Lsetxattr(path, "trusted.gfid", make([]byte, 16), 0); err == nil {
			t.Errorf("setxattr %s trusted.gfid succeeded, want an error", path)
		}
	}
}
