package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Flood: junk requests of many kinds, round-robin. The server must stay up,
// answer every kind with the right error (or a 429 if it throttles), and
// keep serving legitimate traffic beside it. Each request's URL carries its
// kind (?junk=KIND, ignored by the server) so answers can be judged.

// junk is one kind of bad request and the statuses that are right for it.
type junk struct {
	kind   string
	target vegeta.Target
	want   []int
	// closeOK means the server may also just close the connection (bodies it
	// refuses to read), which the client sees as a transport error.
	closeOK bool
}

// Sizes of the oversized bodies: well past authd's default 64 KiB cap and
// its batch cap (100 × 4 KiB + 4 KiB), and past Go's default header limit.
const (
	oversizedForm   = 1 << 20
	oversizedBatch  = 2 << 20
	oversizedHeader = 48 << 10
)

// junkKinds builds the flood's requests. c is a real client, used where the
// junk must get past authentication to reach the check under test.
func junkKinds(base string, c Credentials) []junk {
	good := basicAuth(c)
	wrong := basicAuth(Credentials{ClientID: c.ClientID, ClientSecret: "wrong-" + c.ClientSecret})
	ghost := basicAuth(Credentials{ClientID: "loadtest-no-such-client", ClientSecret: "x"})
	cc := []byte("grant_type=client_credentials")
	tooMany := make([]string, batchSize+1)
	for i := range tooMany {
		tooMany[i] = "x"
	}
	tooManyBody, _ := json.Marshal(map[string][]string{"tokens": tooMany})
	bigBatch, _ := json.Marshal(map[string][]string{"tokens": {strings.Repeat("A", oversizedBatch)}})
	garbage := make([]byte, 512)
	for i := range garbage {
		garbage[i] = byte(i*131 + 7)
	}
	hugeHeader := http.Header{"X-Loadtest-Junk": {strings.Repeat("j", oversizedHeader)}}
	ctype := func(t vegeta.Target, ct string) vegeta.Target {
		h := t.Header.Clone()
		h.Set("Content-Type", ct)
		t.Header = h
		return t
	}
	malformedBasic := postForm(base+pathToken, "", cc)
	malformedBasic.Header.Set("Authorization", "Basic %%%not-base64%%%")
	return []junk{
		{kind: "unknown-client", target: postForm(base+pathToken, ghost, cc), want: []int{401}},
		{kind: "wrong-secret", target: postForm(base+pathToken, wrong, cc), want: []int{401}},
		{kind: "malformed-basic", target: malformedBasic, want: []int{400, 401}},
		{kind: "no-auth", target: postForm(base+pathToken, "", cc), want: []int{400, 401}},
		{kind: "wrong-content-type", target: ctype(postForm(base+pathToken, good, cc), "text/plain"), want: []int{400, 415}},
		{kind: "malformed-form", target: postForm(base+pathToken, good, []byte("grant_type=%zz&scope=%")), want: []int{400}},
		{kind: "repeated-param", target: postForm(base+pathToken, good, []byte("grant_type=client_credentials&grant_type=client_credentials")), want: []int{400}},
		{kind: "unsupported-grant", target: postForm(base+pathToken, good, []byte("grant_type=urn%3Aloadtest%3Abogus")), want: []int{400}},
		{kind: "missing-grant", target: postForm(base+pathToken, good, []byte("scope=read")), want: []int{400}},
		{kind: "invalid-scope", target: postForm(base+pathToken, good, []byte("grant_type=client_credentials&scope=loadtest%3Aeverything")), want: []int{400}},
		{kind: "garbage-body", target: postForm(base+pathToken, "", garbage), want: []int{400, 401}},
		{kind: "oversized-form", target: postForm(base+pathToken, good, bytes.Repeat([]byte("a"), oversizedForm)), want: []int{413}, closeOK: true},
		{kind: "introspect-no-auth", target: postForm(base+pathIntrospect, "", []byte("token=x")), want: []int{401}},
		{kind: "introspect-wrong-secret", target: postForm(base+pathIntrospect, wrong, []byte("token=x")), want: []int{401}},
		{kind: "batch-malformed-json", target: postJSON(base+pathIntrospectBatch, good, []byte("{")), want: []int{400}},
		{kind: "batch-too-many", target: postJSON(base+pathIntrospectBatch, good, tooManyBody), want: []int{400, 413}},
		{kind: "batch-oversized", target: postJSON(base+pathIntrospectBatch, good, bigBatch), want: []int{413}, closeOK: true},
		{kind: "batch-wrong-type", target: ctype(postJSON(base+pathIntrospectBatch, good, []byte(`{"tokens":[]}`)), formType), want: []int{400, 415}},
		{kind: "revoke-no-auth", target: postForm(base+pathRevoke, "", []byte("token=x")), want: []int{401}},
		{kind: "unknown-path", target: postForm(base+"/loadtest/no-such-endpoint", "", nil), want: []int{404}},
		{kind: "wrong-method", target: vegeta.Target{Method: http.MethodGet, URL: base + pathToken}, want: []int{405}},
		{kind: "huge-header", target: vegeta.Target{Method: http.MethodGet, URL: base + pathJWKS, Header: hugeHeader}, want: []int{431}, closeOK: true},
	}
}

