package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// A traffic mix: kinds of request with weights, "token:20,introspect:70,jwks:10",
// sent interleaved in those proportions. The mixed and stress scenarios send it.
// Each kind is one of the benchmark scenarios' requests, judged as that
// scenario judges it.
//
// userinfo needs access tokens issued to users: with it in the mix, setup
// creates users and gets up to maxUserTokens tokens with the openid scope
// through the password grant. A server without users or that grant (the
// baseline) cannot run a mix with userinfo.

// defaultMix is the --mix of mixed and stress: a resource-server-heavy blend.
const defaultMix = "token:20,introspect:70,jwks:10"

// Bounds of a --mix value.
const (
	maxMixLength = 512
	maxMixWeight = 1000
)

// mixKind is one kind of request a mix can hold.
type mixKind struct {
	name  string
	about string
	// targets returns the kind's requests against e (sent round-robin) and
	// how to judge an answer, or why e cannot serve the kind.
	targets func(e *env) ([]vegeta.Target, classifier, error)
}

var mixKinds = []mixKind{
	{name: "token", about: "client_credentials, JWT access token", targets: func(e *env) ([]vegeta.Target, classifier, error) {
		return tokenTargets(e, roleJWT)
	}},
	{name: "token-opaque", about: "client_credentials, opaque access token", targets: func(e *env) ([]vegeta.Target, classifier, error) {
		return tokenTargets(e, roleOpaque)
	}},
	{name: "introspect", about: "introspection of a pooled opaque token", targets: func(e *env) ([]vegeta.Target, classifier, error) {
		return introspectTargets(e, roleOpaque)
	}},
	{name: "introspect-jwt", about: "introspection of a pooled JWT", targets: func(e *env) ([]vegeta.Target, classifier, error) {
		return introspectTargets(e, roleJWT)
	}},
	{name: "introspect-batch", about: "batch introspection of 100 pooled tokens", targets: func(e *env) ([]vegeta.Target, classifier, error) {
		c, ok := e.fx.client(roleJWT)
		pool := batchPool(e.fx, e.o.batchFormat)
		if !ok || len(pool) == 0 {
			return nil, nil, fmt.Errorf("setup has no tokens for --batch-format %s", e.o.batchFormat)
		}
		var ts []vegeta.Target
		for _, b := range batchBodies(pool) {
			ts = append(ts, postJSON(e.base+pathIntrospectBatch, basicAuth(c), b))
		}
		return ts, batchAllActive, nil
	}},
	{name: "userinfo", about: "OpenID Connect userinfo with a pooled user token", targets: func(e *env) ([]vegeta.Target, classifier, error) {
		pool := e.fx.Tokens[roleUser]
		if len(pool) == 0 {
			why := "setup has no user tokens (they need users and the password grant)"
			for _, k := range []string{featureUsers, featurePasswordGrant} {
				if u := e.fx.Unsupported[k]; u != "" {
					why += ": " + u
				}
			}
			return nil, nil, errors.New(why)
		}
		ts := make([]vegeta.Target, len(pool))
		for i, tok := range pool {
			ts[i] = vegeta.Target{Method: "GET", URL: e.base + pathUserInfo, Header: http.Header{"Authorization": {"Bearer " + tok}}}
		}
		return ts, expect200(`"sub"`, "userinfo"), nil
	}},
	{name: "jwks", about: "GET the JWKS document", targets: func(e *env) ([]vegeta.Target, classifier, error) {
		return []vegeta.Target{{Method: "GET", URL: e.base + pathJWKS}}, expect200(`"keys"`, "jwks"), nil
	}},
}

func tokenTargets(e *env, role string) ([]vegeta.Target, classifier, error) {
	c, ok := e.fx.client(role)
	if !ok {
		return nil, nil, fmt.Errorf("setup has no %s client", role)
	}
	return []vegeta.Target{postForm(e.base+pathToken, basicAuth(c), []byte("grant_type=client_credentials"))},
		expect200(`"access_token"`, "issued"), nil
}

func introspectTargets(e *env, format string) ([]vegeta.Target, classifier, error) {
	c, ok := e.fx.client(roleJWT)
	pool := e.fx.Tokens[format]
	if !ok || len(pool) == 0 {
		return nil, nil, fmt.Errorf("setup has no %s tokens", format)
	}
	auth := basicAuth(c)
	ts := make([]vegeta.Target, len(pool))
	for i, tok := range pool {
		ts[i] = postForm(e.base+pathIntrospect, auth, []byte("token="+url.QueryEscape(tok)))
	}
	return ts, introspectActive, nil
}

