// Package posixtest is the POSIX conformance suite that every front end of
// gluster-go runs: the FUSE mount (test/e2e), and later NFS and gfapi mounts
// of every volume type. It checks what a program sees through the top of a
// layer graph, so a failure here names a behaviour, not a layer; the e2e tests
// then find the layer at fault.
//
// The suite is an ordered table (Tests) of functions that each work inside a
// fresh directory and check exact errnos as ext4 reports them. A plain local
// directory is the reference: `go test ./test/posixtest/` runs the table on
// t.TempDir() and must pass.
//
// Some checks need a second identity (a non-owner chmod, a stranger in a
// sticky directory, a lock held by another process). They re-execute the test
// binary as a child that performs one operation and reports its errno; the
// same mechanism runs the whole table as an unprivileged user (RunAsUser).
// A test binary that uses this package must therefore route TestMain through
// Main.
package posixtest
