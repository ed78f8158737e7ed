package password

import (
	"context"
	"runtime"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// BenchmarkVerify and BenchmarkRawIDKey do the same Argon2id work at the
// default params with the same parallelism (GOMAXPROCS goroutines); the ratio
// of their ns/op is what the Hasher adds: PHC parsing, normalisation, the
// gate and the constant-time compare.
//
//	go test ./internal/password/ -run '^$' -bench 'Verify$|RawIDKey' -benchmem -count 6
func BenchmarkVerify(b *testing.B) {
	p := DefaultParams()
	procs := runtime.GOMAXPROCS(0)
	// As many slots as goroutines, so the benchmark measures overhead, not
	// queueing.
	h := New(p, Limits{MaxConcurrent: procs, MaxQueue: procs, MaxWait: time.Minute})
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ok, _, err := h.Verify(ctx, "correct horse battery staple", enc)
			if err != nil || !ok {
				b.Errorf("Verify = %v, %v", ok, err)
				return
			}
		}
	})
}

func BenchmarkRawIDKey(b *testing.B) {
	p := DefaultParams()
	pw := []byte("correct horse battery staple")
	salt := make([]byte, p.SaltLen)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
		}
	})
}
