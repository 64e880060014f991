// Package rpc is the wire protocol between protocol/client (the bottom of a
// client's layer graph) and protocol/server (the top of a brick's graph).
//
// One TCP connection carries many calls at once: each call frame has a
// request id, the server answers in any order, and a reader goroutine on
// each side hands replies to the waiting callers. A writer goroutine per
// connection batches queued frames into one writev. Bulk data (write and
// read payloads) travels after the encoded message and is written from, and
// read into, the caller's own buffer.
//
// The frame and message formats are documented in docs/wire-protocol.md.
// Every decoder checks lengths against fixed limits before allocating, so a
// malformed or hostile peer gets an error, never a panic or a huge
// allocation.
package rpc
