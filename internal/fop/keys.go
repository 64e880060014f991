package fop

import "strconv"

// ContentKey, in a Lookup's xreq, asks the storage layer to return a
// regular file's whole content in the reply under the same key, when the
// file is at most as large as the key's value (ContentLimit). quick-read
// uses it so that reading a small file costs no round trip beyond its
// lookup (GlusterFS's GF_CONTENT_KEY).
const ContentKey = "glusterfs.content"

// ContentLimit encodes the size limit of a ContentKey request.
func ContentLimit(max uint64) []byte { return strconv.AppendUint(nil, max, 10) }

// ParseContentLimit decodes a ContentKey request; ok is false for a
// malformed value.
func ParseContentLimit(v []byte) (max uint64, ok bool) {
	n, err := strconv.ParseUint(string(v), 10, 64)
	return n, err == nil
}

// MaxContent is the largest content a lookup may carry: the wire's largest
// dict value.
const MaxContent = 64 << 10

// PreopParentKey, in the xdata of an entry-creating call (create, mknod,
// symlink) or the xreq of a Lookup, names an xattr K of the parent
// directory; xdata[K] holds the value the caller placed the name by (DHT
// and its layout, GlusterFS's GF_PREOP_PARENT_KEY). If the parent's K
// differs on the brick, the call fails with ESTALE and creates nothing, and
// a lookup that misses fails with ESTALE instead of ENOENT: the caller's
// copy is stale. Neither key is stored on a new object.
const PreopParentKey = "glusterfs.preop.parent.key"

// PreopParent returns the xattr name and value of a PreopParentKey
// request in xdata.
func PreopParent(xdata Dict) (name string, want []byte, ok bool) {
	k, ok := xdata[PreopParentKey]
	if !ok {
		return "", nil, false
	}
	want, ok = xdata[string(k)]
	return string(k), want, ok
}
