package memtrim

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// written lives in the executable's data segment, a private writable mapping
// of the file: dropping that mapping would bring back the file's 1.
var written = 1

func TestExecutable(t *testing.T) {
	written = 42
	before := rssFile(t)
	n, err := Executable()
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no mapping of the executable was dropped")
	}
	after := rssFile(t)
	// The test binary's text and metadata that the tests so far touched
	// were resident; the few pages the code from Executable back to here
	// touches again are nowhere near that.
	if after >= before || before-after < 1024 {
		t.Fatalf("RssFile %d kB before, %d kB after: the executable's pages were not dropped", before, after)
	}
	if written != 42 {
		t.Fatalf("a writable mapping was dropped: written is %d again", written)
	}
	// Everything still runs: code, read-only data, the function tables.
	if s := strconv.Itoa(written) + strings.Repeat("x", 2); s != "42xx" {
		t.Fatal(s)
	}
	t.Logf("dropped %d MB of mappings; RssFile %d → %d kB", n>>20, before, after)
}

func rssFile(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

func TestDroppable(t *testing.T) {
	const smaps = `00400000-00500000 r-xp 00000000 08:01 77 /bin/authd
Size:               1024 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
00500000-00600000 r--p 00100000 08:01 77 /bin/authd
Anonymous:             0 kB
00600000-00700000 rw-p 00200000 08:01 77 /bin/authd
Anonymous:            12 kB
00700000-00800000 r-xp 00300000 08:01 77 /bin/authd (deleted)
Anonymous:             4 kB
00800000-00900000 r--s 00000000 08:01 77 /bin/authd
Anonymous:             0 kB
00900000-00a00000 r-xp 00000000 08:01 78 /lib/libc.so.6
Anonymous:             0 kB
00a00000-00b00000 rw-p 00000000 00:00 0
Anonymous:           100 kB
00b00000-00c00000 r--p 00000000 08:01 77 /bin/authd
Size:               1024 kB
`
	got := droppable([]byte(smaps), 77)
	// The text and the read-only data. Not: the writable data, the text
	// with a copied page, the shared mapping, another file, an anonymous
	// mapping, a mapping whose Anonymous field is missing.
	want := []mapping{{0x400000, 0x500000}, {0x500000, 0x600000}}
	if len(got) != len(want) {
		t.Fatalf("droppable = %x, want %x", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("droppable = %x, want %x", got, want)
		}
	}
}
