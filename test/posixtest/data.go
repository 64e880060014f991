package posixtest

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// pattern returns n bytes that differ at every offset of a file, so a
// misplaced block never compares equal.
func pattern(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// ReadWriteData checks that data comes back exactly: a 24 MiB file written
// in odd-sized chunks and read with other sizes, unaligned pwrite/pread
// over it, and concurrent writers on disjoint ranges of one file.
func ReadWriteData(t *testing.T, dir string) {
	const size = 24<<20 + 12345
	want := pattern(1, size)
	f := filepath.Join(dir, "big")
	fh, err := os.Create(f)
	must(t, err)
	defer fh.Close()
	for off, chunk := 0, 1; off < size; off, chunk = off+chunk, chunk*3%(1<<20)+7 {
		end := min(off+chunk, size)
		_, err := fh.Write(want[off:end])
		must(t, err)
	}
	must(t, fh.Sync())
	check := func(what string) {
		t.Helper()
		got, err := os.ReadFile(f)
		must(t, err)
		if len(got) != len(want) {
			t.Fatalf("%s: read %d bytes, want %d", what, len(got), len(want))
		}
		if i := firstDiff(got, want); i >= 0 {
			t.Fatalf("%s: first difference at offset %d", what, i)
		}
	}
	check("sequential write")

	// Unaligned pwrite across block boundaries, then pread of odd windows.
	patch := pattern(2, 300000)
	for _, off := range []int{1, 4095, 131071, 1<<20 - 3, size - len(patch)} {
		_, err := fh.WriteAt(patch, int64(off))
		must(t, err)
		copy(want[off:], patch)
	}
	for _, w := range [][2]int{{0, 1}, {4094, 3}, {131000, 200000}, {1<<20 - 10, 70000}, {size - 5, 5}} {
		buf := make([]byte, w[1])
		_, err := fh.ReadAt(buf, int64(w[0]))
		must(t, err)
		if !bytes.Equal(buf, want[w[0]:w[0]+w[1]]) {
			t.Errorf("pread %d bytes at %d after pwrites: wrong data", w[1], w[0])
		}
	}
	buf := make([]byte, 10)
	if n, err := fh.ReadAt(buf, size); n != 0 {
		t.Errorf("pread at EOF returned %d bytes, %v", n, err)
	}
	check("pwrite")

	// Four writers replace the whole content, each owning every fourth
	// 64 KiB block.
	const block, writers = 64 << 10, 4
	want = pattern(4, size)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			h, err := os.OpenFile(f, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			defer h.Close()
			for off := w * block; off < size; off += writers * block {
				end := min(off+block, size)
				if _, err := h.WriteAt(want[off:end], int64(off)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	check("concurrent writers")
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// Mmap checks that a shared mapping and read/write see each other's data.
func Mmap(t *testing.T, dir string) {
	const size = 3 * 4096
	f := filepath.Join(dir, "mapped")
	writeFile(t, f, string(pattern(3, size)), 0o644)
	fh, err := os.OpenFile(f, os.O_RDWR, 0)
	must(t, err)
	defer fh.Close()
	m, err := unix.Mmap(int(fh.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	must(t, err)
	defer unix.Munmap(m)
	if !bytes.Equal(m, pattern(3, size)) {
		t.Error("mapping does not show the file's data")
	}
	copy(m[4090:], "through the mapping")
	must(t, unix.Msync(m, unix.MS_SYNC))
	buf := make([]byte, 19)
	_, err = fh.ReadAt(buf, 4090)
	must(t, err)
	if string(buf) != "through the mapping" {
		t.Errorf("read after msync = %q", buf)
	}
	_, err = fh.WriteAt([]byte("by write"), 8200)
	must(t, err)
	if string(m[8200:8208]) != "by write" {
		t.Errorf("mapping after write = %q", m[8200:8208])
	}
}

// Fallocate checks preallocation and hole punching.
func Fallocate(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, string(bytes.Repeat([]byte("x"), 3*4096)), 0o644)
	fh, err := os.OpenFile(f, os.O_RDWR, 0)
	must(t, err)
	defer fh.Close()
	fd := int(fh.Fd())
	size := func() int64 {
		var st unix.Stat_t
		must(t, unix.Fstat(fd, &st))
		return st.Size
	}
	wantErrno(t, "fallocate to extend", unix.Fallocate(fd, 0, 0, 8*4096), 0)
	if got := size(); got != 8*4096 {
		t.Errorf("size after fallocate = %d, want %d", got, 8*4096)
	}
	wantErrno(t, "fallocate KEEP_SIZE", unix.Fallocate(fd, unix.FALLOC_FL_KEEP_SIZE, 0, 16*4096), 0)
	if got := size(); got != 8*4096 {
		t.Errorf("size after FALLOC_FL_KEEP_SIZE = %d, want %d", got, 8*4096)
	}
	wantErrno(t, "punch hole", unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 4096, 4096), 0)
	buf := make([]byte, 3*4096)
	_, err = fh.ReadAt(buf, 0)
	must(t, err)
	want := append(append(bytes.Repeat([]byte("x"), 4096), make([]byte, 4096)...), bytes.Repeat([]byte("x"), 4096)...)
	if i := firstDiff(buf, want); i >= 0 {
		t.Errorf("after punching [4096, 8192): first difference at %d", i)
	}
	if got := size(); got != 8*4096 {
		t.Errorf("size after punch = %d", got)
	}
	wantErrno(t, "punch hole without KEEP_SIZE", unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE, 0, 4096), unix.EOPNOTSUPP)
	ro, err := os.Open(f)
	must(t, err)
	defer ro.Close()
	wantErrno(t, "fallocate read-only fd", unix.Fallocate(int(ro.Fd()), 0, 0, 4096), unix.EBADF)
}
