package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// side is one of the servers compared: its URL, a client of each token format
// and a token of each, all made through its admin API and token endpoint.
type side struct {
	name, base        string
	jwt, opaque       Credentials
	jwtTok, opaqueTok string
	kid               string // of jwtTok
}

func newSide(t *testing.T, hc *http.Client, name, public, admin, adminToken string) *side {
	t.Helper()
	ctx := context.Background()
	adm := &adminAPI{base: admin, token: adminToken, client: hc}
	s := &side{name: name, base: public}
	var err error
	for _, c := range []struct {
		creds  *Credentials
		tok    *string
		format string
	}{{&s.jwt, &s.jwtTok, roleJWT}, {&s.opaque, &s.opaqueTok, roleOpaque}} {
		if *c.creds, err = createClient(ctx, adm, "shape-"+c.format, c.format, "read write", []string{"client_credentials"}); err != nil {
			t.Fatalf("%s: create the %s client: %v", name, c.format, err)
		}
		if *c.tok, err = requestToken(ctx, hc, public, *c.creds); err != nil {
			t.Fatalf("%s: issue a %s token: %v", name, c.format, err)
		}
	}
	var h struct{ Kid string }
	if hd, _, ok := strings.Cut(s.jwtTok, "."); ok {
		b, _ := base64.RawURLEncoding.DecodeString(hd)
		_ = json.Unmarshal(b, &h)
	}
	s.kid = h.Kid
	return s
}

// exchange is one request, sent alike to every side (with that side's
// credentials and tokens), and what authd answers it.
type exchange struct {
	name, method, path, ctype string
	auth, body                func(*side) string
	wantStatus                int
	wantError                 string // the "error" member; "" for none
}

func fixed(s string) func(*side) string { return func(*side) string { return s } }

func introspectBody(tok func(*side) string) func(*side) string {
	return func(s *side) string { return "token=" + url.QueryEscape(tok(s)) }
}

var (
	asJWT       = func(s *side) string { return basicAuth(s.jwt) }
	asOpaque    = func(s *side) string { return basicAuth(s.opaque) }
	wrongSecret = func(s *side) string { return basicAuth(Credentials{ClientID: s.jwt.ClientID, ClientSecret: "wrong"}) }
	jwtTok      = func(s *side) string { return s.jwtTok }
	opaqueTok   = func(s *side) string { return s.opaqueTok }
	// A token of the opaque shape (36 bytes, base64url) whose tag is wrong.
	badTag      = func(s *side) string { return s.opaqueTok[:40] + "AAAAAAAA" }
	tamperedJWT = func(s *side) string { return s.jwtTok[:len(s.jwtTok)-6] + "AAAAAA" }
	batchOf     = func(toks ...func(*side) string) func(*side) string {
		return func(s *side) string {
			out := make([]string, len(toks))
			for i, tok := range toks {
				out[i] = tok(s)
			}
			b, _ := json.Marshal(map[string][]string{"tokens": out})
			return string(b)
		}
	}
)

const cc = "grant_type=client_credentials"

