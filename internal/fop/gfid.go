package fop

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// GFID is the cluster-wide identity of a file system object.
type GFID [16]byte

// RootGFID is the GFID of every volume's root directory, as in GlusterFS.
var RootGFID = GFID{15: 1}

// NewGFID returns a random (version 4) GFID.
func NewGFID() GFID {
	var g GFID
	if _, err := rand.Read(g[:]); err != nil {
		panic("fop: no randomness: " + err.Error())
	}
	g[6] = (g[6] & 0x0f) | 0x40
	g[8] = (g[8] & 0x3f) | 0x80
	return g
}

// IsZero reports whether g is the null GFID (unknown or not yet assigned).
func (g GFID) IsZero() bool { return g == GFID{} }

// String formats g as a canonical UUID.
func (g GFID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], g[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], g[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], g[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], g[8:10])
	b[23] = '-'
	hex.Encode(b[24:], g[10:])
	return string(b[:])
}

// ParseGFID parses a canonical UUID string.
func ParseGFID(s string) (GFID, error) {
	var g GFID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, fmt.Errorf("parse gfid %q: not a UUID", s)
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if _, err := hex.Decode(g[:], []byte(h)); err != nil {
		return g, fmt.Errorf("parse gfid %q: %w", s, err)
	}
	return g, nil
}
