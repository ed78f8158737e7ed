package password

import "fmt"

// Params are the Argon2id cost parameters. They are recorded in every PHC
// string, so a hash stays verifiable after the Hasher's params change.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes (Argon2 "p")
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams returns the OWASP Password Storage Cheat Sheet settings:
// m=19 MiB, t=2, p=1, a 16-byte salt and a 32-byte key. p is fixed at 1
// (not NumCPU) so a hash costs the same on every machine and a request
// uses one core, leaving concurrency to the Hasher's slots.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on the parameters we will hash or verify with. A PHC string is
// input: read from a database that may have been tampered with or imported
// from elsewhere. Without bounds, "m=4294967295" would make one Verify
// allocate 4 TiB. The caps leave room to raise the cost several times over
// the defaults (RFC 9106's second recommended option, 64 MiB, fits).
const (
	maxMemoryKiB = 128 * 1024 // 128 MiB per hash; a Hasher runs at most MaxConcurrent at once
	maxTime      = 10
	maxThreads   = 16
	minSaltLen   = 8 // RFC 9106 §3.1 allows 8; 16 is recommended and our default
	maxSaltLen   = 64
	minKeyLen    = 16 // a shorter tag would make guessing a matching hash too cheap
	maxKeyLen    = 64
)

// Validate reports whether p is within the bounds this package accepts, for
// its own hashes and for stored ones: 8·Threads ≤ Memory ≤ 128 MiB,
// 1 ≤ Time ≤ 10, 1 ≤ Threads ≤ 16, 8 ≤ SaltLen ≤ 64, 16 ≤ KeyLen ≤ 64.
func (p Params) Validate() error {
	switch {
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("password: threads %d outside [1, %d]", p.Threads, maxThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemoryKiB:
		// Argon2 needs at least 8 KiB per lane (RFC 9106 §3.1).
		return fmt.Errorf("password: memory %d KiB outside [%d, %d]", p.Memory, 8*uint32(p.Threads), maxMemoryKiB)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("password: time %d outside [1, %d]", p.Time, maxTime)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("password: salt length %d outside [%d, %d]", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("password: key length %d outside [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}
