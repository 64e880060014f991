package dht

import (
	"encoding/binary"
	"regexp"
)

// Davies-Meyer construction over a TEA-like round function: GlusterFS's
// gf_dm_hashfn, which places every file on the 32-bit ring. It must be
// bit-exact, or files land on other bricks than GlusterFS puts them.
const (
	dmDelta      = 0x9E3779B9
	dmFullRounds = 10
	dmPartRounds = 6
)

func dmRound(rounds int, a *[4]uint32, h0, h1 *uint32) {
	var sum uint32
	b0, b1 := *h0, *h1
	for n := 0; n < rounds; n++ {
		sum += dmDelta
		b0 += ((b1 << 4) + a[0]) ^ (b1 + sum) ^ ((b1 >> 5) + a[1])
		b1 += ((b0 << 4) + a[2]) ^ (b0 + sum) ^ ((b0 >> 5) + a[3])
	}
	*h0 += b0
	*h1 += b1
}

// Hash is gf_dm_hashfn of name. Whole 16-byte blocks are read as native
// (little-endian) words; the tail is padded with the length and its bytes
// shifted in as C's signed char, which sign-extends bytes >= 0x80 — kept on
// purpose, as GlusterFS on x86 computes it so.
func Hash(name []byte) uint32 {
	h0, h1 := uint32(0x9464a485), uint32(0x542e1a94)
	n := len(name)
	pad := uint32(n) | uint32(n)<<8
	pad |= pad << 16

	var a [4]uint32
	words := n / 4
	p := 0
	for q := 0; q < n/16; q++ {
		for j := 0; j < 4; j++ {
			a[j] = binary.LittleEndian.Uint32(name[p:])
			p += 4
			words--
		}
		dmRound(dmPartRounds, &a, &h0, &h1)
	}
	for j := 0; j < 4; j++ {
		if words > 0 {
			a[j] = binary.LittleEndian.Uint32(name[p:])
			p += 4
			words--
			continue
		}
		a[j] = pad
		for ; p < n; p++ {
			a[j] = a[j]<<8 | uint32(int32(int8(name[p])))
		}
	}
	dmRound(dmFullRounds, &a, &h0, &h1)
	return h0 ^ h1
}

// rsyncTemp matches rsync's temporary names ".name.XXXXXX"; GlusterFS's
// default cluster.rsync-hash-regex hashes them as the final name so the
// rename at the end of a transfer does not move data between bricks.
var rsyncTemp = regexp.MustCompile(`^\.(.+)\.[^.]+$`)

// HashName returns the ring position of a file name, as DHT computes it.
func HashName(name string) uint32 {
	if m := rsyncTemp.FindStringSubmatch(name); m != nil {
		name = m[1]
	}
	return Hash([]byte(name))
}
