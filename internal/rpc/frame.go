package rpc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Kind says what a frame is.
type Kind uint8

// Frame kinds.
const (
	KindCall Kind = iota + 1
	KindReply
	KindPing
	KindPong
	KindHello
	KindHelloReply
	// KindCancel asks the server to stop waiting in a call that may block
	// (a lock wait); the call is still answered.
	KindCancel
	// KindNotify is a message the server sends unasked (notify.go).
	KindNotify
)

// Wire limits. They bound what a decoder accepts and allocates.
const (
	HeaderSize     = 24
	Version        = 1
	MaxMessage     = 16 << 20 // encoded message bytes of one frame
	MaxPayload     = 16 << 20 // bulk bytes of one frame
	MaxFrame       = MaxMessage + HeaderSize
	MaxIO          = MaxPayload // largest read or write in one call
	MaxName        = 4096       // names, symlink targets, xattr keys, lock domains
	MaxPath        = 32 << 10   // a Loc's volume path (best effort: longer ones are left out)
	MaxXattrValue  = 64 << 10
	MaxDictEntries = 4096
	MaxDirEntries  = 4096
	MaxGroups      = 65536
	MaxChecksum    = 64 // strong checksum bytes
)

// FlagNoReply in a call's status asks the server to send no reply: the
// sender drops it anyway (ClientConn.Send). Servers that predate the flag
// ignore the field and answer.
const FlagNoReply uint32 = 1

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed frame")

// Header is the fixed part of every frame:
//
//	0  u32 message length   4  u32 payload length   8  u64 request id
//	16 u8  kind             17 u8  version          18 u16 procedure
//	20 u32 status (errno of a reply, 0 = success; flags of a call)
//
// All integers are little-endian. The message follows the header, the
// payload (bulk data) follows the message.
type Header struct {
	MsgLen     uint32
	PayloadLen uint32
	ID         uint64
	Kind       Kind
	Proc       Proc
	Status     uint32
}

// put encodes h into b, which must hold HeaderSize bytes.
func (h *Header) put(b []byte) {
	_ = b[HeaderSize-1]
	binary.LittleEndian.PutUint32(b[0:], h.MsgLen)
	binary.LittleEndian.PutUint32(b[4:], h.PayloadLen)
	binary.LittleEndian.PutUint64(b[8:], h.ID)
	b[16] = byte(h.Kind)
	b[17] = Version
	binary.LittleEndian.PutUint16(b[18:], uint16(h.Proc))
	binary.LittleEndian.PutUint32(b[20:], h.Status)
}

// ParseHeader decodes and checks a frame header.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderSize {
		return h, fmt.Errorf("frame header: %d bytes: %w", len(b), ErrMalformed)
	}
	h.MsgLen = binary.LittleEndian.Uint32(b[0:])
	h.PayloadLen = binary.LittleEndian.Uint32(b[4:])
	h.ID = binary.LittleEndian.Uint64(b[8:])
	h.Kind = Kind(b[16])
	h.Proc = Proc(binary.LittleEndian.Uint16(b[18:]))
	h.Status = binary.LittleEndian.Uint32(b[20:])
	switch {
	case b[17] != Version:
		return h, fmt.Errorf("frame header: version %d: %w", b[17], ErrMalformed)
	case h.Kind < KindCall || h.Kind > KindNotify:
		return h, fmt.Errorf("frame header: kind %d: %w", h.Kind, ErrMalformed)
	case h.MsgLen > MaxMessage:
		return h, fmt.Errorf("frame header: message of %d bytes: %w", h.MsgLen, ErrMalformed)
	case h.PayloadLen > MaxPayload:
		return h, fmt.Errorf("frame header: payload of %d bytes: %w", h.PayloadLen, ErrMalformed)
	case h.PayloadLen > 0 && h.Kind != KindCall && h.Kind != KindReply:
		return h, fmt.Errorf("frame header: payload on kind %d: %w", h.Kind, ErrMalformed)
	}
	return h, nil
}
