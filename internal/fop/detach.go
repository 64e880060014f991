package fop

import "context"

type detachedKey struct{}

// WithDetached marks the call ctx carries as one whose caller does not wait
// for its outcome, such as a FUSE RELEASE (the kernel sends it without
// waiting for the reply): layers may return before the work is done and
// finish it in the background, reporting failures to their logs. A caller
// that must see the work done (gfapi's Close) does not set it.
func WithDetached(ctx context.Context) context.Context {
	return context.WithValue(ctx, detachedKey{}, true)
}

// Detached reports whether ctx was marked by WithDetached.
func Detached(ctx context.Context) bool {
	d, _ := ctx.Value(detachedKey{}).(bool)
	return d
}
