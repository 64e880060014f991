package fop

// Upcall says that what clients may have cached of an object is stale
// (GlusterFS's cache-invalidation upcall). A brick's features/upcall layer
// raises one for each client that recently looked at an object another
// client changed; it travels up the brick graph to protocol/server, over
// the wire, and up the client graph from protocol/client, where caches
// drop what they keep of GFID.
type Upcall struct {
	// Client is the connection to tell (brick side only; see
	// Caller.Client).
	Client string
	GFID   GFID
	Flags  UpcallFlags
	// Name is the entry of directory GFID that was added or removed
	// (UpcallEntry), when known.
	Name string
}

// UpcallFlags say what changed.
type UpcallFlags uint32

// Upcall flags.
const (
	// UpcallAttr: the object's attributes or data changed.
	UpcallAttr UpcallFlags = 1 << iota
	// UpcallXattr: its extended attributes changed.
	UpcallXattr
	// UpcallEntry: an entry of this directory was created, removed or
	// renamed (Name says which, when known).
	UpcallEntry
	// UpcallGone: the object was removed (its last link went).
	UpcallGone
	// UpcallReset (GFID zero): a brick connection went down or came up, or
	// the brick dropped notifications the client did not read in time;
	// changes may have gone unreported, so caches drop everything.
	UpcallReset
)

// UpcallNotifier is implemented by layers that react to their children's
// upcalls (caches drop what is stale, protocol/server sends them to their
// client). A layer that is not an UpcallNotifier passes them on to its
// parents unchanged; one that is passes them on itself if it should
// (graph.Args.EmitUpcall).
type UpcallNotifier interface {
	NotifyUpcall(child Layer, u *Upcall)
}
