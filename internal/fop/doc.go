// Package fop defines the layer interface that every part of the data path
// implements: the brick's storage and locking, the wire protocol's client and
// server ends, the cluster layers (distribute, replicate, disperse, stripe),
// the performance layers and the FUSE, NFS and gfapi front ends that sit on
// top of a graph.
//
// The model is GlusterFS's translator: a volume is a graph of layers described
// by a volfile; every layer offers the same file operations and passes what
// it does not handle to the layer below (embed Base to get that for free).
// Objects are addressed by GFID, a 16-byte UUID that is the same on every
// brick holding the object; entry operations also name the parent GFID and
// the basename, which is what distribute hashes on.
//
// Every call carries a context.Context with the caller's identity (see
// Caller): bricks check permissions as that user. Every modifying call
// returns the object's attributes after the change (and the parent's, for
// entry operations) so that caches above never need another round trip.
//
// Errors are syscall.Errno values, possibly wrapped; Errno turns any error
// into the one errno that the FUSE or NFS edge reports.
package fop
