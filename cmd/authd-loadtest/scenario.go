package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Paths of the endpoints under test, as authd serves them; the baseline
// serves the ones it mirrors at the same paths.
const (
	pathToken           = "/oauth2/token"
	pathIntrospect      = "/oauth2/introspect"
	pathIntrospectBatch = "/oauth2/introspect/batch"
	pathRevoke          = "/oauth2/revoke"
	pathJWKS            = "/oauth2/jwks"
	pathUserInfo        = "/oauth2/userinfo"
	pathLogin           = "/login"
	pathHealth          = "/healthz"

	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

// batchSize is how many tokens one batch introspection request carries: the
// most authd accepts.
const batchSize = 100

// env is what a scenario runs against.
type env struct {
	label    string // the target's name in reports
	base     string // public API base URL
	fx       *Fixture
	o        *options
	settings attackSettings
	log      io.Writer    // progress lines
	hc       *http.Client // for probes and health checks
	progress *progress    // the live line; nil when stderr is not a terminal
}

// Finding is a verdict a scenario draws from what it saw.
type Finding struct {
	Check  string `json:"check"`
	Result string `json:"result"` // pass, fail or info
	Detail string `json:"detail"`
}

// Scenario result statuses.
const (
	statusOK          = "ok"
	statusUnsupported = "unsupported"
	statusFailed      = "failed"
)

// ScenarioResult is one scenario run against one target. Streams[0] is the
// scenario's own traffic; further streams are traffic measured beside it
// (legitimate requests during an attack).
type ScenarioResult struct {
	Scenario string     `json:"scenario"`
	Target   string     `json:"target"`
	URL      string     `json:"url"`
	Status   string     `json:"status"`
	Notes    []string   `json:"notes,omitempty"`
	Findings []Finding  `json:"findings,omitempty"`
	Streams  []*Summary `json:"streams,omitempty"`
	// SustainableRate is stress's answer: the highest rate (req/s) whose
	// step stayed within the limits.
	SustainableRate int `json:"sustainable_rate,omitempty"`
}

// main returns the scenario's own stream, or nil when it did not run.
func (r *ScenarioResult) main() *Summary {
	if len(r.Streams) == 0 {
		return nil
	}
	return r.Streams[0]
}

func (r *ScenarioResult) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func (r *ScenarioResult) find(check string, pass bool, format string, args ...any) {
	res := "pass"
	if !pass {
		res = "fail"
	}
	r.Findings = append(r.Findings, Finding{Check: check, Result: res, Detail: fmt.Sprintf(format, args...)})
}

func (r *ScenarioResult) info(check, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Check: check, Result: "info", Detail: fmt.Sprintf(format, args...)})
}

func (e *env) result(name string) *ScenarioResult {
	return &ScenarioResult{Scenario: name, Target: e.label, URL: e.base, Status: statusOK}
}

// unsupportedResult reports a scenario the target cannot serve.
func (e *env) unsupportedResult(name, format string, args ...any) *ScenarioResult {
	r := e.result(name)
	r.Status = statusUnsupported
	r.note(format, args...)
	return r
}

// scenario is one named kind of traffic.
type scenario struct {
	name  string
	about string
	// comparable scenarios also run against the bare baseline.
	comparable bool
	// needsUsers makes setup create users and a password-grant client.
	needsUsers bool
	run        func(ctx context.Context, e *env) *ScenarioResult
}

// scenarios is every scenario, in the order list prints them.
var scenarios = []*scenario{
	{name: "token-jwt", comparable: true, run: runTokenJWT,
		about: "client_credentials issuance of JWT (RFC 9068, ES256) access tokens"},
	{name: "token-opaque", comparable: true, run: runTokenOpaque,
		about: "client_credentials issuance of opaque access tokens (one durable insert each)"},
	{name: "introspect-jwt", comparable: true, run: runIntrospectJWT,
		about: "RFC 7662 introspection of a pool of pre-issued JWTs (verify + revocation check)"},
	{name: "introspect-opaque", comparable: true, run: runIntrospectOpaque,
		about: "RFC 7662 introspection of a pool of pre-issued opaque tokens (repeated: hits caches)"},
	{name: "introspect-batch", comparable: true, run: runIntrospectBatch,
		about: "batch introspection, 100 pooled tokens a request; reports tokens/s"},
	{name: "jwks", comparable: true, run: runJWKS,
		about: "GET the JWKS document"},
	{name: "stuffing", needsUsers: true, run: runStuffing,
		about: "credential stuffing: usernames × common passwords through the password grant and the login form, with legitimate traffic beside it"},
	{name: "enumeration", run: runEnumeration,
		about: "random opaque tokens at introspection: every answer must be active:false"},
	{name: "mixed", comparable: true, run: runMixed,
		about: "the --mix of requests (default " + defaultMix + ") interleaved in one stream"},
	{name: "stress", comparable: true, run: runStress,
		about: "the --mix at an open-loop rate stepped up until p99 or the error share passes its limit; reports the highest sustainable rate"},
	{name: "flood", run: runFlood,
		about: "junk requests (bad auth, oversized bodies, malformed forms); the server must stay up and answer the right errors"},
}

