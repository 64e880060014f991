// Package fuse is the FUSE front end of a client graph: a thin adapter from
// go-fuse's raw protocol API to the top fop.Layer of a volume graph (the
// layer the glusterfs process builds from the client volfile).
//
// The adapter keeps only what FUSE needs and the layers do not: an inode
// table that maps the kernel's node ids to GFIDs (with the kernel's lookup
// counts, so Forget drops entries) and remembers each node's parent and name
// to build Loc values, and a handle table that maps FUSE file handles to
// *fop.FD. Every request runs as the calling process (fop.WithCaller), new
// objects get their GFID here (so every replica agrees), errors become one
// errno through fop.Errno, and trusted.* xattrs, which carry the volume's
// internal state, are invisible and immutable through the mount.
package fuse
