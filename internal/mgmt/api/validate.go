package api

import (
	"net"
	"path/filepath"
	"strings"
)

// ValidateVolumeName applies the gluster CLI's rules for volume names.
func ValidateVolumeName(name string) error {
	switch name {
	case "volume", "type", "help", "subvolumes", "option", "end-volume", "all", "volume_not_in_ring",
		"description", "force", "snap-max-hard-limit", "snap-max-soft-limit", "auto-delete", "activate-on-create":
		return Errorf("\"%s\" cannot be the name of a volume.", name)
	}
	if name == "" || strings.HasPrefix(name, "-") {
		return Errorf("Invalid volume name %q", name)
	}
	if strings.Contains(name, "/") {
		return Errorf("Volume name should not contain \"/\" character.")
	}
	if len(name) > 64 {
		return Errorf("Volume name exceeds 64 characters.")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return Errorf("Volume name should not contain \"%c\" character. Volume names can only contain alphanumeric, '-' and '_' characters.", c)
		}
	}
	return nil
}

// ParseBrick splits HOST:/PATH and applies the CLI's checks.
func ParseBrick(s string) (host, path string, err error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i+1 >= len(s) || s[i+1] != '/' {
		return "", "", Errorf("Wrong brick type: %s, use <HOSTNAME>:<export-dir-abs-path>", s)
	}
	host, path = s[:i], filepath.Clean(s[i+1:])
	if host == "localhost" || host == "127.0.0.1" || strings.HasPrefix(host, "0.") && net.ParseIP(host) != nil {
		return "", "", Errorf("Please provide a valid hostname/ip other than localhost, 127.0.0.1 or loopback address (0.0.0.0 to 0.255.255.255).")
	}
	return host, path, nil
}
