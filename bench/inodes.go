package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ext4 without a journal does not reuse an inode within RECENTCY_MIN (60
// s) of its deletion (five minutes more while its inode table block is
// dirty, hence a sync first; fs/ext4/ialloc.c, recently_deleted): every
// inode allocation in the block group reads past each such inode. A create
// phase started soon after another system's mass deletion (its delete
// phase, the removal of its bricks) pays for them, and which system that
// is depends only on the order of the run. So on such a file system every
// create phase starts inodeRecency after the last deletion the harness
// made, and all systems create from the same state.
const inodeRecency = 61 * time.Second

// inodeClock remembers when the harness last freed inodes on the
// benchmark's file system, and whether that file system delays their
// reuse at all.
type inodeClock struct {
	delays bool
	freed  time.Time
}

// newInodeClock starts the clock for the file system holding dir; what
// ran before the harness counts as a deletion just now.
func newInodeClock(dir string) *inodeClock {
	return &inodeClock{delays: ext4WithoutJournal(dir), freed: time.Now()}
}

// noteFreed records a deletion that has just finished.
func (c *inodeClock) noteFreed() { c.freed = time.Now() }

// settle writes freed inodes back and waits until the last deletion is
// inodeRecency old.
func (c *inodeClock) settle(ctx context.Context) error {
	if !c.delays {
		return nil
	}
	unix.Sync()
	wait := time.Until(c.freed.Add(inodeRecency))
	if wait <= 0 {
		return nil
	}
	select {
	case <-time.After(wait):
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for freed inodes to age: %w", ctx.Err())
	}
}

// ext4WithoutJournal reports whether dir is on an ext4 file system that
// has no journal (ext4 lists its devices under /proc/fs/ext4, jbd2 the
// journals as DEVICE-INODE under /proc/fs/jbd2).
func ext4WithoutJournal(dir string) bool {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return false
	}
	uevent, err := os.ReadFile(fmt.Sprintf("/sys/dev/block/%d:%d/uevent", unix.Major(st.Dev), unix.Minor(st.Dev)))
	if err != nil {
		return false
	}
	dev := ""
	for line := range strings.Lines(string(uevent)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "DEVNAME="); ok {
			dev = v
		}
	}
	if dev == "" {
		return false
	}
	if _, err := os.Stat(filepath.Join("/proc/fs/ext4", dev)); err != nil {
		return false
	}
	journals, _ := filepath.Glob(filepath.Join("/proc/fs/jbd2", dev+"-*"))
	return len(journals) == 0
}
