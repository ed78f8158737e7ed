package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authd/authd/internal/defense"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/ratelimit"
)

// BenchmarkLimits is introspection through the whole handler with the
// request limits on (an in-process limiter; the per-address budget set high
// enough that nothing is refused, so the figure is the limits' cost): an
// authenticated caller, and junk that fails client authentication.
func BenchmarkLimits(b *testing.B) {
	for _, bc := range []struct {
		name   string
		secret string
		want   int
	}{{"authenticated", "svc-secret", 200}, {"bad-secret", "wrong", 401}} {
		b.Run(bc.name, func(b *testing.B) {
			h := newHarness(b, withLimits(defense.RequestPolicy{
				PerIP:             ratelimit.Limit{Rate: 1e6, Burst: 2e6},
				InactivePerCaller: ratelimit.PerMinute(600, 600),
			}, defense.DefaultLoginPolicy()))
			h.addClient("svc", "svc-secret", nil)
			body := url.Values{"token": {h.token("svc", "svc-secret", nil)}}.Encode()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest(http.MethodPost, httpapi.PathIntrospect, strings.NewReader(body))
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					r.SetBasicAuth("svc", bc.secret)
					w := httptest.NewRecorder()
					h.srv.ServeHTTP(w, r)
					if w.Code != bc.want {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}
