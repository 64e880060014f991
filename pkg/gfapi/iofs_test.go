package gfapi

import (
	"testing"
	"testing/fstest"
)

// TestFS runs the standard library's io/fs conformance checks.
func TestFS(t *testing.T) {
	v, _ := openPosix(t)
	if err := v.MkdirAll("/a/b", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/top", "/a/one", "/a/b/two"} {
		f, err := v.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("content of " + p)); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if err := v.Symlink("a/one", "/link"); err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(v.FS(), "top", "a/one", "a/b/two", "link"); err != nil {
		t.Fatal(err)
	}
}
