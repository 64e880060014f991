package dht

import (
	"context"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// linkHashed gives the hashed child h a linkto to child i, where a lookup
// everywhere found the file a, so that the next lookup costs one brick and
// one hop (GlusterFS's dht_lookup_everywhere_done). old is what h holds by
// that name: nil if nothing, else a linkto that led nowhere, which is
// pointed at i. Races are harmless by construction:
//   - the linkto carries the file's GFID and is made with mknod, which
//     fails if the name appeared on h meanwhile (a create, a migration's
//     destination: both keep theirs);
//   - a file being migrated (phase bits on a) gets none: its destination
//     is the migration's to make, and a phase-2 source is about to vanish;
//   - a brick being removed gets none (nothing new lands there);
//   - a migration that later moves the file to h finds a linkto with the
//     file's GFID naming the source, the one it would make itself.
func (d *DHT) linkHashed(ctx context.Context, loc *fop.Loc, h, i int, a *fop.Attr, old *fop.Attr, oldx fop.Dict) {
	if !d.isUp(h) || d.isDecommissioned(h) || a.IsDir() || migrating(a) || a.GFID.IsZero() {
		return
	}
	target := fop.Dict{LinktoKey: append([]byte(d.names[i]), 0)}
	if old != nil {
		if !isLinkto(old, oldx) || d.childIndex(linktoTarget(oldx)) == i {
			return
		}
		if old.GFID == a.GFID {
			d.log.Info("repointing linkto", "path", loc.Path, "on", d.names[h], "to", d.names[i])
			if err := d.children[h].Setxattr(ctx, &fop.Loc{GFID: a.GFID, Path: loc.Path}, target, 0); err != nil {
				d.log.Warn("repointing linkto failed", "path", loc.Path, "on", d.names[h], "err", err)
			}
			return
		}
		// A linkto of another file by this name, left behind.
		if !d.unlinkLinkto(ctx, loc, h, old.GFID) {
			return
		}
	}
	l := *loc
	l.GFID = a.GFID
	_, _, err := d.children[h].Mknod(ctx, &l, linktoMode, 0, 0, target)
	switch {
	case err == nil:
		d.log.Info("linkto created", "path", loc.Path, "on", d.names[h], "to", d.names[i])
	case fop.Errno(err) != syscall.EEXIST:
		d.log.Warn("creating linkto failed", "path", loc.Path, "on", d.names[h], "err", err)
	}
}

// removeDanglingLinktos removes the linkto files of a name no child holds
// data for whose target is no subvolume of this volume (a removed brick)
// or the linkto's own child. (A linkto naming a child that lacks the file
// is removed by followLinkto, under the migration lock.) Neither can be
// part of a migration, whose linktos name a live source or destination.
func (d *DHT) removeDanglingLinktos(ctx context.Context, loc *fop.Loc, attrs []fop.Attr, xs []fop.Dict, errs []error) {
	for k, err := range errs {
		if err != nil || !isLinkto(&attrs[k], xs[k]) {
			continue
		}
		if t := d.childIndex(linktoTarget(xs[k])); t >= 0 && t != k {
			continue
		}
		d.log.Info("removing dangling linkto", "path", loc.Path, "on", d.names[k], "to", linktoTarget(xs[k]))
		d.unlinkLinkto(ctx, loc, k, attrs[k].GFID)
	}
}

// unlinkLinkto removes loc on child k if it is still an empty linkto with
// GFID g, and reports whether the name is gone.
func (d *DHT) unlinkLinkto(ctx context.Context, loc *fop.Loc, k int, g fop.GFID) bool {
	a, x, err := d.children[k].Lookup(ctx, loc, fop.Dict{LinktoKey: nil})
	if fop.Errno(err) == syscall.ENOENT {
		return true
	}
	if err != nil || !isLinkto(&a, x) || a.GFID != g || a.Size != 0 {
		return false
	}
	_, err = d.children[k].Unlink(ctx, loc)
	if err != nil && fop.Errno(err) != syscall.ENOENT {
		d.log.Warn("removing linkto failed", "path", loc.Path, "on", d.names[k], "err", err)
		return false
	}
	return true
}

// trustsMisses reports whether a miss on the hashed child may be final
// (lookup-optimize, or lookup-unhashed auto, GlusterFS's older form).
func (d *DHT) trustsMisses() bool {
	return d.lookupUnhashed != "off" && (d.lookupOptimize || d.lookupUnhashed == "auto")
}