// exchanges are the requests whose answers the baseline must shape as authd
// does: the hot paths, and the refusals a load or attack run meets.
var exchanges = []exchange{
	{name: "token jwt", method: "POST", path: pathToken, ctype: formType, auth: asJWT, body: fixed(cc), wantStatus: 200},
	{name: "token opaque", method: "POST", path: pathToken, ctype: formType, auth: asOpaque, body: fixed(cc), wantStatus: 200},
	{name: "token narrower scope", method: "POST", path: pathToken, ctype: formType, auth: asJWT, body: fixed(cc + "&scope=read"), wantStatus: 200},
	{name: "token wrong secret", method: "POST", path: pathToken, ctype: formType, auth: wrongSecret, body: fixed(cc), wantStatus: 401, wantError: "invalid_client"},
	{name: "token unknown client", method: "POST", path: pathToken, ctype: formType, auth: fixed(basicAuth(Credentials{ClientID: "no-such-client", ClientSecret: "x"})), body: fixed(cc), wantStatus: 401, wantError: "invalid_client"},
	{name: "token malformed basic", method: "POST", path: pathToken, ctype: formType, auth: fixed("Basic %%%"), body: fixed(cc), wantStatus: 401, wantError: "invalid_client"},
	{name: "token without credentials", method: "POST", path: pathToken, ctype: formType, body: fixed(cc), wantStatus: 401, wantError: "invalid_client"},
	{name: "token missing grant_type", method: "POST", path: pathToken, ctype: formType, auth: asJWT, body: fixed("scope=read"), wantStatus: 400, wantError: "invalid_request"},
	{name: "token missing grant_type, wrong secret", method: "POST", path: pathToken, ctype: formType, auth: wrongSecret, body: fixed("scope=read"), wantStatus: 400, wantError: "invalid_request"},
	{name: "token unsupported grant_type", method: "POST", path: pathToken, ctype: formType, auth: asJWT, body: fixed("grant_type=urn%3Aloadtest%3Abogus"), wantStatus: 400, wantError: "unsupported_grant_type"},
	{name: "token scope not allowed", method: "POST", path: pathToken, ctype: formType, auth: asJWT, body: fixed(cc + "&scope=admin"), wantStatus: 400, wantError: "invalid_scope"},
	{name: "token repeated parameter", method: "POST", path: pathToken, ctype: formType, auth: asJWT, body: fixed(cc + "&" + cc), wantStatus: 400, wantError: "invalid_request"},
	{name: "token malformed form", method: "POST", path: pathToken, ctype: formType, auth: asJWT, body: fixed("grant_type=%zz"), wantStatus: 400, wantError: "invalid_request"},
	{name: "token wrong content type", method: "POST", path: pathToken, ctype: "text/plain", auth: asJWT, body: fixed(cc), wantStatus: 400, wantError: "invalid_request"},
	{name: "token oversized body", method: "POST", path: pathToken, ctype: formType, auth: asJWT, body: fixed(cc + "&x=" + strings.Repeat("a", baselineMaxBody)), wantStatus: 413, wantError: "invalid_request"},
	{name: "token wrong method", method: "GET", path: pathToken, wantStatus: 405, wantError: "invalid_request"},
	{name: "introspect jwt", method: "POST", path: pathIntrospect, ctype: formType, auth: asJWT, body: introspectBody(jwtTok), wantStatus: 200},
	{name: "introspect opaque", method: "POST", path: pathIntrospect, ctype: formType, auth: asJWT, body: introspectBody(opaqueTok), wantStatus: 200},
	{name: "introspect garbage", method: "POST", path: pathIntrospect, ctype: formType, auth: asJWT, body: fixed("token=not-a-token"), wantStatus: 200},
	{name: "introspect opaque with a wrong tag", method: "POST", path: pathIntrospect, ctype: formType, auth: asJWT, body: introspectBody(badTag), wantStatus: 200},
	{name: "introspect tampered jwt", method: "POST", path: pathIntrospect, ctype: formType, auth: asJWT, body: introspectBody(tamperedJWT), wantStatus: 200},
	{name: "introspect without token", method: "POST", path: pathIntrospect, ctype: formType, auth: asJWT, body: fixed("token="), wantStatus: 400, wantError: "invalid_request"},
	{name: "introspect wrong secret", method: "POST", path: pathIntrospect, ctype: formType, auth: wrongSecret, body: introspectBody(jwtTok), wantStatus: 401, wantError: "invalid_client"},
	{name: "introspect without credentials", method: "POST", path: pathIntrospect, ctype: formType, body: introspectBody(jwtTok), wantStatus: 401, wantError: "invalid_client"},
	{name: "introspect wrong method", method: "GET", path: pathIntrospect, wantStatus: 405, wantError: "invalid_request"},
	{name: "batch", method: "POST", path: pathIntrospectBatch, ctype: jsonType, auth: asJWT, body: batchOf(jwtTok, opaqueTok, fixed("x")), wantStatus: 200},
	{name: "batch wrong secret", method: "POST", path: pathIntrospectBatch, ctype: jsonType, auth: wrongSecret, body: batchOf(jwtTok), wantStatus: 401, wantError: "invalid_client"},
	{name: "batch too many", method: "POST", path: pathIntrospectBatch, ctype: jsonType, auth: asJWT, body: fixed(`{"tokens":[` + strings.Repeat(`"x",`, batchSize) + `"x"]}`), wantStatus: 400, wantError: "invalid_request"},
	{name: "batch malformed", method: "POST", path: pathIntrospectBatch, ctype: jsonType, auth: asJWT, body: fixed("{"), wantStatus: 400, wantError: "invalid_request"},
	{name: "batch form type", method: "POST", path: pathIntrospectBatch, ctype: formType, auth: asJWT, body: fixed(`{"tokens":[]}`), wantStatus: 400, wantError: "invalid_request"},
	{name: "jwks", method: "GET", path: pathJWKS, wantStatus: 200},
	{name: "unknown path", method: "POST", path: "/oauth2/no-such-endpoint", ctype: formType, wantStatus: 404, wantError: "not_found"},
}

