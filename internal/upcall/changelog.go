package upcall

import "github.com/gluster-go/gluster-go/internal/fop"

// recentChanges is how many changes the log remembers.
const recentChanges = 4096

// changeLog numbers the brick's changes and remembers the last ones, so
// that a read which learns of objects only from its reply (a lookup by
// name, a listing) can tell whether one of them changed after it started
// and before interest in it was registered: such a change told nobody.
type changeLog struct {
	seq   uint64 // changes so far
	last  map[fop.GFID]lastChange
	ring  []logged // the last recentChanges changes, oldest at next
	next  int
	floor uint64 // the newest change forgotten
}

// lastChange is an object's last change and who made the changes logged
// of it ("" when several clients, or an internal call, did).
type lastChange struct {
	seq    uint64
	origin string
}

type logged struct {
	gfid fop.GFID
	seq  uint64
}

// add logs a change of g by origin.
func (l *changeLog) add(g fop.GFID, origin string) {
	l.seq++
	e := logged{g, l.seq}
	if len(l.ring) < recentChanges {
		l.ring = append(l.ring, e)
	} else {
		old := l.ring[l.next]
		if l.last[old.gfid].seq == old.seq {
			delete(l.last, old.gfid)
		}
		l.floor = old.seq
		l.ring[l.next] = e
		l.next = (l.next + 1) % recentChanges
	}
	if l.last == nil {
		l.last = map[fop.GFID]lastChange{}
	}
	if prev, ok := l.last[g]; ok && prev.origin != origin {
		origin = ""
	}
	l.last[g] = lastChange{l.seq, origin}
}

// changedSince says whether a client other than c may have changed g
// after change number seq. Past what the log remembers it says yes.
func (l *changeLog) changedSince(g fop.GFID, c string, seq uint64) bool {
	if lc, ok := l.last[g]; ok {
		return lc.seq > seq && lc.origin != c
	}
	return l.floor > seq
}
