package lookupahead

import (
	"context"
	"path"
	"syscall"
	"time"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// missed counts a lookup of loc that this layer could have answered but
// did not, and starts listing the directory when enough missed lately.
func (l *LA) missed(ctx context.Context, loc *fop.Loc) {
	if l.timeout.Load() == 0 {
		return
	}
	now := l.now()
	l.mu.Lock()
	d := l.dirLocked(loc.Parent)
	if now.Sub(d.missFrom) >= missWindow {
		d.misses, d.missFrom = 0, now
	}
	d.misses++
	start := d.misses >= missTrigger && !d.fetching && !now.Before(d.idleTill) &&
		now.Sub(d.listed) >= time.Duration(l.timeout.Load())
	if start && d.filled >= minJudged && d.hits*lowHitRate < d.filled {
		// The last listing served few lookups: names looked up here
		// are mostly not in the directory, or looked up once.
		d.idleTill, d.filled, d.hits = now.Add(backoff), 0, 0
		start = false
	}
	if start {
		d.fetching, d.misses, d.listed, d.filled, d.hits = true, 0, now, 0, 0
		clear(d.changed)
		l.running++
		l.fetches.Add(1)
	}
	l.mu.Unlock()
	if start {
		// The listing runs as the caller whose lookups asked for it:
		// it reads only what that caller may list.
		c := fop.CallerFrom(ctx)
		who := &fop.Caller{UID: c.UID, GID: c.GID, Groups: c.Groups, PID: c.PID}
		dirLoc := fop.Loc{GFID: loc.Parent}
		if loc.Path != "" {
			dirLoc.Path = path.Dir(loc.Path)
		}
		go l.fetch(d, who, &dirLoc)
	}
}

// fetch lists directory d with readdirplus and keeps its entries.
func (l *LA) fetch(d *dir, who *fop.Caller, loc *fop.Loc) {
	defer l.fetches.Done()
	defer l.fetched(d)
	ctx, cancel := context.WithTimeout(fop.WithCaller(context.Background(), who), fetchTimeout)
	defer cancel()
	fd := fop.NewFD(loc.GFID, syscall.O_RDONLY|syscall.O_DIRECTORY)
	if err := l.Next.Opendir(ctx, loc, fd); err != nil {
		l.idle(d)
		return
	}
	defer l.Next.Releasedir(ctx, fd)
	var off uint64
	for n := 0; ; {
		seq, at := l.begin()
		es, err := l.Next.Readdir(ctx, fd, off, chunk, true, nil)
		if err != nil || len(es) == 0 {
			return
		}
		if n += len(es); n > l.maxDir {
			l.idle(d)
			return
		}
		if !l.fill(d, seq, at, es) {
			return
		}
		off = es[len(es)-1].Off
	}
}

// begin is the start of a readdir chunk.
func (l *LA) begin() (uint64, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq, l.now()
}

// fill keeps the entries of a chunk that started at seq and at, but those
// that changed since, making room by dropping other directories; false if
// the listing should stop (the directory was dropped meanwhile, or fills
// the bound alone).
func (l *LA) fill(d *dir, seq uint64, at time.Time, es []fop.DirEntry) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.liveLocked(d) || d.dropped > seq || l.resetAt > seq {
		return false
	}
	for i := range es {
		if l.trimLocked(d, l.maxEntries-1); l.total >= l.maxEntries {
			return false // only this directory is left to drop
		}
		e := &es[i]
		if e.Attr == nil || e.Name == "." || e.Name == ".." || isDir(e.Attr) ||
			d.changed[e.Name] > seq || l.changed[e.Attr.GFID] > seq {
			continue
		}
		l.keepLocked(d, e.Name, e.Attr, at)
		d.filled++
	}
	return true
}

// idle stops listing d for a while (too large, or not listable).
func (l *LA) idle(d *dir) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d.idleTill = l.now().Add(backoff)
}

// fetched ends a listing.
func (l *LA) fetched(d *dir) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d.fetching = false
	clear(d.changed)
	if l.running--; l.running == 0 {
		clear(l.changed)
	}
}
