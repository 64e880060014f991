// Package dht is the distribute layer ("cluster/distribute"): it spreads a
// volume's files over its subvolumes by hashing each basename onto a 32-bit
// ring split into per-directory ranges (the layout stored in
// trusted.glusterfs.dht), exactly as GlusterFS does.
package dht
