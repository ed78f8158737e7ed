package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Token enumeration: a registered client guesses opaque tokens (256 random
// bits, the shape authd issues) at introspection. None may come back active;
// what is of interest is how fast the server lets it guess and whether it
// pushes back (429). A legitimate resource server, with its own client,
// introspects real tokens beside it.

// guessTargeter makes a fresh random token per request, or batchSize of them
// per batch request.
func guessTargeter(base, auth string, batch bool) vegeta.Targeter {
	if batch {
		return func(t *vegeta.Target) error {
			toks := make([]string, batchSize)
			for i := range toks {
				toks[i] = randomString(36)
			}
			b, err := json.Marshal(map[string][]string{"tokens": toks})
			if err != nil {
				return err
			}
			*t = postJSON(base+pathIntrospectBatch, auth, b)
			return nil
		}
	}
	return func(t *vegeta.Target) error {
		*t = postForm(base+pathIntrospect, auth, []byte("token="+url.QueryEscape(randomString(36))))
		return nil
	}
}

// enumerationOutcome expects inactive answers; a server that pushes back
// (429, or 401/403 refusing the client) also answers as it should. Any
// active answer to a random guess is the one thing that must never happen.
func enumerationOutcome(r *vegeta.Result) (string, bool) {
	switch r.Code {
	case http.StatusOK:
		if bytes.Contains(r.Body, []byte(`"active":true`)) {
			return "ACTIVE", false
		}
		if bytes.Contains(r.Body, []byte(`"active":false`)) {
			return "inactive", true
		}
		return "200-unexpected-body", false
	case http.StatusTooManyRequests:
		return "throttled-429", true
	case http.StatusUnauthorized, http.StatusForbidden:
		return statusOutcome(r), true
	}
	return statusOutcome(r), false
}

func runEnumeration(ctx context.Context, e *env) *ScenarioResult {
	const name = "enumeration"
	atkClient, ok := e.fx.client(roleJWT)
	if !ok {
		return e.unsupportedResult(name, "setup has no %s client", roleJWT)
	}
	tr := guessTargeter(e.base, basicAuth(atkClient), e.o.enumBatch)
	var first vegeta.Target
	if err := tr(&first); err != nil {
		r := e.result(name)
		r.Status = statusFailed
		r.note("%v", err)
		return r
	}
	if r := e.preflight(ctx, name, first); r != nil {
		return r
	}
	res := e.result(name)
	calm, legit := e.legitIntrospectPlans()
	var legitCalm *Summary
	if calm != nil {
		e.logf("enumeration: legitimate introspection alone for %s", calm.settings.Duration)
		legitCalm = e.runPlan(ctx, *calm)
	}
	items := 1
	if e.o.enumBatch {
		items = batchSize
	}
	e.logf("enumeration for %s (rate %s, %d workers, %d guesses a request)", e.settings.Duration, rateString(e.settings.Rate), e.settings.Workers, items)
	plans := []plan{{name: "attack", settings: e.settings, targeter: tr, classify: enumerationOutcome, items: items, source: attackSource}}
	if legit != nil {
		plans = append(plans, *legit)
	}
	streams := e.runConcurrently(ctx, plans...)
	atk := streams[0]
	res.Streams = append(res.Streams, atk)
	if legitCalm != nil {
		res.Streams = append(res.Streams, legitCalm, streams[1])
		compareLegit(res, legitCalm, streams[1])
	}
	o := atk.Outcomes
	guesses := atk.Requests * uint64(items)
	res.find("no random token active", o["ACTIVE"] == 0, "%d of %d requests (%d guessed tokens) had an active answer", o["ACTIVE"], atk.Requests, guesses)
	guessRate := atk.RPS * float64(items)
	switch {
	case o["throttled-429"] > 0:
		res.info("push-back", "the server throttled %d of %d requests (429); guesses still answered at %.0f/s", o["throttled-429"], atk.Requests, atk.OKRPS*float64(items))
	default:
		res.info("push-back", "the server never throttled: one client guessed %.0f tokens/s (2^256 space: harmless, but a free CPU sink)", guessRate)
	}
	faults := atk.Requests - atk.OK - o["ACTIVE"]
	res.find("server faults", faults == 0, "%d answers were neither inactive nor a refusal (5xx, no answer, odd bodies)", faults)
	return res
}

// legitIntrospectPlans returns a calm and an under-attack stream of
// legitimate introspection of real opaque tokens by a different client, or
// nils when setup has none.
func (e *env) legitIntrospectPlans() (calm, under *plan) {
	c, ok := e.fx.client(roleOpaque)
	pool := e.fx.Tokens[roleOpaque]
	if !ok || len(pool) == 0 {
		return nil, nil
	}
	auth := basicAuth(c)
	ts := make([]vegeta.Target, len(pool))
	for i, tok := range pool {
		ts[i] = postForm(e.base+pathIntrospect, auth, []byte("token="+url.QueryEscape(tok)))
	}
	d := calmDuration(e.settings.Duration)
	calm = &plan{name: "legit-calm", settings: e.legitSettings(e.o.legitRate, d), targeter: rotating(ts), classify: introspectActive}
	under = &plan{name: "legit-under-attack", settings: e.legitSettings(e.o.legitRate, e.settings.Duration), targeter: rotating(ts), classify: introspectActive}
	return calm, under
}
