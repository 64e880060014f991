package volopt

import (
	"fmt"
	"time"
)

// Layers read their volfile options with these: the value of key in opts,
// or def when it is not set; an error names the key.

// LayerBool reads an on/off option.
func LayerBool(opts map[string]string, key string, def bool) (bool, error) {
	s, ok := opts[key]
	if !ok {
		return def, nil
	}
	b, err := ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("option %s: %w", key, err)
	}
	return b, nil
}

// LayerSeconds reads a time option in whole seconds.
func LayerSeconds(opts map[string]string, key string, def time.Duration) (time.Duration, error) {
	s, ok := opts[key]
	if !ok {
		return def, nil
	}
	n, err := ParseTime(s)
	if err != nil {
		return 0, fmt.Errorf("option %s: %w", key, err)
	}
	return time.Duration(n) * time.Second, nil
}
