package afr

import (
	"context"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Lookup asks every replica, checks that they agree on the object's
// identity, judges from the changelog which replicas are good to read, and
// starts a background heal when anything is pending or missing.
func (r *AFR) Lookup(ctx context.Context, loc *fop.Loc, xreq fop.Dict) (fop.Attr, fop.Dict, error) {
	v := r.view()
	up := r.upSet()
	attrs := make([]fop.Attr, len(r.children))
	xs := make([]fop.Dict, len(r.children))
	errs := r.each(up, func(i int, c fop.Layer) error {
		var err error
		attrs[i], xs[i], err = c.Lookup(ctx, loc, r.changelogKeys(xreq))
		return err
	})
	ok := make([]bool, len(errs))
	ref := -1
	missing := false
	for i, err := range errs {
		ok[i] = up[i] && err == nil
		if ok[i] && ref < 0 {
			ref = i
		}
		missing = missing || (up[i] && fop.Errno(err) == syscall.ENOENT)
	}
	if ref < 0 {
		return fop.Attr{}, nil, pickErr(errs, up)
	}
	for i := range ok {
		if ok[i] && (attrs[i].GFID != attrs[ref].GFID || attrs[i].Type() != attrs[ref].Type()) {
			r.log.Error("gfid or type mismatch between replicas: split-brain of the entry",
				"path", loc.Path, "name", loc.Name, "gfid", attrs[ref].GFID, "other", attrs[i].GFID, "child", i)
			return fop.Attr{}, nil, syscall.EIO
		}
	}
	a := attrs[ref]
	mx := r.readMatrix(xs, ok)
	r.judge(a.GFID, a.IsDir(), mx, v)
	rc := r.readChild(a.GFID, false)
	if rc >= 0 {
		ref = rc
	}
	held := r.holding(a.GFID)
	for i := range mx.dirty {
		switch {
		case held:
			mx.dirty[i] = counters{} // this client's own transaction in flight
		case a.IsDir():
			// Another client's eager entry transaction, most likely (a
			// directory is dirty while someone creates in it): a heal
			// now would wait for it and list the directory for nothing.
			// Missing names heal by name; the daemon heals the rest.
			mx.dirty[i][entryTxn] = 0
		}
	}
	if r.healOnAccess(mx, a.IsDir()) {
		if held {
			// The heal would wait for this client's own lock.
			go func() {
				r.endHeld(a.GFID, a.IsDir())
				r.healLater(a.GFID)
			}()
		} else {
			r.healLater(a.GFID)
		}
	}
	if missing && !loc.Parent.IsZero() {
		r.background(loc.Parent, r.healName)
	}
	out := r.stripChangelog(xs[ref], xreq)
	if rc < 0 {
		// No replica's data can be trusted (split-brain, or only the
		// arbiter answered): content fetched with the lookup for
		// quick-read would get past the EIO a read gets.
		delete(out, fop.ContentKey)
	}
	return attrs[ref], out, nil
}

// healOnAccess reports whether a lookup starts a heal: something is
// pending of a type whose client-side self-heal option is on
// (cluster.data-self-heal, metadata-self-heal, entry-self-heal). The
// self-heal daemon heals the rest.
func (r *AFR) healOnAccess(mx *matrix, dir bool) bool {
	o := r.o()
	content, on := dataTxn, o.selfHealData
	if dir {
		content, on = entryTxn, o.selfHealEnt
	}
	return (mx.needsHeal(metadataTxn) && o.selfHealMeta) || (mx.needsHeal(content) && on)
}

// refresh reads the changelog of g on the replicas that are up and judges
// them again (GlusterFS's inode refresh). It reports whether it could.
func (r *AFR) refresh(ctx context.Context, g fop.GFID) bool {
	v := r.view()
	attrs, xs, ok, err := r.lookupAll(internalCtx(ctx, newOwner()), &fop.Loc{GFID: g}, r.upSet())
	if err != nil {
		return false
	}
	r.judge(g, attrs[firstTrue(ok)].IsDir(), r.readMatrix(xs, ok), v)
	return true
}

// healName heals directory dir after a lookup found one of its names on
// some replicas and not on others: by the directory's changelog when it
// has one, else (an optimistic entry transaction cut short) by giving
// every replica the names the others have, as GlusterFS's name heal does.
func (r *AFR) healName(ctx context.Context, dir fop.GFID) error {
	st, err := r.Inspect(ctx, dir)
	if err != nil {
		return err
	}
	if st.Pending {
		return r.Heal(ctx, dir)
	}
	_, err = r.mergeEntries(ctx, dir)
	return err
}
