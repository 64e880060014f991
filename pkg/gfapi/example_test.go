package gfapi_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gluster-go/gluster-go/pkg/gfapi"
)

// A volume described by a local volfile: one brick, a directory on this
// machine. With glusterd running, gfapi.Open(ctx, "server:/vol") does the
// same with the volume's real volfile.
func ExampleOpenVolfile() {
	dir, err := os.MkdirTemp("", "gfapi-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	brick := filepath.Join(dir, "brick")
	if err := os.Mkdir(brick, 0o755); err != nil {
		log.Fatal(err)
	}
	volfile := filepath.Join(dir, "vol.vol")
	text := "volume vol\n    type storage/posix\n    option directory " + brick + "\nend-volume\n"
	if err := os.WriteFile(volfile, []byte(text), 0o644); err != nil {
		log.Fatal(err)
	}

	vol, err := gfapi.OpenVolfile(context.Background(), volfile)
	if err != nil {
		log.Fatal(err)
	}
	defer vol.Close()
	if err := vol.MkdirAll("/reports/2026", 0o755); err != nil {
		log.Fatal(err)
	}
	f, err := vol.Create("/reports/2026/q1.txt")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := f.Write([]byte("hello\n")); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fi, err := vol.Stat("/reports/2026/q1.txt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(fi.Name(), fi.Size())
	// Output: q1.txt 6
}
