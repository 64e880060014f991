package rpc

import "fmt"

// Hello is the first frame a client sends: who it is and which brick it
// wants. The server answers with a HelloReply frame whose status is 0, or
// an errno with the reason as the message.
type Hello struct {
	Version  uint32 // protocol version, Version
	Volume   string // the volume the client mounts
	Brick    string // the brick (remote-subvolume) it wants
	Process  string // the client process's uuid
	Hostname string
	PID      uint32
}

func appendHello(b []byte, h *Hello) []byte {
	e := encoder{b: b}
	e.u32(h.Version)
	e.str(h.Volume)
	e.str(h.Brick)
	e.str(h.Process)
	e.str(h.Hostname)
	e.u32(h.PID)
	return e.b
}

func decodeHello(b []byte, h *Hello) error {
	d := decoder{b: b}
	h.Version = d.u32()
	h.Volume = d.str(MaxName, "volume")
	h.Brick = d.str(MaxName, "brick")
	h.Process = d.str(MaxName, "process")
	h.Hostname = d.str(MaxName, "hostname")
	h.PID = d.u32()
	if err := d.end(); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	return nil
}
