package memtrim

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Executable drops the process's mappings of its executable's read-only
// pages (see the package comment) and returns how many bytes of mappings it
// dropped.
func Executable() (int64, error) {
	exe, err := os.Stat("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	st, ok := exe.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("memtrim: no inode for the executable")
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	// The whole file first: madvise changes the mappings being listed.
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return 0, err
	}
	var dropped int64
	for _, m := range droppable(data, st.Ino) {
		// On a private file mapping MADV_DONTNEED unmaps the pages; the next
		// touch maps the file's page again, from the page cache, which keeps
		// them (madvise(2)). MADV_PAGEOUT would drop them from the cache as
		// well: idle RSS was the same a minute later (the kernel maps the
		// cached pages within 64 KiB of a fault, but reads as much ahead on a
		// miss), and every page serving needed back cost a read of the file.
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED); errno != 0 {
			return dropped, fmt.Errorf("memtrim: madvise: %w", errno)
		}
		dropped += int64(m.end - m.start)
	}
	return dropped, nil
}

type mapping struct{ start, end uintptr }

// droppable parses smaps and returns the mappings of inode ino that are
// private, not writable, and hold no page of their own (Anonymous: 0 kB).
func droppable(smaps []byte, ino uint64) []mapping {
	var out []mapping
	var cur mapping
	// A candidate is dropped only once its Anonymous field is read as 0:
	// an smaps without the field keeps everything.
	candidate, clean := false, false
	flush := func() {
		if candidate && clean {
			out = append(out, cur)
		}
		candidate, clean = false, false
	}
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if name, val, isField := strings.Cut(line, ":"); isField && !strings.Contains(name, " ") {
			// A field of the mapping above: "Anonymous:     12 kB".
			if name == "Anonymous" {
				kb := strings.Fields(val)
				clean = len(kb) > 0 && kb[0] == "0"
			}
			continue
		}
		// A mapping's header: "start-end perms offset dev inode [path]".
		flush()
		if len(fields) < 6 {
			continue
		}
		lo, hi, found := strings.Cut(fields[0], "-")
		if !found {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		inode, err3 := strconv.ParseUint(fields[4], 10, 64)
		perms := fields[1]
		if err1 != nil || err2 != nil || err3 != nil || end <= start || inode != ino ||
			len(perms) != 4 || perms[1] == 'w' || perms[3] != 'p' {
			continue
		}
		cur, candidate = mapping{uintptr(start), uintptr(end)}, true
	}
	flush()
	return out
}
