package posix

import (
	"bytes"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Parent pre-operation checks (fop.PreopParentKey). A creating call
// checks and creates under a read lock of its parent's stripe, and xattr
// changes on a directory take the stripe for writing, so a layout written
// on this brick lands either before the check (which then fails) or after
// the new name exists, where anything that lists the directory after the
// change (a rebalance crawl) finds it.

const preopStripes = 64

type preopLocks [preopStripes]sync.RWMutex

func (l *preopLocks) of(g fop.GFID) *sync.RWMutex { return &l[int(g[15])%preopStripes] }

// parentStale reports whether xdata asks for a parent check that fails:
// the directory pr's xattr differs from the value the caller sent (or is
// unreadable).
func parentStale(pr *dirRef, xdata fop.Dict) bool {
	name, want, ok := fop.PreopParent(xdata)
	if !ok {
		return false
	}
	got, err := getxattrAlloc(pr.fd, "", unix.AT_EMPTY_PATH, name)
	return err != nil || !bytes.Equal(got, want)
}

// checkedCreate runs create, which makes loc's name in pr, under the
// parent check xdata may ask for; a failed check is ESTALE and create
// does not run.
func (p *Posix) checkedCreate(pr *dirRef, xdata fop.Dict, create func() error) error {
	if _, _, ok := fop.PreopParent(xdata); !ok {
		return create()
	}
	mu := p.preop.of(pr.g)
	mu.RLock()
	defer mu.RUnlock()
	if parentStale(pr, xdata) {
		return unix.ESTALE
	}
	return create()
}

// dirXattrChange runs change, which alters xattrs of the object g, under
// the write lock of its stripe when it is a directory.
func (p *Posix) dirXattrChange(g fop.GFID, isDir bool, change func() error) error {
	if !isDir {
		return change()
	}
	mu := p.preop.of(g)
	mu.Lock()
	defer mu.Unlock()
	return change()
}
