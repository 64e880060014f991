package readahead

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/graph"
	"github.com/gluster-go/gluster-go/internal/posix"
)

var bg = context.Background()

// recorder notes the reads that reach the brick and can fail them.
type recorder struct {
	fop.Base
	mu    sync.Mutex
	reads []int64 // offsets
	fail  error
	// With arrived set, every read sends its offset there, and reads past
	// the first two pages wait for release to close.
	arrived chan int64
	release chan struct{}
}

func (r *recorder) Read(ctx context.Context, fd *fop.FD, buf []byte, off int64) (int, error) {
	r.mu.Lock()
	r.reads = append(r.reads, off)
	fail, arrived, release := r.fail, r.arrived, r.release
	r.mu.Unlock()
	if arrived != nil {
		arrived <- off
		if off >= 8192 {
			<-release
		}
	}
	if fail != nil {
		return 0, fail
	}
	return r.Next.Read(ctx, fd, buf, off)
}

func (r *recorder) take() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reads
	r.reads = nil
	return out
}

type fixture struct {
	t   *testing.T
	rec *recorder
	ra  fop.Layer
}

// newFixture stacks read-ahead with 4 KiB pages over a posix brick.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	p, err := posix.New(&graph.Args{Name: "p", Options: map[string]string{"directory": t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.(interface{ Close() error }).Close() })
	rec := &recorder{Base: fop.Base{Next: p}}
	l, err := New(&graph.Args{Name: "ra", Options: map[string]string{"page-size": "4KB", "page-count": "4"}, Children: []fop.Layer{rec}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, rec: rec, ra: l}
}

// file creates a file holding data and returns an fd opened for reading
// and writing.
func (f *fixture) file(data []byte) *fop.FD {
	f.t.Helper()
	loc := &fop.Loc{Parent: fop.RootGFID, Name: "f", GFID: fop.NewGFID()}
	fd := fop.NewFD(loc.GFID, syscall.O_RDWR)
	if _, _, err := f.ra.Create(bg, loc, syscall.O_RDWR, 0o644, 0, fd, nil); err != nil {
		f.t.Fatal(err)
	}
	if _, _, err := f.ra.Write(bg, fd, data, 0); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { f.ra.Release(bg, fd) })
	return fd
}

func (f *fixture) read(fd *fop.FD, size int, off int64) []byte {
	f.t.Helper()
	buf := make([]byte, size)
	n, err := f.ra.Read(bg, fd, buf, off)
	if err != nil {
		f.t.Fatalf("read %d at %d: %v", size, off, err)
	}
	return buf[:n]
}

func randomData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return b
}

// A sequential reader gets the file's data, in reads of any size, while
// pages are read ahead of it.
func TestSequentialReadsReadAhead(t *testing.T) {
	for _, size := range []int{4096, 1000, 10000} {
		f := newFixture(t)
		data := randomData(100*1024 + 123)
		fd := f.file(data)
		var got []byte
		for {
			b := f.read(fd, size, int64(len(got)))
			if len(b) == 0 {
				break
			}
			got = append(got, b...)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("reads of %d: got %d bytes, not the %d written", size, len(got), len(data))
		}
		reads := f.rec.take()
		// After the first read (straight below), whole pages, once each.
		seen := map[int64]bool{}
		for _, off := range reads[1:] {
			if off%4096 == 0 && seen[off] {
				t.Fatalf("reads of %d: page at %d read twice: %v", size, off, reads)
			}
			seen[off] = true
		}
		if len(reads) > len(data)/size+len(data)/4096+2 {
			t.Fatalf("reads of %d: %d reads below", size, len(reads))
		}
	}
}

