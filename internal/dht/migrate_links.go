package dht

import (
	"context"
	"fmt"
	"syscall"

	"github.com/gluster-go/gluster-go/internal/fop"
)

// Hard links (remove-brick only, as GlusterFS's gf_defrag_handle_hardlink):
// every name of a file must end up on one child, T, or the names would
// stop sharing the file. The first name the crawl meets picks T (its
// hashed child) and records it in the source's linkto xattr; each name met
// is then linked on T to the file's GFID (a linkto file until the data
// arrives). When T holds as many names as the source, the data moves
// with the usual migration, and the source, still named by the other
// names, becomes a linkto file to T. While a brick is being removed this
// applies to every brick's hard links, as in GlusterFS; a plain rebalance
// skips them.

// linksDomain serializes the handling of one file's names (crawl workers
// and nodes may meet several at once).
const linksDomain = "dht.migrate.links"

// removing reports whether a child is being removed.
func (d *DHT) removing() bool {
	for i := range d.children {
		if d.isDecommissioned(i) {
			return true
		}
	}
	return false
}

// migrateLinked handles one name (loc, on src) of a file with several;
// dst is the name's hashed child.
func (d *DHT) migrateLinked(ctx context.Context, loc *fop.Loc, src, dst int, force bool) (bool, int64, error) {
	sc := d.children[src]
	gl := &fop.Loc{Parent: loc.Parent, Name: loc.Name, Path: loc.Path}
	sa, sx, err := sc.Lookup(ctx, gl, fop.Dict{LinktoKey: nil})
	if err != nil {
		return false, 0, fmt.Errorf("migrate %s: lookup on %s: %w", loc.Path, d.names[src], err)
	}
	g := sa.GFID
	lk := &fop.Loc{GFID: g, Path: loc.Path}
	owner := lockOwner()
	if err := sc.Inodelk(ctx, linksDomain, lk, fop.SetLkW, &fop.Flock{Type: syscall.F_WRLCK, Owner: owner}); err != nil {
		return false, 0, fmt.Errorf("migrate %s: lock: %w", loc.Path, err)
	}
	defer sc.Inodelk(context.WithoutCancel(ctx), linksDomain, lk, fop.SetLkW, &fop.Flock{Type: syscall.F_UNLCK, Owner: owner})
	// Again under the lock: another worker may have just moved it.
	if sa, sx, err = sc.Lookup(ctx, gl, fop.Dict{LinktoKey: nil}); err != nil || sa.GFID != g || isLinkto(&sa, sx) {
		return false, 0, err
	}
	t := d.childIndex(linktoTarget(sx))
	if t < 0 || t == src {
		t = dst
		if err := sc.Setxattr(ctx, lk, fop.Dict{LinktoKey: append([]byte(d.names[t]), 0)}, 0); err != nil {
			return false, 0, fmt.Errorf("migrate %s: record target: %w", loc.Path, err)
		}
	}
	if !d.isUp(t) {
		return false, 0, fmt.Errorf("migrate %s: %w", loc.Path, syscall.ENOTCONN)
	}
	if !force && d.overFull(t) {
		return false, 0, fmt.Errorf("migrate %s: %s is below min-free-disk: %w", loc.Path, d.names[t], ErrSkip)
	}
	if err := d.linkOn(ctx, loc, g, src, t); err != nil {
		return false, 0, err
	}
	if dst != t && dst != src && !d.isDecommissioned(dst) {
		// The name's hashed child leads lookups to T from now on.
		lloc := *loc
		lloc.GFID = g
		if err := d.makeLinkto(ctx, dst, &lloc, t, nil); err != nil {
			d.log.Info("migrate: linkto for a hard link not made; lookups look everywhere", "path", loc.Path, "on", d.names[dst], "err", err)
		}
	}
	ta, _, err := d.children[t].Lookup(ctx, &fop.Loc{GFID: g, Path: loc.Path}, nil)
	if err != nil {
		return false, 0, fmt.Errorf("migrate %s: lookup on %s: %w", loc.Path, d.names[t], err)
	}
	if ta.Nlink < sa.Nlink {
		return false, 0, nil // the other names' turn comes in the crawl
	}
	m := &migration{d: d, loc: loc, gfid: g, src: src, dst: t, orig: sa}
	n, err := m.run(ctx)
	if err != nil {
		return false, n, err
	}
	return true, n, d.sourceToLinkto(ctx, lk, src, t)
}

// linkOn makes name loc on child t a name of the file g: a new linkto file
// (to src) or a hard link to the one the file's other names already have.
func (d *DHT) linkOn(ctx context.Context, loc *fop.Loc, g fop.GFID, src, t int) error {
	tc := d.children[t]
	a, x, err := tc.Lookup(ctx, loc, fop.Dict{LinktoKey: nil})
	switch {
	case err == nil && a.GFID == g:
		return nil
	case err == nil && isLinkto(&a, x) && a.Size == 0:
		// A stale linkto of another file by this name.
		if _, err := tc.Unlink(ctx, loc); err != nil && fop.Errno(err) != syscall.ENOENT {
			return fmt.Errorf("migrate %s: replace stale linkto on %s: %w", loc.Path, d.names[t], err)
		}
	case err == nil:
		return fmt.Errorf("migrate %s: %s holds another file by that name: %w", loc.Path, d.names[t], ErrSkip)
	case fop.Errno(err) != syscall.ENOENT:
		return fmt.Errorf("migrate %s: lookup on %s: %w", loc.Path, d.names[t], err)
	}
	gl := &fop.Loc{GFID: g, Path: loc.Path}
	if _, _, err := tc.Lookup(ctx, gl, nil); err == nil {
		_, _, err = tc.Link(ctx, gl, loc)
		if err != nil && fop.Errno(err) != syscall.EEXIST {
			return fmt.Errorf("migrate %s: link on %s: %w", loc.Path, d.names[t], err)
		}
		return nil
	}
	nl := *loc
	nl.GFID = g
	if _, _, err := tc.Mknod(ctx, &nl, linktoMode, 0, 0, fop.Dict{LinktoKey: append([]byte(d.names[src]), 0)}); err != nil {
		return fmt.Errorf("migrate %s: create on %s: %w", loc.Path, d.names[t], err)
	}
	return nil
}

// sourceToLinkto turns the source's file, which the file's other names
// still name on src, into a linkto to t once the data is there. Clients
// with the file open on src see linkto mode as the end of a migration
// (see migrating) and move to t.
func (d *DHT) sourceToLinkto(ctx context.Context, lk *fop.Loc, src, t int) error {
	sc := d.children[src]
	if _, err := sc.Setattr(ctx, lk, &fop.SetAttr{Valid: fop.SetMode, Mode: syscall.S_ISVTX}); err != nil {
		if fop.Errno(err) == syscall.ENOENT {
			return nil
		}
		return fmt.Errorf("migrate %s: source to linkto: %w", lk.Path, err)
	}
	if _, err := sc.Truncate(ctx, lk, 0); err != nil {
		return fmt.Errorf("migrate %s: source to linkto: %w", lk.Path, err)
	}
	if err := sc.Removexattr(ctx, lk, modeKey); err != nil && fop.Errno(err) != syscall.ENODATA {
		return fmt.Errorf("migrate %s: source to linkto: %w", lk.Path, err)
	}
	return nil
}
