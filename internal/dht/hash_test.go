package dht

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// testdata/dm_hash_c.tsv holds name<TAB>hash pairs computed by a C transcription of GlusterFS's
// gf_dm_hashfn (libglusterfs/src/hashfn.c, built with gcc on x86-64), including non-ASCII names whose bytes
// C sign-extends.
func TestHashMatchesC(t *testing.T) {
	f, err := os.Open("testdata/dm_hash_c.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		name, hex, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("bad line %q", sc.Text())
		}
		want, err := strconv.ParseUint(hex, 16, 32)
		if err != nil {
			t.Fatal(err)
		}
		if got := Hash([]byte(name)); got != uint32(want) {
			t.Errorf("Hash(%q) = %08x, want %08x", name, got, want)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no vectors")
	}
}

func TestRsyncTempNameHashesAsFinal(t *testing.T) {
	if HashName(".report.pdf.Xa1b2C") != HashName("report.pdf") {
		t.Fatal("rsync temporary name hashes differently from the final name")
	}
	if HashName(".hidden") != Hash([]byte(".hidden")) {
		t.Fatal("a dot file without a suffix must hash as itself")
	}
}
