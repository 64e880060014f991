package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Checksum hashes a directory tree: every path (relative to root), type,
// permission bits, symlink target and file content, skipping .glusterfs
// (a brick's internal directory), so that a mount and each replica brick
// of a volume hash alike. Owners and times are left out: they are checked
// by the tests that care.
func Checksum(root string) (string, error) {
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".glusterfs" && filepath.Dir(p) == root {
			return filepath.SkipDir
		}
		if p != root {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("checksum %s: %w", root, err)
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		st, err := os.Lstat(p)
		if err != nil {
			return "", fmt.Errorf("checksum %s: %w", p, err)
		}
		rel, _ := filepath.Rel(root, p)
		fmt.Fprintf(h, "%s\x00%v\x00", rel, st.Mode()&(fs.ModeType|fs.ModePerm|fs.ModeSticky|fs.ModeSetuid|fs.ModeSetgid))
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return "", fmt.Errorf("checksum %s: %w", p, err)
			}
			io.WriteString(h, t)
		case st.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return "", fmt.Errorf("checksum %s: %w", p, err)
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return "", fmt.Errorf("checksum %s: %w", p, err)
			}
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// MustChecksum is Checksum that fails the test on error.
func (c *Cluster) MustChecksum(root string) string {
	c.T.Helper()
	s, err := Checksum(root)
	if err != nil {
		c.T.Fatal(err)
	}
	return s
}
