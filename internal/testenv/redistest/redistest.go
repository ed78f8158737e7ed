package redistest

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/authd/authd/internal/testenv"
)

// Setup returns the Redis URL and a fresh key prefix for t, and deletes the
// keys under the prefix when t ends.
func Setup(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	redisURL, prefix = testenv.RedisURL(t)
	raw := Raw(t, redisURL)
	t.Cleanup(func() { deletePrefix(t, raw, prefix) })
	return redisURL, prefix
}

// Raw returns a plain client for reading and writing raw keys; it is closed
// when t ends.
func Raw(t testing.TB, redisURL string) rueidis.Client {
	t.Helper()
	opt, err := rueidis.ParseURL(redisURL)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	opt.DisableCache = true
	cl, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatalf("redistest: connect %s: %v", redisURL, err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// WithHost returns redisURL pointed at hostport instead (a Proxy).
func WithHost(t testing.TB, redisURL, hostport string) string {
	t.Helper()
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	u.Host = hostport
	return u.String()
}

// Target returns the host:port of redisURL.
func Target(t testing.TB, redisURL string) string {
	t.Helper()
	opt, err := rueidis.ParseURL(redisURL)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return opt.InitAddress[0]
}

// Keys returns the keys under prefix (for tests that check clean-up or layout).
func Keys(t testing.TB, cl rueidis.Client, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var keys []string
	var cursor uint64
	for {
		e, err := cl.Do(ctx, cl.B().Scan().Cursor(cursor).Match(matchPrefix(prefix)).Count(1000).Build()).AsScanEntry()
		if err != nil {
			t.Fatalf("redistest: scan: %v", err)
		}
		keys = append(keys, e.Elements...)
		if cursor = e.Cursor; cursor == 0 {
			return keys
		}
	}
}

// matchPrefix is a SCAN MATCH pattern for the keys under prefix, whose
// metacharacters (test names may hold them) are escaped.
func matchPrefix(prefix string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(prefix) + "*"
}

// deletePrefix deletes the keys under prefix, and refuses a prefix that
// testenv did not make: the server is shared, so a mistaken prefix must not
// become a mass deletion.
func deletePrefix(t testing.TB, cl rueidis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !strings.HasPrefix(prefix, "authdtest:") {
		t.Errorf("redistest: refusing to delete under prefix %q", prefix)
		return
	}
	match := matchPrefix(prefix)
	var cursor uint64
	for {
		e, err := cl.Do(ctx, cl.B().Scan().Cursor(cursor).Match(match).Count(1000).Build()).AsScanEntry()
		if err != nil {
			t.Logf("redistest: clean-up of %s: %v", prefix, err)
			return
		}
		if len(e.Elements) > 0 {
			if err := cl.Do(ctx, cl.B().Del().Key(e.Elements...).Build()).Error(); err != nil {
				t.Logf("redistest: clean-up of %s: %v", prefix, err)
				return
			}
		}
		if cursor = e.Cursor; cursor == 0 {
			return
		}
	}
}
