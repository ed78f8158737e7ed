package telemetry

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/authd/authd/internal/password"
)

func TestHTTP(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	pub, adm := HTTP(reg, "public"), HTTP(reg, "admin")
	pub("POST /oauth2/token", 200, time.Millisecond)
	pub("POST /oauth2/token", 200, time.Millisecond)
	pub("POST /oauth2/token", 401, time.Millisecond)
	pub("", 404, time.Microsecond)
	adm("GET /admin/clients", 200, time.Millisecond)
	want := `
# HELP authd_http_requests_total HTTP requests answered, by listener, route pattern and status code.
# TYPE authd_http_requests_total counter
authd_http_requests_total{code="200",listener="admin",route="GET /admin/clients"} 1
authd_http_requests_total{code="200",listener="public",route="POST /oauth2/token"} 2
authd_http_requests_total{code="401",listener="public",route="POST /oauth2/token"} 1
authd_http_requests_total{code="404",listener="public",route="unmatched"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "authd_http_requests_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(reg, "authd_http_request_duration_seconds"); n != 3 {
		t.Fatalf("%d histogram series, want 3", n)
	}
}

type fakeEvents struct{}

func (fakeEvents) Emitted() uint64      { return 5 }
func (fakeEvents) Dropped() uint64      { return 1 }
func (fakeEvents) Written() uint64      { return 4 }
func (fakeEvents) WriteErrors() uint64  { return 0 }
func (fakeEvents) Aggregated() uint64   { return 7 }
func (fakeEvents) Overflowed() uint64   { return 2 }
func (fakeEvents) WriteRetries() uint64 { return 3 }
func (fakeEvents) Lost() uint64         { return 0 }

func (fakeEvents) TokenEventsAggregated() uint64 { return 11 }
func (fakeEvents) SampledOut() uint64            { return 13 }
func (fakeEvents) Off() uint64                   { return 17 }
func (fakeEvents) ByType() map[string]uint64 {
	return map[string]uint64{"refresh.reused": 2, "login.failed": 9}
}

func TestGauges(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	Hashing(reg, password.New(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, password.Limits{}))
	SecurityEvents(reg, fakeEvents{})
	want := `
# HELP authd_security_events_dropped_total Security events dropped because the queue was full.
# TYPE authd_security_events_dropped_total counter
authd_security_events_dropped_total 1
# HELP authd_security_events_aggregated_total Refusals counted in an aggregate audit row instead of a row each.
# TYPE authd_security_events_aggregated_total counter
authd_security_events_aggregated_total 7
# HELP authd_security_events_total Security events emitted, by type (whatever became of them: written, aggregated or dropped).
# TYPE authd_security_events_total counter
authd_security_events_total{type="login.failed"} 9
authd_security_events_total{type="refresh.reused"} 2
# HELP authd_password_hashes_in_flight Argon2id hashes running now.
# TYPE authd_password_hashes_in_flight gauge
authd_password_hashes_in_flight 0
# HELP authd_security_token_events_aggregated_total Token events (issued, introspected) counted in a per-client aggregate audit row instead of a row each (AUTHD_AUDIT_TOKEN_EVENTS=aggregate).
# TYPE authd_security_token_events_aggregated_total counter
authd_security_token_events_aggregated_total 11
# HELP authd_security_token_events_sampled_out_total Token events not written because sampling passed them over (AUTHD_AUDIT_TOKEN_EVENTS=sample).
# TYPE authd_security_token_events_sampled_out_total counter
authd_security_token_events_sampled_out_total 13
# HELP authd_security_token_events_off_total Token events not written because AUTHD_AUDIT_TOKEN_EVENTS=off.
# TYPE authd_security_token_events_off_total counter
authd_security_token_events_off_total 17
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "authd_security_events_dropped_total",
		"authd_security_events_aggregated_total", "authd_security_events_total", "authd_password_hashes_in_flight",
		"authd_security_token_events_aggregated_total", "authd_security_token_events_sampled_out_total", "authd_security_token_events_off_total"); err != nil {
		t.Fatal(err)
	}
}
