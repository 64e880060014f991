package volopt

import (
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
)

// ParseBool reads a GlusterFS boolean: on/off, yes/no, true/false,
// enable/disable, 1/0, in any case.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on", "yes", "true", "enable", "1":
		return true, nil
	case "off", "no", "false", "disable", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a valid boolean value", s)
}

var sizeUnits = []struct {
	suffix string
	mult   uint64
}{
	{"PB", 1 << 50}, {"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10},
	{"P", 1 << 50}, {"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10},
	{"B", 1},
}

// ParseSize reads a byte size as GlusterFS does: a plain number of bytes or
// a number with a binary unit (KB, MB, GB, TB, PB; case-insensitive; the B
// may be left out).
func ParseSize(s string) (uint64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := uint64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || (mult > 1 && n > ^uint64(0)/mult) {
		return 0, fmt.Errorf("invalid number format %q", s)
	}
	return n * mult, nil
}

// ParsePercent reads 0..100 with an optional % sign.
func ParsePercent(s string) (float64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "%")
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || f > 100 {
		return 0, fmt.Errorf("invalid percentage %q", s)
	}
	return f, nil
}

// ParseTime reads whole seconds with an optional "s" suffix.
func ParseTime(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "s")
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid time format %q", s)
	}
	return n, nil
}

// normalize validates v for o and returns the value to store. Booleans and
// sizes keep the user's spelling (as GlusterFS shows them in volume info);
// readers use ParseBool and ParseSize.
func (o Option) normalize(v string) (string, error) {
	v = strings.TrimSpace(v)
	bad := func(what string) error {
		return fmt.Errorf("%q is not a valid %s value for option %s", v, what, o.Key)
	}
	outOfRange := func() error {
		return fmt.Errorf("'%s' in 'option %s %s' is out of range [%d - %d]", v, o.Key, v, o.Min, o.Max)
	}
	inRange := func(n int64) bool { return o.Min == 0 && o.Max == 0 || n >= o.Min && n <= o.Max }
	switch o.Kind {
	case Bool:
		if _, err := ParseBool(v); err != nil {
			return "", bad("boolean")
		}
		return strings.ToLower(v), nil
	case Int:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", fmt.Errorf("invalid number format %q in option %s", v, o.Key)
		}
		if !inRange(n) {
			return "", outOfRange()
		}
		return strconv.FormatInt(n, 10), nil
	case Time:
		n, err := ParseTime(v)
		if err != nil {
			return "", fmt.Errorf("invalid time format %q in option %s", v, o.Key)
		}
		if !inRange(n) {
			return "", outOfRange()
		}
		return strconv.FormatInt(n, 10), nil
	case Size:
		n, err := ParseSize(v)
		if err != nil {
			return "", fmt.Errorf("invalid number format %q in option %s", v, o.Key)
		}
		if !inRange(int64(min(n, 1<<62))) {
			return "", outOfRange()
		}
		return strings.ToUpper(v), nil
	case Percent:
		if _, err := ParsePercent(v); err != nil {
			return "", bad("percentage")
		}
		return v, nil
	case SizeOrPercent:
		if strings.HasSuffix(v, "%") {
			if _, err := ParsePercent(v); err != nil {
				return "", bad("percentage")
			}
			return v, nil
		}
		if _, err := ParseSize(v); err != nil {
			return "", bad("size or percentage")
		}
		return strings.ToUpper(v), nil
	case Enum:
		for _, c := range o.Values {
			if strings.EqualFold(c, v) {
				return c, nil
			}
		}
		return "", fmt.Errorf("option %s: %q is not valid (possible options are %s)", o.Key, v, strings.Join(o.Values, ", "))
	case AddrList:
		if err := ValidateAddrList(v); err != nil {
			return "", fmt.Errorf("option %s: %w", o.Key, err)
		}
		return strings.Join(splitList(v), ","), nil
	}
	return v, nil
}

func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ValidateAddrList checks an auth.allow/auth.reject value: a comma-separated
// list of IP addresses, wildcard patterns (192.168.*.*, 10.0.0.?), CIDR
// prefixes (10.0.0.0/8) or host names, or "*".
func ValidateAddrList(v string) error {
	items := splitList(v)
	if len(items) == 0 {
		return fmt.Errorf("empty address list")
	}
	for _, it := range items {
		if strings.Contains(it, "/") {
			if _, err := netip.ParsePrefix(it); err != nil {
				return fmt.Errorf("%q is not a valid CIDR prefix", it)
			}
			continue
		}
		for _, c := range it {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
				strings.ContainsRune(".-_:*?[]", c)
			if !ok {
				return fmt.Errorf("%q is not a valid internet address", it)
			}
		}
		if _, err := path.Match(it, ""); err != nil {
			return fmt.Errorf("%q is not a valid address pattern", it)
		}
	}
	return nil
}

// MatchAddr reports whether a client address (IP, or host name when the
// caller resolved one) matches an auth.allow/auth.reject list. Patterns
// use shell wildcards as GlusterFS's fnmatch does; CIDR prefixes match by
// containment.
func MatchAddr(list, addr string) bool {
	ip, ipErr := netip.ParseAddr(addr)
	for _, it := range splitList(list) {
		if strings.Contains(it, "/") {
			if p, err := netip.ParsePrefix(it); err == nil && ipErr == nil && p.Contains(ip.Unmap()) {
				return true
			}
			continue
		}
		if ok, _ := path.Match(strings.ToLower(it), strings.ToLower(addr)); ok {
			return true
		}
	}
	return false
}
