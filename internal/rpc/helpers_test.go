package rpc

import "github.com/gluster-go/gluster-go/internal/fop"

// Byte-slice forms of the codecs, for tests.

func encodeRequest(b []byte, p Proc, c *fop.Caller, r *Request) ([]byte, error) {
	e := encoder{b: b}
	err := appendRequest(&e, p, c, r)
	return e.b, err
}

func parseRequest(b []byte, p Proc, c *fop.Caller, r *Request) error {
	return decodeRequest(&decoder{b: b}, p, c, r)
}

func encodeResponse(b []byte, p Proc, r *Response) ([]byte, error) {
	e := encoder{b: b}
	err := appendResponse(&e, p, r)
	return e.b, err
}

func parseResponse(b []byte, p Proc, r *Response) error {
	return decodeResponse(&decoder{b: b}, p, r)
}
