// Package memtrim hands back, once start-up is over, the memory start-up
// used and serving does not: the executable's own pages.
//
// Linux counts in a process's RSS every page of its mapped binary that it
// has touched, and keeps the mapping until memory is short. Start-up runs code and reads metadata (the function tables a stack
// walk needs, type descriptors) that serving never touches again: the
// migrations, key generation, template parsing, configuration, every
// package's init. The kernel also maps 64 KiB around each page fault
// (fault-around), so a 59 MB binary had 25 MB of its pages resident at idle,
// three quarters of authd's idle RSS.
//
// Executable drops the process's mappings of those pages with
// madvise(MADV_DONTNEED), as the kernel would if memory were short. The page
// cache keeps them, so a page serving needs comes back on its first touch as
// a minor fault, without reading the disk. Only read-only private mappings
// of the executable whose pages are all still the file's are dropped: a
// writable mapping, or one with a page copied on write (a debugger's
// breakpoint, a uprobe), would lose what was written.
package memtrim
