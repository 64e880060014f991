package posix

import (
	"context"
	"encoding/binary"
	"runtime"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Thin wrappers for the *at system calls that x/sys does not wrap yet
// (xattrs by dirfd+name need Linux 6.13, fchmodat2 Linux 6.6). Relative
// xattr calls let us touch symlinks, fifos and devices without opening them.
// On older kernels (Debian 12 and 13 among them) the calls answer ENOSYS and
// each wrapper falls back to the object's /proc fd link: the object is
// opened O_PATH beneath dirfd, so the fallback cannot leave the brick
// either.

// xattrArgs is the kernel's struct xattr_args.
type xattrArgs struct {
	value uint64
	size  uint32
	flags uint32
}

func sysgetxattrat(dirfd int, path string, atFlags int, name string, buf []byte) (int, error) {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return 0, err
	}
	n, err := unix.BytePtrFromString(name)
	if err != nil {
		return 0, err
	}
	a := xattrArgs{size: uint32(len(buf))}
	if len(buf) > 0 {
		a.value = uint64(uintptr(unsafe.Pointer(&buf[0])))
	}
	r, _, e := unix.Syscall6(unix.SYS_GETXATTRAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(atFlags),
		uintptr(unsafe.Pointer(n)), uintptr(unsafe.Pointer(&a)), unsafe.Sizeof(a))
	runtime.KeepAlive(buf)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func syssetxattrat(dirfd int, path string, atFlags int, name string, val []byte, flags int) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	n, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	a := xattrArgs{size: uint32(len(val)), flags: uint32(flags)}
	if len(val) > 0 {
		a.value = uint64(uintptr(unsafe.Pointer(&val[0])))
	}
	_, _, e := unix.Syscall6(unix.SYS_SETXATTRAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(atFlags),
		uintptr(unsafe.Pointer(n)), uintptr(unsafe.Pointer(&a)), unsafe.Sizeof(a))
	runtime.KeepAlive(val)
	if e != 0 {
		return e
	}
	return nil
}