func lookupScenario(name string) *scenario {
	for _, s := range scenarios {
		if s.name == name {
			return s
		}
	}
	return nil
}

func scenarioNames() []string {
	out := make([]string, len(scenarios))
	for i, s := range scenarios {
		out[i] = s.name
	}
	return out
}

// constant returns a targeter that sends t every time. The header map and
// body are shared, read-only, by every request.
func constant(t vegeta.Target) vegeta.Targeter {
	return func(tg *vegeta.Target) error {
		*tg = t
		return nil
	}
}

// rotating returns a targeter that cycles through ts; safe for concurrent use.
func rotating(ts []vegeta.Target) vegeta.Targeter {
	var i atomic.Uint64
	n := uint64(len(ts))
	return func(tg *vegeta.Target) error {
		*tg = ts[(i.Add(1)-1)%n]
		return nil
	}
}

// postForm builds a form POST with client_secret_basic authentication (none
// when auth is "").
func postForm(url, auth string, body []byte) vegeta.Target {
	h := http.Header{"Content-Type": {formType}}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	return vegeta.Target{Method: http.MethodPost, URL: url, Body: body, Header: h}
}

// postJSON builds a JSON POST with client_secret_basic authentication.
func postJSON(url, auth string, body []byte) vegeta.Target {
	h := http.Header{"Content-Type": {jsonType}}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	return vegeta.Target{Method: http.MethodPost, URL: url, Body: body, Header: h}
}

// statusOutcome names an answer by its status: "throttled-429",
// "unavailable-503", "http-401", or "transport-error" when none came.
func statusOutcome(r *vegeta.Result) string {
	switch r.Code {
	case 0:
		return "transport-error"
	case http.StatusTooManyRequests:
		return "throttled-429"
	case http.StatusServiceUnavailable:
		return "unavailable-503"
	}
	return "http-" + strconv.Itoa(int(r.Code))
}

// expect200 expects a 200 whose body contains marker, named name.
func expect200(marker, name string) classifier {
	m := []byte(marker)
	return func(r *vegeta.Result) (string, bool) {
		if r.Code != http.StatusOK {
			return statusOutcome(r), false
		}
		if !bytes.Contains(r.Body, m) {
			return "200-unexpected-body", false
		}
		return name, true
	}
}

// probe sends t once and returns the status and body.
func (e *env) probe(ctx context.Context, t vegeta.Target) (int, []byte, error) {
	req, err := t.Request()
	if err != nil {
		return 0, nil, err
	}
	resp, err := e.hc.Do(req.WithContext(ctx))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	return resp.StatusCode, body, err
}

// unsupportedAnswer says whether an answer means the server lacks the
// endpoint or the grant (404, 405, 501, or 400 unsupported_grant_type /
// unauthorized_client), and describes it.
func unsupportedAnswer(status int, body []byte) (string, bool) {
	switch status {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return fmt.Sprintf("answered %d %s", status, http.StatusText(status)), true
	case http.StatusBadRequest:
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &e) == nil && (e.Error == "unsupported_grant_type" || e.Error == "unauthorized_client") {
			return fmt.Sprintf("answered 400 %s: %s", e.Error, e.Description), true
		}
	}
	return "", false
}

// preflight sends one request of a scenario before loading the server with
// it. It returns a result when the scenario cannot run (the endpoint is not
// there, or the server is unreachable) and nil when it can.
func (e *env) preflight(ctx context.Context, name string, t vegeta.Target) *ScenarioResult {
	status, body, err := e.probe(ctx, t)
	if err != nil {
		r := e.result(name)
		r.Status = statusFailed
		r.note("preflight %s %s: %v", t.Method, t.URL, err)
		return r
	}
	if why, ok := unsupportedAnswer(status, body); ok {
		return e.unsupportedResult(name, "%s %s %s: not supported by this server", t.Method, t.URL, why)
	}
	return nil
}

// logf prints a progress line.
func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "%s %s: %s\n", time.Now().Format("15:04:05"), e.label, fmt.Sprintf(format, args...))
}

func itoa(n int) string { return strconv.Itoa(n) }
