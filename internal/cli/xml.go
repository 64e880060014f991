package cli

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// xmlWriter writes GlusterFS's --xml documents, indented as libxml2's
// pretty printer does (two spaces, empty elements as <x/>).
type xmlWriter struct {
	b     strings.Builder
	depth int
}

func (x *xmlWriter) indent() { x.b.WriteString(strings.Repeat("  ", x.depth)) }

func (x *xmlWriter) open(name string) {
	x.indent()
	fmt.Fprintf(&x.b, "<%s>\n", name)
	x.depth++
}

func (x *xmlWriter) close(name string) {
	x.depth--
	x.indent()
	fmt.Fprintf(&x.b, "</%s>\n", name)
}

func (x *xmlWriter) leaf(name string, v any) {
	x.indent()
	s := fmt.Sprint(v)
	if s == "" {
		fmt.Fprintf(&x.b, "<%s/>\n", name)
		return
	}
	fmt.Fprintf(&x.b, "<%s>", name)
	xml.EscapeText(&x.b, []byte(s))
	fmt.Fprintf(&x.b, "</%s>\n", name)
}

// xmlResult prints <cliOutput> with the common opRet/opErrno/opErrstr
// elements and whatever body adds.
func (s *session) xmlResult(ret, errno int, errstr string, body func(*xmlWriter)) {
	x := &xmlWriter{}
	x.b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n")
	x.open("cliOutput")
	x.leaf("opRet", ret)
	x.leaf("opErrno", errno)
	x.leaf("opErrstr", errstr)
	if body != nil {
		body(x)
	}
	x.close("cliOutput")
	fmt.Fprint(s.out, x.b.String())
}
