package fuse

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// maxCachedPIDs bounds the cache; it is emptied when full, which only costs
// a few extra reads of /proc.
const maxCachedPIDs = 4096

type groupsEntry struct {
	groups []uint32
	at     time.Time
}

// groupCache remembers the supplementary groups of calling processes.
type groupCache struct {
	mu     sync.Mutex
	byPID  map[uint32]groupsEntry
	procFS string
	ttl    time.Duration
}

func newGroupCache(procFS string, ttl time.Duration) *groupCache {
	return &groupCache{byPID: map[uint32]groupsEntry{}, procFS: procFS, ttl: ttl}
}

func (c *groupCache) groups(pid uint32) []uint32 {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.byPID[pid]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e.groups
	}
	// A process that is gone by now has no groups to grant.
	g, _ := readGroups(fmt.Sprintf("%s/%d/status", c.procFS, pid))
	c.mu.Lock()
	if len(c.byPID) >= maxCachedPIDs {
		clear(c.byPID)
	}
	c.byPID[pid] = groupsEntry{groups: g, at: now}
	c.mu.Unlock()
	return g
}

// readGroups parses the "Groups:" line of /proc/PID/status.
func readGroups(file string) ([]uint32, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("Groups:"))
		if !ok {
			continue
		}
		var gs []uint32
		for _, f := range bytes.Fields(rest) {
			g, err := strconv.ParseUint(string(f), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("parse %s: %w", file, err)
			}
			gs = append(gs, uint32(g))
		}
		return gs, nil
	}
	return nil, nil
}

// ctx returns a context running as the process that sent h, with the
// lock owner the kernel gave (0 when the request carries none).
func (fs *FS) ctx(h *fuse.InHeader, lkOwner uint64) context.Context {
	c := &fop.Caller{UID: h.Uid, GID: h.Gid, PID: h.Pid, LkOwner: lkOwner}
	// Root passes every permission check; its groups never matter.
	if h.Uid != 0 && h.Pid != 0 {
		c.Groups = fs.groups.groups(h.Pid)
	}
	return fop.WithCaller(context.Background(), c)
}

// cancelCtx is a context that ends when the kernel interrupts the request
// (the caller got a signal). Only blocking lock waits use it: other
// operations finish even when interrupted, as a retried mkdir or create
// must not meet its own half-done first attempt.
type cancelCtx struct {
	context.Context
	cancel <-chan struct{}
}

func (c cancelCtx) Done() <-chan struct{} { return c.cancel }

func (c cancelCtx) Err() error {
	select {
	case <-c.cancel:
		return context.Canceled
	default:
		return nil
	}
}
