package afr

import (
	"context"
	"sort"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// HealFull heals the whole tree under directory dir, changelog or not
// (`gluster volume heal VOL full`, and a new replica after add-brick):
// each directory is healed, then given every name some replica has and
// another lacks (a conservative merge: nothing is deleted without a
// changelog that says so), then each entry is healed. visit sees every
// object with the result of its heal.
func (r *AFR) HealFull(ctx context.Context, dir fop.GFID, visit func(g fop.GFID, err error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	visit(dir, r.Heal(ctx, dir))
	ents, err := r.mergeEntries(ctx, dir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(ents))
	for n := range ents {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := ents[n].Attr
		if a.IsDir() {
			if err := r.HealFull(ctx, a.GFID, visit); err != nil {
				return err
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		visit(a.GFID, r.Heal(ctx, a.GFID))
	}
	return nil
}

// mergeEntries creates on each replica that is up the names of dir it
// lacks, copying them from a replica that has them, under the
// directory's entry lock. It returns the union of the entries.
func (r *AFR) mergeEntries(ctx context.Context, dir fop.GFID) (map[string]fop.DirEntry, error) {
	ictx := internalCtx(ctx, newOwner())
	loc := &fop.Loc{GFID: dir}
	spec := lockSpec{entries: []entryLock{{dir: loc, name: ""}}, domain: r.dataDomain()}
	locked := r.lock(ictx, spec, r.upSet())
	defer r.unlock(ictx, spec, locked)
	lists := make([]map[string]fop.DirEntry, len(r.children))
	errs := r.each(locked, func(i int, c fop.Layer) error {
		var err error
		lists[i], err = listDir(ictx, c, dir)
		return err
	})
	union := map[string]fop.DirEntry{}
	holder := map[string]int{}
	for i, l := range lists {
		if errs[i] != nil {
			continue
		}
		for n, e := range l {
			if _, ok := union[n]; !ok {
				union[n], holder[n] = e, i
			}
		}
	}
	if len(holder) == 0 && count(locked) > 0 && firstError(errs, locked) != nil {
		return nil, firstError(errs, locked)
	}
	for n, e := range union {
		for i, l := range lists {
			if errs[i] != nil || !locked[i] {
				continue
			}
			if _, ok := l[n]; ok {
				continue
			}
			err := r.recreate(ictx, holder[n], i, dir, n, e.Attr)
			if err != nil && fop.Errno(err) != syscall.EEXIST {
				r.log.Warn("full heal: create failed", "dir", dir, "name", n, "child", i, "err", err)
			}
		}
	}
	return union, nil
}

// AccuseMissing records on the replicas of g that are up and not in
// missing that those in missing lack g's metadata and entries, as a
// replica added empty does: the index then lists g, and entry heals
// recreate the tree below it there, marking each object they create.
func (r *AFR) AccuseMissing(ctx context.Context, g fop.GFID, missing []bool) error {
	up := r.upSet()
	holders := make([]bool, len(up))
	for i := range up {
		holders[i] = up[i] && !missing[i]
	}
	if count(holders) == 0 {
		return syscall.ENOTCONN
	}
	ictx := internalCtx(ctx, newOwner())
	loc := &fop.Loc{GFID: g}
	errs := r.each(holders, func(i int, c fop.Layer) error {
		// Every key goes in (see postOp) so that the index sees them all.
		x := fop.Dict{DirtyKey: delta(dataTxn, 0)}
		for j, key := range r.keys {
			if missing[j] {
				x[key] = counters{0, 1, 1}.encode()
			} else {
				x[key] = delta(dataTxn, 0)
			}
		}
		_, err := c.Xattrop(ictx, loc, fop.XattropAddArray32, x)
		return err
	})
	return firstError(errs, holders)
}
