// Package mounthelper turns what mount(8) passes to /sbin/mount.glusterfs
// ("mount -t glusterfs HOST:/VOL DIR -o OPTS", fstab entries) into the
// glusterfs client command line: -s HOST for the named server and each
// backup volfile server, in order, --volfile-id VOL and the mount point.
// glusterfs fetches the client volfile from the first server that
// answers, builds the layer graph and returns once the mount answers.
package mounthelper

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Request is one parsed mount.glusterfs invocation.
type Request struct {
	Servers  []string // volfile servers, in the order glusterfs tries them
	Volume   string
	Dir      string
	Fake     bool // -f: do everything but mount
	Verbose  bool // -v
	ReadOnly bool
	// Args are extra glusterfs arguments from -o options.
	Args []string
}

// ignored reports mount options that mean nothing to glusterfs: generic
// mount(8), fstab and systemd options.
func ignored(key string) bool {
	switch key {
	case "", "defaults", "_netdev", "auto", "noauto", "nofail", "rw", "user", "nouser", "users",
		"owner", "group", "dev", "nodev", "suid", "nosuid", "exec", "noexec", "atime", "noatime",
		"relatime", "norelatime", "strictatime", "nodiratime", "diratime", "async", "sync",
		"loop", "comment",
		"transport": // only tcp exists
		return true
	}
	return strings.HasPrefix(key, "x-")
}

// flagFor returns the glusterfs flag that a value-taking mount option
// maps to, or "" for options passed on under their own name.
func flagFor(key string) string {
	switch key {
	case "log-file", "log-level", "volfile-server-port", "attribute-timeout", "entry-timeout",
		"negative-timeout", "xlator-option", "pid-file":
		return "--" + key
	case "server-port":
		return "--volfile-server-port"
	}
	return ""
}

// Parse reads mount.glusterfs's arguments: SPEC DIR [-sfnv] [-N NS]
// [-o OPTIONS] [-t TYPE], options possibly before the operands.
func Parse(args []string) (*Request, error) {
	r := &Request{}
	var operands, opts []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" || a == "-N" || a == "-t":
			if i+1 >= len(args) {
				return nil, fmt.Errorf("option %s needs a value", a)
			}
			if a == "-o" {
				opts = append(opts, args[i+1])
			}
			i++
		case strings.HasPrefix(a, "-o") && len(a) > 2:
			opts = append(opts, a[2:])
		case len(a) > 1 && a[0] == '-':
			for _, c := range a[1:] {
				switch c {
				case 'f':
					r.Fake = true
				case 'v':
					r.Verbose = true
				case 's', 'n', 'i':
					// sloppy, no mtab, no helper recursion: nothing to do.
				case 'r':
					r.ReadOnly = true
				case 'w':
					r.ReadOnly = false
				default:
					return nil, fmt.Errorf("unknown flag -%c", c)
				}
			}
		default:
			operands = append(operands, a)
		}
	}
	if len(operands) != 2 {
		return nil, errors.New("usage: mount.glusterfs HOST:/VOLUME MOUNTPOINT [-o OPTIONS]")
	}
	if err := r.parseSpec(operands[0]); err != nil {
		return nil, err
	}
	r.Dir = operands[1]
	for _, o := range opts {
		if err := r.option(o); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// parseSpec reads HOST:/VOL, HOST:VOL, H1,H2:/VOL and [IPv6]:/VOL.
func (r *Request) parseSpec(spec string) error {
	var hosts, vol string
	if strings.HasPrefix(spec, "[") {
		end := strings.Index(spec, "]:")
		if end < 0 {
			return fmt.Errorf("%s: want HOST:/VOLUME", spec)
		}
		hosts, vol = spec[1:end], spec[end+2:]
	} else {
		i := strings.Index(spec, ":")
		if i < 0 {
			return fmt.Errorf("%s: want HOST:/VOLUME", spec)
		}
		hosts, vol = spec[:i], spec[i+1:]
	}
	vol = strings.TrimPrefix(vol, "/")
	if vol == "" || hosts == "" {
		return fmt.Errorf("%s: want HOST:/VOLUME", spec)
	}
	if strings.Contains(vol, "/") {
		return fmt.Errorf("%s: mounting a subdirectory of a volume is not supported", spec)
	}
	r.Volume = vol
	for _, h := range strings.Split(hosts, ",") {
		r.addServer(h)
	}
	return nil
}

func (r *Request) addServer(h string) {
	h = strings.TrimSpace(h)
	if h == "" {
		return
	}
	for _, s := range r.Servers {
		if s == h {
			return
		}
	}
	r.Servers = append(r.Servers, h)
}

// option applies one comma-separated -o list.
func (r *Request) option(list string) error {
	for _, o := range strings.Split(list, ",") {
		key, val, hasVal := strings.Cut(strings.TrimSpace(o), "=")
		switch {
		case ignored(key):
		case key == "ro":
			r.ReadOnly = true
		case key == "backupvolfile-server" || key == "backup-volfile-server":
			r.addServer(val)
		case key == "backup-volfile-servers":
			for _, h := range strings.Split(val, ":") {
				r.addServer(h)
			}
		case flagFor(key) != "":
			if !hasVal {
				return fmt.Errorf("mount option %s needs a value", key)
			}
			r.Args = append(r.Args, flagFor(key)+"="+val)
		case hasVal:
			r.Args = append(r.Args, "--"+key+"="+val)
		default:
			r.Args = append(r.Args, "--"+key)
		}
	}
	return nil
}

// Command returns the glusterfs argument list (without the program).
func (r *Request) Command() []string {
	var args []string
	for _, s := range r.Servers {
		args = append(args, "--volfile-server="+s)
	}
	args = append(args, "--volfile-id="+r.Volume)
	if r.ReadOnly {
		args = append(args, "--read-only")
	}
	args = append(args, r.Args...)
	return append(args, r.Dir)
}

// FindGlusterfs locates the glusterfs client: next to this program
// (symlinks resolved, so /sbin/mount.glusterfs may point into a build
// directory), then on PATH, then in /usr/sbin and /sbin.
func FindGlusterfs() (string, error) {
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		p := filepath.Join(filepath.Dir(exe), "glusterfs")
		if isExec(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("glusterfs"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/glusterfs", "/sbin/glusterfs"} {
		if isExec(p) {
			return p, nil
		}
	}
	return "", errors.New("cannot find the glusterfs client program")
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}
