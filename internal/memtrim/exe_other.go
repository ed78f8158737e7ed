//go:build !linux

package memtrim

// Executable does nothing where the kernel's accounting is not known.
func Executable() (int64, error) { return 0, nil }
