package posix

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// withContent adds to a lookup's reply the content of the regular file
// name in dirfd when xreq asks for it (fop.ContentKey) and the file is
// small enough: quick-read then serves open+read+close of small files with
// no further round trip. st is the lookup's stat; the content is returned
// only if the file opened is still that file, unchanged, so that content
// and attributes agree. The file is opened as the caller, so a caller who
// may not read it gets no content.
func (p *Posix) withContent(ctx context.Context, dirfd int, name string, st *unix.Stat_t, xreq, out fop.Dict) fop.Dict {
	v, ok := xreq[fop.ContentKey]
	if !ok || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return out
	}
	max, ok := fop.ParseContentLimit(v)
	if !ok || uint64(st.Size) > min(max, fop.MaxContent) {
		return out
	}
	var fd int
	err := p.as(ctx, func() (err error) {
		// O_NONBLOCK: the name may have become a fifo since the stat.
		fd, err = unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return out
	}
	defer unix.Close(fd)
	var now unix.Stat_t
	if unix.Fstat(fd, &now) != nil || now.Ino != st.Ino || now.Dev != st.Dev ||
		now.Size != st.Size || now.Mtim != st.Mtim || now.Ctim != st.Ctim {
		return out
	}
	// One byte more than expected tells a file that grew meanwhile.
	buf := make([]byte, st.Size+1)
	n := 0
	for n < len(buf) {
		m, err := unix.Pread(fd, buf[n:], int64(n))
		if err != nil {
			return out
		}
		short := m < len(buf)-n // a short read of a regular file is its end
		n += m
		if short {
			break
		}
	}
	if int64(n) != st.Size {
		return out
	}
	if out == nil {
		out = fop.Dict{}
	}
	out[fop.ContentKey] = buf[:n:n]
	return out
}