// authdOnlyHeaders are what authd answers and the baseline, by design, does
// not: they come from authd's middleware and JWKS handler, which the baseline
// leaves out. A header missing from this list fails the test, and so does one
// listed that authd never sent.
var authdOnlyHeaders = map[string]string{
	"X-Request-Id":                "request correlation (middleware)",
	"X-Content-Type-Options":      "security header on every answer (middleware)",
	"Referrer-Policy":             "security header on every answer (middleware)",
	"X-Frame-Options":             "security header on every answer (middleware)",
	"Content-Security-Policy":     "security header on every answer (middleware)",
	"Etag":                        "conditional GET of the JWKS",
	"Access-Control-Allow-Origin": "the JWKS is readable cross-origin (CORS)",
	"Vary":                        "a 404 is a page for browsers and JSON for the rest (Accept)",
}

// answer is what a side answered.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (s *side) send(t *testing.T, hc *http.Client, ex exchange) answer {
	t.Helper()
	var body io.Reader
	if ex.body != nil {
		body = strings.NewReader(ex.body(s))
	}
	req, err := http.NewRequest(ex.method, s.base+ex.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ex.ctype != "" {
		req.Header.Set("Content-Type", ex.ctype)
	}
	if ex.auth != nil {
		req.Header.Set("Authorization", ex.auth(s))
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

// check reports what in a is not what ex wants of it.
func (ex exchange) check(t *testing.T, s *side, a answer) {
	t.Helper()
	var e struct{ Error string }
	_ = json.Unmarshal(a.body, &e)
	if a.status != ex.wantStatus || e.Error != ex.wantError {
		t.Errorf("%s answered %d %q (%.200s); want %d %q", s.name, a.status, e.Error, a.body, ex.wantStatus, ex.wantError)
	}
	if ex.path != pathJWKS && (a.header.Get("Content-Type") != jsonType || a.header.Get("Cache-Control") != "no-store") {
		t.Errorf("%s answered Content-Type %q, Cache-Control %q; want JSON, no-store", s.name,
			a.header.Get("Content-Type"), a.header.Get("Cache-Control"))
	}
	// An active answer is about a token of this side, for one of its clients.
	var info activeInfo
	if ex.path == pathIntrospect && json.Unmarshal(a.body, &info) == nil && info.Active &&
		(info.Iss != s.base || info.Aud != s.base || info.Sub != info.ClientID ||
			(info.ClientID != s.jwt.ClientID && info.ClientID != s.opaque.ClientID)) {
		t.Errorf("%s: answer %s is not about a token it issued (issuer %s)", s.name, a.body, s.base)
	}
}

// activeInfo is what tests read of an introspection answer.
type activeInfo struct {
	Active             bool
	Iss, Aud, Sub, Jti string
	ClientID           string `json:"client_id"`
}

// TestBaselineAnswersLikeAuthd sends the same requests to the real authd and
// to the baseline and compares what must match: status, the headers with a
// protocol meaning, the JSON member names and types (and the values of the
// members that are codes: error, token_type, active, alg, typ…), the JWT
// header and claim names. Header names authd sends beyond the baseline's must
// be the ones authdOnlyHeaders explains.
func TestBaselineAnswersLikeAuthd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs authd")
	}
	authd := startAuthd(t)
	hc := newHTTPClient(10*time.Second, 4, "")
	defer hc.CloseIdleConnections()
	base := startTestBaseline(t)
	sides := []*side{
		newSide(t, hc, "authd", authd.public, authd.admin, authd.adminToken),
		newSide(t, hc, "baseline", base, base, testAdminToken),
	}
	seen := map[string]bool{}
	for _, ex := range exchanges {
		t.Run(ex.name, func(t *testing.T) {
			var got []answer
			var shapes []string
			for _, s := range sides {
				a := s.send(t, hc, ex)
				ex.check(t, s, a)
				got, shapes = append(got, a), append(shapes, shapeOf(a, s))
			}
			if shapes[0] != shapes[1] {
				t.Errorf("different shapes\nauthd:\n%s\nbaseline:\n%s", shapes[0], shapes[1])
			}
			for _, h := range headerNames(got[1].header, got[0].header) {
				t.Errorf("only the baseline answers %s", h)
			}
			for _, h := range headerNames(got[0].header, got[1].header) {
				if _, ok := authdOnlyHeaders[h]; !ok {
					t.Errorf("only authd answers %s: give the baseline the header or say in authdOnlyHeaders why not", h)
				}
				seen[h] = true
			}
		})
	}
	for _, h := range slices.Sorted(maps.Keys(authdOnlyHeaders)) {
		if !seen[h] {
			t.Errorf("authdOnlyHeaders lists %s, which authd never answered", h)
		} else {
			t.Logf("authd does more: %s: %s", h, authdOnlyHeaders[h])
		}
	}
}

