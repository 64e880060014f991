// Package volfile reads and writes GlusterFS's volume-file grammar:
//
//	volume NAME
//	    type CATEGORY/KIND
//	    option KEY VALUE
//	    subvolumes CHILD...
//	end-volume
//
// A volfile lists a graph's layers children first; the last volume is the
// top of the graph. glusterd writes volfiles (internal/volgen) and the
// client and brick processes read them (internal/graph builds the layers).
package volfile

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Option is one "option KEY VALUE" line.
type Option struct {
	Key   string
	Value string
}

// Volume is one layer of the graph.
type Volume struct {
	Name       string
	Type       string
	Options    []Option
	Subvolumes []string
}

// Option returns the value of key and whether it is set.
func (v *Volume) Option(key string) (string, bool) {
	for _, o := range v.Options {
		if o.Key == key {
			return o.Value, true
		}
	}
	return "", false
}

// SetOption sets key, replacing an earlier value.
func (v *Volume) SetOption(key, value string) {
	for i := range v.Options {
		if v.Options[i].Key == key {
			v.Options[i].Value = value
			return
		}
	}
	v.Options = append(v.Options, Option{key, value})
}

// File is a parsed volfile.
type File struct {
	Volumes []*Volume
}

// Top returns the last volume, the graph's top, or nil for an empty file.
func (f *File) Top() *Volume {
	if len(f.Volumes) == 0 {
		return nil
	}
	return f.Volumes[len(f.Volumes)-1]
}

// Volume returns the volume called name, or nil.
func (f *File) Volume(name string) *Volume {
	for _, v := range f.Volumes {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Limits that keep a hostile or corrupt volfile from exhausting memory.
const (
	maxLine    = 64 << 10
	maxVolumes = 4096
)

// Parse reads a volfile. It checks the grammar and that every subvolume
// names a volume defined earlier in the file.
func Parse(r io.Reader) (*File, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	f := &File{}
	defined := map[string]bool{}
	var cur *Volume
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		errf := func(format string, a ...any) error {
			return fmt.Errorf("volfile line %d: %s", lineNo, fmt.Sprintf(format, a...))
		}
		switch fields[0] {
		case "volume":
			if cur != nil {
				return nil, errf("volume %q inside volume %q (missing end-volume)", strings.Join(fields[1:], " "), cur.Name)
			}
			if len(fields) != 2 {
				return nil, errf("want \"volume NAME\"")
			}
			if defined[fields[1]] {
				return nil, errf("volume %q defined twice", fields[1])
			}
			if len(f.Volumes) >= maxVolumes {
				return nil, errf("more than %d volumes", maxVolumes)
			}
			cur = &Volume{Name: fields[1]}
		case "type":
			if cur == nil {
				return nil, errf("\"type\" outside a volume")
			}
			if len(fields) != 2 {
				return nil, errf("want \"type CATEGORY/KIND\"")
			}
			cur.Type = fields[1]
		case "option":
			if cur == nil {
				return nil, errf("\"option\" outside a volume")
			}
			if len(fields) < 2 {
				return nil, errf("want \"option KEY VALUE\"")
			}
			// The value is the rest of the line, as GlusterFS allows spaces.
			val := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line[len("option"):]), fields[1]))
			cur.SetOption(fields[1], val)
		case "subvolumes":
			if cur == nil {
				return nil, errf("\"subvolumes\" outside a volume")
			}
			for _, s := range fields[1:] {
				if !defined[s] {
					return nil, errf("volume %q: subvolume %q is not defined before it", cur.Name, s)
				}
				cur.Subvolumes = append(cur.Subvolumes, s)
			}
		case "end-volume":
			if cur == nil {
				return nil, errf("end-volume without volume")
			}
			if cur.Type == "" {
				return nil, errf("volume %q has no type", cur.Name)
			}
			defined[cur.Name] = true
			f.Volumes = append(f.Volumes, cur)
			cur = nil
		default:
			return nil, errf("unknown keyword %q", fields[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("volfile: %w", err)
	}
	if cur != nil {
		return nil, fmt.Errorf("volfile: volume %q has no end-volume", cur.Name)
	}
	if len(f.Volumes) == 0 {
		return nil, fmt.Errorf("volfile: no volumes")
	}
	return f, nil
}

// String formats f in GlusterFS's layout.
func (f *File) String() string {
	var b strings.Builder
	for i, v := range f.Volumes {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "volume %s\n", v.Name)
		fmt.Fprintf(&b, "    type %s\n", v.Type)
		for _, o := range v.Options {
			fmt.Fprintf(&b, "    option %s %s\n", o.Key, o.Value)
		}
		if len(v.Subvolumes) > 0 {
			fmt.Fprintf(&b, "    subvolumes %s\n", strings.Join(v.Subvolumes, " "))
		}
		b.WriteString("end-volume\n")
	}
	return b.String()
}
