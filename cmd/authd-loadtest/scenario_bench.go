package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The benchmark scenarios: the hot paths, each run the same way against authd
// and the baseline so their ratio means something.

func runTokenJWT(ctx context.Context, e *env) *ScenarioResult {
	return runToken(ctx, e, "token-jwt", roleJWT)
}

func runTokenOpaque(ctx context.Context, e *env) *ScenarioResult {
	return runToken(ctx, e, "token-opaque", roleOpaque)
}

// runToken loads the token endpoint with client_credentials grants of the
// client whose tokens have the given format.
func runToken(ctx context.Context, e *env, name, role string) *ScenarioResult {
	c, ok := e.fx.client(role)
	if !ok {
		return e.unsupportedResult(name, "setup has no %s client", role)
	}
	t := postForm(e.base+pathToken, basicAuth(c), []byte("grant_type=client_credentials"))
	if r := e.preflight(ctx, name, t); r != nil {
		return r
	}
	return e.runMain(ctx, name, plan{
		targeter: constant(t),
		classify: expect200(`"access_token"`, "issued"),
	})
}

func runIntrospectJWT(ctx context.Context, e *env) *ScenarioResult {
	return runIntrospect(ctx, e, "introspect-jwt", roleJWT)
}

func runIntrospectOpaque(ctx context.Context, e *env) *ScenarioResult {
	return runIntrospect(ctx, e, "introspect-opaque", roleOpaque)
}

// runIntrospect introspects the pre-issued pool of one format, round-robin, so
// every token is asked about again and again: the cached path.
func runIntrospect(ctx context.Context, e *env, name, format string) *ScenarioResult {
	c, ok := e.fx.client(roleJWT)
	pool := e.fx.Tokens[format]
	if !ok || len(pool) == 0 {
		return e.unsupportedResult(name, "setup has no %s tokens", format)
	}
	auth := basicAuth(c)
	ts := make([]vegeta.Target, len(pool))
	for i, tok := range pool {
		ts[i] = postForm(e.base+pathIntrospect, auth, []byte("token="+url.QueryEscape(tok)))
	}
	if r := e.preflight(ctx, name, ts[0]); r != nil {
		return r
	}
	res := e.runMain(ctx, name, plan{targeter: rotating(ts), classify: introspectActive})
	res.info("pool", "%d %s tokens, introspected round-robin", len(pool), format)
	return res
}

// introspectActive expects {"active":true,…}.
func introspectActive(r *vegeta.Result) (string, bool) {
	if r.Code != http.StatusOK {
		return statusOutcome(r), false
	}
	switch {
	case bytes.Contains(r.Body, []byte(`"active":true`)):
		return "active", true
	case bytes.Contains(r.Body, []byte(`"active":false`)):
		return "inactive", false
	}
	return "200-unexpected-body", false
}

// batchPool returns the tokens batch introspection draws from.
func batchPool(fx *Fixture, format string) []string {
	switch format {
	case "jwt":
		return fx.Tokens[roleJWT]
	case "mixed":
		a, b := fx.Tokens[roleOpaque], fx.Tokens[roleJWT]
		out := make([]string, 0, len(a)+len(b))
		for i := 0; i < max(len(a), len(b)); i++ {
			if i < len(a) {
				out = append(out, a[i])
			}
			if i < len(b) {
				out = append(out, b[i])
			}
		}
		return out
	}
	return fx.Tokens[roleOpaque]
}

// batchBodies cuts pool into request bodies of batchSize tokens each, wrapping
// around when the pool is not a multiple of the size (or smaller than it).
func batchBodies(pool []string) [][]byte {
	n := max(1, len(pool)/batchSize)
	out := make([][]byte, n)
	for i := range n {
		toks := make([]string, batchSize)
		for j := range toks {
			toks[j] = pool[(i*batchSize+j)%len(pool)]
		}
		out[i], _ = json.Marshal(map[string][]string{"tokens": toks})
	}
	return out
}

// runIntrospectBatch introspects batchSize pooled tokens per request and
// reports tokens per second.
func runIntrospectBatch(ctx context.Context, e *env) *ScenarioResult {
	const name = "introspect-batch"
	c, ok := e.fx.client(roleJWT)
	pool := batchPool(e.fx, e.o.batchFormat)
	if !ok || len(pool) == 0 {
		return e.unsupportedResult(name, "setup has no tokens for --batch-format %s", e.o.batchFormat)
	}
	auth := basicAuth(c)
	bodies := batchBodies(pool)
	ts := make([]vegeta.Target, len(bodies))
	for i, b := range bodies {
		ts[i] = postJSON(e.base+pathIntrospectBatch, auth, b)
	}
	if r := e.preflight(ctx, name, ts[0]); r != nil {
		return r
	}
	res := e.runMain(ctx, name, plan{targeter: rotating(ts), classify: batchAllActive, items: batchSize})
	res.info("pool", "%d %s tokens in %d distinct bodies of %d", len(pool), e.o.batchFormat, len(bodies), batchSize)
	return res
}

// batchAllActive expects a {"results":[…]} of batchSize active answers.
func batchAllActive(r *vegeta.Result) (string, bool) {
	if r.Code != http.StatusOK {
		return statusOutcome(r), false
	}
	if !bytes.HasPrefix(bytes.TrimSpace(r.Body), []byte(`{"results":`)) {
		return "200-unexpected-body", false
	}
	if n := bytes.Count(r.Body, []byte(`"active":true`)); n != batchSize {
		return "some-inactive", false
	}
	return "all-active", true
}

func runJWKS(ctx context.Context, e *env) *ScenarioResult {
	const name = "jwks"
	t := vegeta.Target{Method: http.MethodGet, URL: e.base + pathJWKS}
	if r := e.preflight(ctx, name, t); r != nil {
		return r
	}
	return e.runMain(ctx, name, plan{targeter: constant(t), classify: expect200(`"keys"`, "jwks")})
}

// runMain runs the scenario's single stream with the run's settings.
func (e *env) runMain(ctx context.Context, name string, p plan) *ScenarioResult {
	p.name = "main"
	p.settings = e.settings
	p.progress = e.progress
	e.logf("%s for %s (rate %s, %d workers)", name, e.settings.Duration, rateString(e.settings.Rate), e.settings.Workers)
	res := e.result(name)
	res.Streams = []*Summary{runPlan(ctx, p)}
	return res
}

func rateString(rate int) string {
	if rate == 0 {
		return "max"
	}
	return itoa(rate) + "/s"
}
