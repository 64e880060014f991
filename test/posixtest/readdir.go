package posixtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

type dirent struct {
	name string
	off  int64 // the offset to seek to for the entries after this one
}

// getdents reads one batch of entries from a directory descriptor.
func getdents(t *testing.T, fd int, buf []byte) []dirent {
	t.Helper()
	n, err := unix.Getdents(fd, buf)
	must(t, err)
	var out []dirent
	for b := buf[:n]; len(b) > 0; {
		d := (*unix.Dirent)(unsafe.Pointer(&b[0]))
		name := b[unsafe.Offsetof(d.Name):d.Reclen]
		name = name[:bytes.IndexByte(name, 0)]
		out = append(out, dirent{name: string(name), off: d.Off})
		b = b[d.Reclen:]
	}
	return out
}

// readRest lists from fd's current offset to the end, in small batches.
func readRest(t *testing.T, fd int) []dirent {
	t.Helper()
	buf := make([]byte, 2048)
	var all []dirent
	for {
		batch := getdents(t, fd, buf)
		if len(batch) == 0 {
			return all
		}
		all = append(all, batch...)
	}
}

// ReaddirLarge returns a test that lists a directory of n files with
// getdents in small batches and checks that every name comes exactly once
// and that seeking back to a saved offset continues where it left off.
func ReaddirLarge(n int) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		d := filepath.Join(dir, "big")
		must(t, os.Mkdir(d, 0o755))
		createFiles(t, d, n)

		fh, err := os.Open(d)
		must(t, err)
		defer fh.Close()
		fd := int(fh.Fd())

		// List batch by batch, remembering the offset after the middle batch.
		buf := make([]byte, 2048)
		var all []dirent
		saved, savedAt := int64(-1), 0
		for {
			batch := getdents(t, fd, buf)
			if len(batch) == 0 {
				break
			}
			all = append(all, batch...)
			// lseek takes only offsets in [0, 2^63); a larger d_off also
			// leaves the directory position where lseek's result reads as
			// an errno.
			if last := batch[len(batch)-1]; last.off < 0 {
				t.Fatalf("d_off of %q is %#x: negative as an loff_t, so no lseek can return to it", last.name, uint64(last.off))
			}
			if saved < 0 && len(all) >= n/2 {
				pos, err := unix.Seek(fd, 0, 1)
				must(t, err)
				if last := batch[len(batch)-1].off; pos != last {
					t.Errorf("directory offset after a batch = %d, want the last entry's d_off %d", pos, last)
				}
				saved, savedAt = pos, len(all)
			}
		}
		checkNames(t, all, n)

		// Seek back to the saved offset: the continuation is what followed.
		_, err = unix.Seek(fd, saved, 0)
		must(t, err)
		compareTail(t, "after seeking to a batch boundary", readRest(t, fd), all[savedAt:])

		// Seek to the offset of an entry inside a batch.
		mid := len(all) / 3
		_, err = unix.Seek(fd, all[mid].off, 0)
		must(t, err)
		compareTail(t, "after seeking into a batch", readRest(t, fd), all[mid+1:])

		// Rewind and list again.
		_, err = unix.Seek(fd, 0, 0)
		must(t, err)
		checkNames(t, readRest(t, fd), n)
	}
}

// createFiles makes n empty files, in parallel to keep remote runs short.
func createFiles(t *testing.T, d string, n int) {
	t.Helper()
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				p := filepath.Join(d, fmt.Sprintf("f%07d", i))
				if err := unix.Mknod(p, unix.S_IFREG|0o644, 0); err != nil {
					errs <- fmt.Errorf("mknod %s: %w", p, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// checkNames checks that a listing holds ".", ".." and f0000000..f(n-1)
// exactly once each, and nothing else.
func checkNames(t *testing.T, list []dirent, n int) {
	t.Helper()
	seen := make(map[string]int, len(list))
	for _, e := range list {
		seen[e.name]++
	}
	bad := 0
	check := func(name string) {
		if seen[name] != 1 && bad < 10 {
			t.Errorf("%s listed %d times", name, seen[name])
			bad++
		}
		delete(seen, name)
	}
	check(".")
	check("..")
	for i := range n {
		check(fmt.Sprintf("f%07d", i))
	}
	for name := range seen {
		if bad < 10 {
			t.Errorf("unexpected entry %q", name)
			bad++
		}
	}
	if len(list) != n+2 {
		t.Errorf("listed %d entries, want %d", len(list), n+2)
	}
}

func compareTail(t *testing.T, what string, got, want []dirent) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d entries, want %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i].name != want[i].name {
			t.Errorf("%s: entry %d is %q, want %q", what, i, got[i].name, want[i].name)
			return
		}
	}
}
