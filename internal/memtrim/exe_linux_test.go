package memtrim

import (
	_ "embed"
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// written lives in the executable's data segment, a private writable mapping
// of the file: dropping that mapping would bring back the file's 1.
var written = 1

// readOnly is 256 KiB in the executable's read-only data: its middle is
// 128 KiB from anything else the test touches, so no fault-around (64 KiB)
// maps it back after the drop.
//
//go:embed testdata/readonly.txt
var readOnly string

func TestExecutable(t *testing.T) {
	written = 42
	sum := 0
	for i := 0; i < len(readOnly); i += 512 {
		sum += int(readOnly[i])
	}
	mid := uintptr(unsafe.Pointer(unsafe.StringData(readOnly))) + uintptr(len(readOnly)/2)
	if !mapped(t, mid) {
		t.Fatal("the data just read is not mapped")
	}
	n, err := Executable()
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || mapped(t, mid) {
		t.Fatalf("%d bytes of mappings dropped, and the page of data read before is still mapped", n)
	}
	if written != 42 {
		t.Fatalf("a writable mapping was dropped: written is %d again", written)
	}
	// Everything still reads as it did, the dropped pages included.
	again := 0
	for i := 0; i < len(readOnly); i += 512 {
		again += int(readOnly[i])
	}
	if again != sum || !strings.HasPrefix(readOnly, "memtrim test data") {
		t.Fatalf("the read-only data changed: sum %d, then %d", sum, again)
	}
}

// mapped reports whether the page holding addr is mapped into the process
// (the present bit of /proc/self/pagemap, readable without privilege).
func mapped(t *testing.T, addr uintptr) bool {
	t.Helper()
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [8]byte
	if _, err := f.ReadAt(b[:], int64(addr/uintptr(os.Getpagesize()))*8); err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(b[:])>>63 == 1
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
