package volfetch

import (
	"fmt"
	"path"
	"strings"

	"github.com/gluster-go/gluster-go/internal/volfile"
)

// Override is one --xlator-option: it sets KEY to VALUE on every volume of
// the graph whose name matches PATTERN (shell wildcards, as GlusterFS's
// "*-replicate-*.data-self-heal=off").
type Override struct {
	Pattern, Key, Value string
}

// ParseOverride parses "PATTERN.KEY=VALUE"; volume names have no dots,
// keys may.
func ParseOverride(s string) (Override, error) {
	lhs, val, ok := strings.Cut(s, "=")
	pat, key, dot := strings.Cut(lhs, ".")
	if !ok || !dot || pat == "" || key == "" {
		return Override{}, fmt.Errorf("xlator option %q: want VOLUME.KEY=VALUE", s)
	}
	if _, err := path.Match(pat, ""); err != nil {
		return Override{}, fmt.Errorf("xlator option %q: %w", s, err)
	}
	return Override{Pattern: pat, Key: key, Value: val}, nil
}

// Apply sets the overrides on f's volumes.
func Apply(f *volfile.File, ovs []Override) {
	for _, o := range ovs {
		for _, v := range f.Volumes {
			if ok, _ := path.Match(o.Pattern, v.Name); ok {
				v.SetOption(o.Key, o.Value)
			}
		}
	}
}