// headerNames lists the header names in a and not in b, but for those of the
// connection (Date, Content-Length, Connection).
func headerNames(a, b http.Header) []string {
	var out []string
	for k := range a {
		switch k {
		case "Date", "Content-Length", "Connection":
			continue
		}
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

var realm = regexp.MustCompile(`realm="[^"]*"`)

// shapeOf renders what of an answer must be alike on every side.
func shapeOf(a answer, s *side) string {
	var b strings.Builder
	fmt.Fprintf(&b, "status %d\n", a.status)
	for _, h := range []string{"Content-Type", "Cache-Control", "Pragma", "Allow", "WWW-Authenticate", "Retry-After"} {
		if v := a.header.Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", h, realm.ReplaceAllString(v, `realm="…"`))
		}
	}
	dec := json.NewDecoder(strings.NewReader(string(a.body)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		fmt.Fprintf(&b, "body (not JSON) %q\n", a.body)
		return b.String()
	}
	if m, ok := v.(map[string]any); ok && m["keys"] != nil {
		// A JWKS: authd publishes more keys (id_token keys); compare the one
		// that signed the side's access token.
		keys, _ := m["keys"].([]any)
		m["keys"] = slices.DeleteFunc(keys, func(k any) bool { km, _ := k.(map[string]any); return km["kid"] != s.kid })
	}
	fmt.Fprintf(&b, "body %s\n", skeleton(v, ""))
	return b.String()
}

// literal are the members whose values, not only types, must match.
var literal = map[string]bool{"error": true, "scope": true, "token_type": true, "alg": true, "typ": true, "kty": true, "crv": true, "use": true}

// skeleton renders a decoded JSON value as its member names and types, with
// the values of literal members and of booleans; an access_token is shown as
// a JWT's header and claims skeletons, or an opaque token's length.
func skeleton(v any, member string) string {
	switch v := v.(type) {
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			parts = append(parts, strconv.Quote(k)+":"+skeleton(v[k], k))
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = skeleton(e, member)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case string:
		switch {
		case literal[member]:
			return strconv.Quote(v)
		case member == "access_token":
			return tokenSkeleton(v)
		}
		return "string"
	case json.Number:
		return "number"
	case bool:
		return strconv.FormatBool(v)
	}
	return "null"
}

func tokenSkeleton(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		// Not the length: authd's sealed tokens carry their record (a few
		// hundred characters), the baseline's are handles to a map entry,
		// as authd's stored ones (48). What a client sees is the same: an
		// opaque base64url string.
		_, err := base64.RawURLEncoding.DecodeString(tok)
		return fmt.Sprintf("opaque(base64url %v)", err == nil)
	}
	out := "jwt("
	for _, p := range parts[:2] {
		var v any
		b, _ := base64.RawURLEncoding.DecodeString(p)
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		_ = dec.Decode(&v)
		out += skeleton(v, "") + " "
	}
	return out + "signature)"
}
