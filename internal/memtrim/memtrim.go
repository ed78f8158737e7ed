package memtrim

import "runtime/debug"

// Result says what Release handed back.
type Result struct {
	// Executable is the bytes of the executable's read-only mappings that
	// were dropped (resident or not); 0 where that is not done.
	Executable int64
}

// Release returns the heap start-up freed to the system and drops the
// executable's read-only mappings (Executable). Call it once, when start-up
// is over: it runs a full collection.
func Release() (Result, error) {
	debug.FreeOSMemory()
	n, err := Executable()
	return Result{Executable: n}, err
}