func syslistxattrat(dirfd int, path string, atFlags int, buf []byte) (int, error) {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return 0, err
	}
	var bp unsafe.Pointer
	if len(buf) > 0 {
		bp = unsafe.Pointer(&buf[0])
	}
	r, _, e := unix.Syscall6(unix.SYS_LISTXATTRAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(atFlags),
		uintptr(bp), uintptr(len(buf)), 0)
	runtime.KeepAlive(buf)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func sysremovexattrat(dirfd int, path string, atFlags int, name string) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	n, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	_, _, e := unix.Syscall6(unix.SYS_REMOVEXATTRAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(atFlags),
		uintptr(unsafe.Pointer(n)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// fchmodat2 changes the mode without following a final symlink (plain
// fchmodat would follow it, possibly out of the brick).
func sysfchmodat2(dirfd int, path string, mode uint32, flags int) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	_, _, e := unix.Syscall6(unix.SYS_FCHMODAT2, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(mode), uintptr(flags), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// getxattrAlloc reads one xattr value of any size.
func getxattrAlloc(dirfd int, path string, atFlags int, name string) ([]byte, error) {
	var small [256]byte
	for {
		n, err := getxattrat(dirfd, path, atFlags, name, small[:])
		if err == nil {
			return append([]byte(nil), small[:n]...), nil
		}
		if err != unix.ERANGE {
			return nil, err
		}
		size, err := getxattrat(dirfd, path, atFlags, name, nil)
		if err != nil {
			return nil, err
		}
		buf := make([]byte, size)
		n, err = getxattrat(dirfd, path, atFlags, name, buf)
		if err == unix.ERANGE {
			continue // grew in between
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}

// listxattrAlloc lists the xattr names of an object.
func listxattrAlloc(dirfd int, path string, atFlags int) ([]string, error) {
	for {
		size, err := listxattrat(dirfd, path, atFlags, nil)
		if err != nil || size == 0 {
			return nil, err
		}
		buf := make([]byte, size)
		n, err := listxattrat(dirfd, path, atFlags, buf)
		if err == unix.ERANGE {
			continue
		}
		if err != nil {
			return nil, err
		}
		var names []string
		for start, i := 0, 0; i < n; i++ {
			if buf[i] == 0 {
				if i > start {
					names = append(names, string(buf[start:i]))
				}
				start = i + 1
			}
		}
		return names, nil
	}
}

// openBeneath opens path relative to dirfd, refusing to leave dirfd's tree
// by "..", absolute symlinks or /proc magic links. With noSymlinks it also
// refuses every symlink on the way.
func openBeneath(dirfd int, path string, flags int, noSymlinks bool) (int, error) {
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	if noSymlinks {
		how.Resolve |= unix.RESOLVE_NO_SYMLINKS
	}
	for {
		fd, err := unix.Openat2(dirfd, path, &how)
		if err != unix.EINTR && err != unix.EAGAIN {
			return fd, err
		}
	}
}

// procPath names an open fd through /proc, to reopen an O_PATH fd with
// real access modes: the kernel then checks the caller's permission on the
// object itself, as an NFS server does for a file handle.
func procPath(fd int) string {
	return "/proc/thread-self/fd/" + strconv.Itoa(fd)
}

// as runs fn with the caller's file system identity on a locked OS thread,
// so that the kernel applies every POSIX permission rule (sticky dirs,
// setgid inheritance, chown rules, suid clearing). setfsuid, setfsgid and
// the raw setgroups syscall are per thread; unix.Setgroups and
// syscall.Setgroups would change every thread of the process. Internal
// root calls skip the switch.
func (p *Posix) as(ctx context.Context, fn func() error) error {
	c := fop.CallerFrom(ctx)
	if c.UID == 0 && c.GID == 0 {
		return fn()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := setgroups(c.Groups); err != nil {
		return err
	}
	unix.Setfsgid(int(c.GID))
	unix.Setfsuid(int(c.UID))
	defer func() {
		unix.Setfsuid(0)
		unix.Setfsgid(0)
		if err := setgroups(p.groups); err != nil {
			// A thread left with a caller's groups would leak them into
			// later root work; there is no safe way on.
			panic("posix: cannot restore groups: " + err.Error())
		}
	}()
	return fn()
}

func setgroups(groups []uint32) error {
	var ptr unsafe.Pointer
	if len(groups) > 0 {
		ptr = unsafe.Pointer(&groups[0])
	}
	_, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(ptr), 0)
	runtime.KeepAlive(groups)
	if e != 0 {
		return e
	}
	return nil
}

// dirent is one linux_dirent64 record.
type dirent struct {
	ino  uint64
	off  uint64
	typ  uint8
	name string
}

// parseDirent decodes the first record of buf; n is its length, 0 if buf
// holds no complete record.
func parseDirent(buf []byte) (d dirent, n int) {
	if len(buf) < 19 {
		return d, 0
	}
	reclen := int(binary.NativeEndian.Uint16(buf[16:18]))
	if reclen < 19 || reclen > len(buf) {
		return d, 0
	}
	d.ino = binary.NativeEndian.Uint64(buf[0:8])
	d.off = binary.NativeEndian.Uint64(buf[8:16])
	d.typ = buf[18]
	name := buf[19:reclen]
	for i, c := range name {
		if c == 0 {
			name = name[:i]
			break
		}
	}
	d.name = string(name)
	return d, reclen
}

// dtToMode converts a d_type to st_mode file type bits.
func dtToMode(t uint8) uint32 {
	return uint32(t) << 12
}

// viaProc runs fn on a /proc path naming the object path names relative
// to dirfd (or dirfd itself for an empty path).
func viaProc(dirfd int, path string, atFlags int, fn func(p string) error) error {
	if path == "" {
		return fn(procPath(dirfd))
	}
	flags := unix.O_PATH
	if atFlags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := openBeneath(dirfd, path, flags, false)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return fn(procPath(fd))
}

func getxattrat(dirfd int, path string, atFlags int, name string, buf []byte) (int, error) {
	n, err := sysgetxattrat(dirfd, path, atFlags, name, buf)
	if err != unix.ENOSYS {
		return n, err
	}
	err = viaProc(dirfd, path, atFlags, func(p string) (err error) {
		n, err = unix.Getxattr(p, name, buf)
		return err
	})
	return n, err
}

func setxattrat(dirfd int, path string, atFlags int, name string, val []byte, flags int) error {
	err := syssetxattrat(dirfd, path, atFlags, name, val, flags)
	if err != unix.ENOSYS {
		return err
	}
	return viaProc(dirfd, path, atFlags, func(p string) error { return unix.Setxattr(p, name, val, flags) })
}

func listxattrat(dirfd int, path string, atFlags int, buf []byte) (int, error) {
	n, err := syslistxattrat(dirfd, path, atFlags, buf)
	if err != unix.ENOSYS {
		return n, err
	}
	err = viaProc(dirfd, path, atFlags, func(p string) (err error) {
		n, err = unix.Listxattr(p, buf)
		return err
	})
	return n, err
}

func removexattrat(dirfd int, path string, atFlags int, name string) error {
	err := sysremovexattrat(dirfd, path, atFlags, name)
	if err != unix.ENOSYS {
		return err
	}
	return viaProc(dirfd, path, atFlags, func(p string) error { return unix.Removexattr(p, name) })
}

func fchmodat2(dirfd int, path string, mode uint32, flags int) error {
	err := sysfchmodat2(dirfd, path, mode, flags)
	if err != unix.ENOSYS {
		return err
	}
	return viaProc(dirfd, path, flags, func(p string) error { return chmodProc(p, mode) })
}

// chmodProc changes the mode of the object a /proc fd link names; a
// symlink's mode cannot change, as fchmodat2 says.
func chmodProc(p string, mode uint32) error {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return unix.EOPNOTSUPP
	}
	return unix.Chmod(p, mode)
}