// Once sequential, the reads below run ahead of the application: its next
// pages are asked for before it asks for them.
func TestPagesAhead(t *testing.T) {
	f := newFixture(t)
	data := randomData(64 * 1024)
	fd := f.file(data)
	f.rec.mu.Lock()
	f.rec.arrived = make(chan int64, 100)
	f.rec.release = make(chan struct{})
	f.rec.mu.Unlock()
	// Only reads beyond the first two pages wait for release.
	f.read(fd, 4096, 0)
	f.read(fd, 4096, 4096)
	ahead := map[int64]bool{}
	for len(ahead) < 4 {
		off := <-f.rec.arrived
		if off >= 8192 {
			ahead[off] = true
		}
	}
	for _, off := range []int64{8192, 12288, 16384, 20480} {
		if !ahead[off] {
			t.Fatalf("pages read ahead: %v, want 8192 to 20480", ahead)
		}
	}
	close(f.rec.release)
	if b := f.read(fd, 4096, 8192); !bytes.Equal(b, data[8192:12288]) {
		t.Fatal("page read ahead holds the wrong data")
	}
}

// Random reads go straight below, one each.
func TestRandomReadsPassThrough(t *testing.T) {
	f := newFixture(t)
	data := randomData(1 << 20)
	fd := f.file(data)
	for _, off := range []int64{500000, 3, 900000, 100000, 700000} {
		if b := f.read(fd, 512, off); !bytes.Equal(b, data[off:off+512]) {
			t.Fatalf("read at %d: wrong data", off)
		}
	}
	if reads := f.rec.take(); len(reads) != 5 {
		t.Fatalf("reads below %v, want the 5 reads", reads)
	}
}

// A write through another FD replaces pages read ahead: the reader sees it.
func TestWriteDropsPages(t *testing.T) {
	f := newFixture(t)
	data := randomData(64 * 1024)
	fd := f.file(data)
	f.read(fd, 4096, 0)
	f.read(fd, 4096, 4096) // pages up to 20480 are read ahead
	other := fop.NewFD(fd.GFID, syscall.O_WRONLY)
	if err := f.ra.Open(bg, &fop.Loc{GFID: fd.GFID}, syscall.O_WRONLY, other); err != nil {
		t.Fatal(err)
	}
	defer f.ra.Release(bg, other)
	fresh := bytes.Repeat([]byte("x"), 4096)
	if _, _, err := f.ra.Write(bg, other, fresh, 12288); err != nil {
		t.Fatal(err)
	}
	f.read(fd, 4096, 8192)
	if b := f.read(fd, 4096, 12288); !bytes.Equal(b, fresh) {
		t.Fatal("read after a write returned the data from before it")
	}
}

// A truncate ends the file where the reader is, pages read ahead or not.
func TestTruncateDropsPages(t *testing.T) {
	f := newFixture(t)
	fd := f.file(randomData(64 * 1024))
	f.read(fd, 4096, 0)
	f.read(fd, 4096, 4096)
	if _, err := f.ra.Truncate(bg, &fop.Loc{GFID: fd.GFID}, 10000); err != nil {
		t.Fatal(err)
	}
	if b := f.read(fd, 4096, 8192); len(b) != 10000-8192 {
		t.Fatalf("read at 8192 after truncate to 10000: %d bytes", len(b))
	}
	if b := f.read(fd, 4096, 12288); len(b) != 0 {
		t.Fatalf("read beyond the truncated end: %d bytes", len(b))
	}
}

// A page that failed is read again directly, and that read's error is the
// one reported.
func TestFailedPageReadsAgain(t *testing.T) {
	f := newFixture(t)
	fd := f.file(randomData(64 * 1024))
	f.read(fd, 4096, 0)
	f.rec.mu.Lock()
	f.rec.fail = syscall.EIO
	f.rec.mu.Unlock()
	buf := make([]byte, 4096)
	if _, err := f.ra.Read(bg, fd, buf, 4096); fop.Errno(err) != syscall.EIO {
		t.Fatalf("read with the brick failing: %v, want EIO", err)
	}
	f.rec.mu.Lock()
	f.rec.fail = nil
	f.rec.mu.Unlock()
	f.rec.take()
	if b := f.read(fd, 4096, 8192); len(b) != 4096 {
		t.Fatalf("read after the brick recovered: %d bytes", len(b))
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []map[string]string{{"page-count": "0"}, {"page-count": "17"}, {"page-size": "1"}, {"page-size": "x"}} {
		if _, err := New(&graph.Args{Name: "ra", Options: o, Children: []fop.Layer{fop.Base{}}}); err == nil {
			t.Errorf("options %v accepted", o)
		}
	}
}
