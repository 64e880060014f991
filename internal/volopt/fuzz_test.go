package volopt

import "testing"

// FuzzValidate checks that validation never panics and that a stored
// (normalized) value validates to itself, so "volume set" of a value read
// back from "volume get" is a no-op.
func FuzzValidate(f *testing.F) {
	for _, s := range [][2]string{
		{"network.ping-timeout", "42"}, {"cache-size", "128mb"}, {"auth.allow", "10.*, 192.168.1.0/24"},
		{"cluster.min-free-disk", "10%"}, {"performance.flush-behind", "Off"}, {"cluster.quorum-type", "AUTO"},
		{"storage.owner-uid", "-1"}, {"diagnostics.client-log-level", "trace"}, {"x", "y"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		full, norm, err := Validate(key, value)
		if err != nil {
			return
		}
		full2, norm2, err := Validate(full, norm)
		if err != nil || full2 != full || norm2 != norm {
			t.Fatalf("Validate(%q, %q) = %q, %q; again: %q, %q, %v", key, value, full, norm, full2, norm2, err)
		}
	})
}