func lookupMixKind(name string) *mixKind {
	for i := range mixKinds {
		if mixKinds[i].name == name {
			return &mixKinds[i]
		}
	}
	return nil
}

func mixKindNames() []string {
	out := make([]string, len(mixKinds))
	for i, k := range mixKinds {
		out[i] = k.name
	}
	return out
}

// mixEntry is one kind and its weight.
type mixEntry struct {
	kind   *mixKind
	weight int
}

// parseMix parses "KIND:WEIGHT,…": known kinds, each once, weights from 1
// to maxMixWeight.
func parseMix(spec string) ([]mixEntry, error) {
	if len(spec) > maxMixLength {
		return nil, fmt.Errorf("--mix: longer than %d characters", maxMixLength)
	}
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("--mix: name at least one KIND:WEIGHT, such as " + defaultMix)
	}
	var out []mixEntry
	for _, part := range strings.Split(spec, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), ":")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("--mix %q: want KIND:WEIGHT, such as token:20", part)
		}
		k := lookupMixKind(name)
		if k == nil {
			return nil, fmt.Errorf("--mix %q: unknown kind %q (known: %s)", part, name, strings.Join(mixKindNames(), ", "))
		}
		weight, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || weight < 1 || weight > maxMixWeight {
			return nil, fmt.Errorf("--mix %q: the weight must be a whole number from 1 to %d", part, maxMixWeight)
		}
		if slices.ContainsFunc(out, func(e mixEntry) bool { return e.kind == k }) {
			return nil, fmt.Errorf("--mix %q: %s is named twice", part, name)
		}
		out = append(out, mixEntry{kind: k, weight: weight})
	}
	return out, nil
}

// mixSequence returns one cycle of entry indexes in which each entry appears
// in proportion to its weight, spread out rather than in runs (smooth
// weighted round-robin, as nginx balances upstreams), so every second of a
// run carries the mix and not a burst of one kind.
func mixSequence(entries []mixEntry) []int {
	g := 0
	for _, e := range entries {
		g = gcd(g, e.weight)
	}
	total := 0
	for _, e := range entries {
		total += e.weight / g
	}
	cur := make([]int, len(entries))
	seq := make([]int, 0, total)
	for range total {
		best := 0
		for i, e := range entries {
			cur[i] += e.weight / g
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		seq = append(seq, best)
	}
	return seq
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// mixQuery tags each request with its kind (?mix=KIND, which the servers
// ignore) so that its answer can be judged by that kind's rules.
const mixQuery = "mix="

// mixPlan builds the targeter and classifier of a mix against e: requests
// in the mix's proportions, each kind cycling through its own targets.
// Outcomes are "KIND/OUTCOME". It returns an error naming the first kind e
// cannot serve.
func mixPlan(e *env, entries []mixEntry) (vegeta.Targeter, classifier, []vegeta.Target, error) {
	type kindPlan struct {
		ts   []vegeta.Target
		next atomic.Uint64
	}
	kinds := make([]*kindPlan, len(entries))
	judges := map[string]classifier{}
	var firsts []vegeta.Target
	for i, en := range entries {
		ts, judge, err := en.kind.targets(e)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", en.kind.name, err)
		}
		for j := range ts {
			sep := "?"
			if strings.Contains(ts[j].URL, "?") {
				sep = "&"
			}
			ts[j].URL += sep + mixQuery + en.kind.name
		}
		kinds[i] = &kindPlan{ts: ts}
		judges[en.kind.name] = judge
		firsts = append(firsts, ts[0])
	}
	seq := mixSequence(entries)
	var n atomic.Uint64
	targeter := func(tg *vegeta.Target) error {
		k := kinds[seq[(n.Add(1)-1)%uint64(len(seq))]]
		*tg = k.ts[(k.next.Add(1)-1)%uint64(len(k.ts))]
		return nil
	}
	classify := func(r *vegeta.Result) (string, bool) {
		kind := mixKindOf(r)
		judge, ok := judges[kind]
		if !ok {
			return kind + "/" + statusOutcome(r), false
		}
		out, good := judge(r)
		return kind + "/" + out, good
	}
	return targeter, classify, firsts, nil
}

// mixNeedsUsers reports whether a mix holds a kind that needs users.
func mixNeedsUsers(entries []mixEntry) bool {
	return slices.ContainsFunc(entries, func(e mixEntry) bool { return e.kind.name == "userinfo" })
}

// mixKindOf returns the kind a mix request was tagged with.
func mixKindOf(r *vegeta.Result) string {
	if i := strings.LastIndex(r.URL, mixQuery); i >= 0 {
		return r.URL[i+len(mixQuery):]
	}
	return "unknown"
}