// floodClassifier judges each answer against its kind's expected statuses.
// Outcomes are "KIND/STATUS" (STATUS "closed" for a dropped connection).
func floodClassifier(kinds []junk) classifier {
	byKind := make(map[string]*junk, len(kinds))
	for i := range kinds {
		byKind[kinds[i].kind] = &kinds[i]
	}
	return func(r *vegeta.Result) (string, bool) {
		kind := "unknown"
		if i := strings.LastIndex(r.URL, "junk="); i >= 0 {
			kind = r.URL[i+5:]
		}
		j := byKind[kind]
		if r.Code == 0 {
			return kind + "/closed", j != nil && j.closeOK
		}
		status := strconv.Itoa(int(r.Code))
		if j == nil {
			return kind + "/" + status, false
		}
		return kind + "/" + status, r.Code == http.StatusTooManyRequests || slices.Contains(j.want, int(r.Code))
	}
}

// tagged appends ?junk=KIND to each target's URL.
func tagged(kinds []junk) []vegeta.Target {
	ts := make([]vegeta.Target, len(kinds))
	for i, k := range kinds {
		t := k.target
		t.URL += "?junk=" + k.kind
		ts[i] = t
	}
	return ts
}

func runFlood(ctx context.Context, e *env) *ScenarioResult {
	const name = "flood"
	c, ok := e.fx.client(roleJWT)
	if !ok {
		return e.unsupportedResult(name, "setup has no %s client", roleJWT)
	}
	res := e.result(name)
	before := e.health(ctx)
	res.find("up before", before == "", "health before the flood: %s", orOK(before))
	if before != "" {
		res.Status = statusFailed
		return res
	}
	kinds := junkKinds(e.base, c)
	plans := []plan{{name: "attack", settings: e.settings, targeter: rotating(tagged(kinds)), classify: floodClassifier(kinds), source: attackSource}}
	calm := calmDuration(e.settings.Duration)
	var legitCalm *Summary
	if p, ok := e.legitTokenPlan("legit-calm", calm); ok {
		e.logf("flood: legitimate traffic alone for %s", calm)
		legitCalm = e.runPlan(ctx, p)
	}
	if p, ok := e.legitTokenPlan("legit-under-attack", e.settings.Duration); ok {
		plans = append(plans, p)
	}
	e.logf("flood for %s (rate %s, %d workers): %d kinds of junk", e.settings.Duration, rateString(e.settings.Rate), e.settings.Workers, len(kinds))
	streams := e.runConcurrently(ctx, plans...)
	res.Streams = append(res.Streams, streams[0])
	if legitCalm != nil && len(streams) > 1 {
		res.Streams = append(res.Streams, legitCalm, streams[1])
		compareLegit(res, legitCalm, streams[1])
	}
	after := e.health(ctx)
	res.find("up after", after == "", "health after the flood: %s", orOK(after))
	floodFindings(res, kinds, streams[0])
	return res
}

// floodFindings reports, per kind, what the server answered and whether that
// was right.
func floodFindings(res *ScenarioResult, kinds []junk, atk *Summary) {
	per := map[string]map[string]uint64{}
	for k, n := range atk.Outcomes {
		kind, status, _ := strings.Cut(k, "/")
		if per[kind] == nil {
			per[kind] = map[string]uint64{}
		}
		per[kind][status] += n
	}
	classify := floodClassifier(kinds)
	var fiveXX uint64
	for _, j := range kinds {
		got := per[j.kind]
		var wrong []string
		for status, n := range got {
			r := &vegeta.Result{URL: "?junk=" + j.kind}
			if status != "closed" {
				code, _ := strconv.Atoi(status)
				r.Code = uint16(code)
				if code >= 500 {
					fiveXX += n
				}
			}
			if _, ok := classify(r); !ok {
				wrong = append(wrong, fmt.Sprintf("%s×%d", status, n))
			}
		}
		sort.Strings(wrong)
		res.find("junk "+j.kind, len(wrong) == 0 && len(got) > 0, "want %s; got %s%s",
			wantString(j), statusCounts(got), wrongSuffix(wrong))
	}
	res.find("no 5xx", fiveXX == 0, "%d junk requests got a 5xx answer", fiveXX)
}

func wantString(j junk) string {
	parts := make([]string, len(j.want))
	for i, w := range j.want {
		parts[i] = strconv.Itoa(w)
	}
	s := strings.Join(parts, "/")
	if j.closeOK {
		s += " (or a closed connection)"
	}
	return s + " (429 also accepted)"
}

func statusCounts(m map[string]uint64) string {
	if len(m) == 0 {
		return "nothing (no request of this kind was sent)"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

func wrongSuffix(wrong []string) string {
	if len(wrong) == 0 {
		return ""
	}
	return "; wrong: " + strings.Join(wrong, " ")
}

func orOK(s string) string {
	if s == "" {
		return "ok"
	}
	return s
}

// health returns "" when the server answers GET /healthz (or, lacking that,
// the JWKS) with 200, and what went wrong otherwise.
func (e *env) health(ctx context.Context) string {
	for _, p := range []string{pathHealth, pathJWKS} {
		status, _, err := e.probe(ctx, vegeta.Target{Method: http.MethodGet, URL: e.base + p})
		if err != nil {
			return fmt.Sprintf("GET %s: %v", p, err)
		}
		if status == http.StatusOK {
			return ""
		}
		if status != http.StatusNotFound {
			return fmt.Sprintf("GET %s answered %d", p, status)
		}
	}
	return "neither /healthz nor the JWKS answered 200"
}
