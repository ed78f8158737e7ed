package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The baseline is a bare net/http server doing, per request, the work authd
// cannot avoid on its hot paths, with the same calls, and nothing else: no
// store, cache, limits, logging or middleware. authd's figures divided by the
// baseline's say what authd's architecture costs on top of that work.
//
//   - token: form, Basic credentials, SHA-256 of the secret compared in
//     constant time, scope; then the RFC 9068 claims signed ES256 with go-jose
//     (signer.Sign(json.Marshal(claims))), or an opaque token: 32 random bytes
//     and authd's 4-byte HMAC-SHA256 tag, kept by its SHA-256 in a map.
//   - introspect: the same form and client checks; a JWT parsed against an
//     allowed-algorithm list, its typ, kid, signature and claims checked; an
//     opaque token's tag checked and its SHA-256 looked up; the RFC 7662 JSON.
//
// It imports nothing of authd, so it cannot inherit authd's speed-ups or
// bugs; TestBaselineAnswersLikeAuthd proves it answers in authd's shapes.

const (
	baselineTTL          = time.Hour
	baselineMaxTTL       = 24 * time.Hour // authd's default AUTHD_MAX_TOKEN_TTL
	baselineLeeway       = 5              // seconds, as authd
	baselineMaxBody      = 64 << 10
	baselineMaxBatchBody = batchSize*baselineMaxToken + 4096
	baselineMaxToken     = 4096
	// baselineMaxTokens bounds the opaque-token map; past it tokens are
	// issued but not kept, so a long issuance run cannot exhaust memory.
	baselineMaxTokens = 1 << 20
)

// baseline is the server's state. Safe for concurrent use.
type baseline struct {
	issuer    string
	adminHash [32]byte
	signer    jose.Signer
	pub       *ecdsa.PublicKey
	kid       string
	jwks      []byte
	macs      sync.Pool // HMAC-SHA256 states keyed for opaque-token tags, as authd pools them
	now       func() time.Time

	mu      sync.RWMutex
	clients map[string]*baselineClient
	tokens  map[[32]byte]opaqueToken // by SHA-256 of the token
}

type baselineClient struct {
	id         string
	secretHash [32]byte
	opaque     bool
	scopes     []string
}

// opaqueToken is what the baseline keeps of an opaque token, as authd's
// store does: small, so a million of them cost the garbage collector little.
type opaqueToken struct {
	clientID, scope string
	iat             int64
}

// claims are the RFC 9068 §2.2 claims authd puts in client_credentials
// tokens, and what introspection tells of an active token (an opaque one has
// no jti). Issuing sets every member; omitempty is for the inactive answer.
type claims struct {
	Iss      string `json:"iss,omitempty"`
	Sub      string `json:"sub,omitempty"`
	Aud      string `json:"aud,omitempty"`
	Exp      int64  `json:"exp,omitempty"`
	Iat      int64  `json:"iat,omitempty"`
	Nbf      int64  `json:"nbf,omitempty"`
	Jti      string `json:"jti,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	Scope    string `json:"scope,omitempty"`
}

// introspection is the RFC 7662 §2.2 answer; the zero value, for every token
// that is not active, is {"active":false}.
type introspection struct {
	Active    bool   `json:"active"`
	TokenType string `json:"token_type,omitempty"`
	claims
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// newBaseline makes a baseline with a fresh ES256 key whose kid is its
// RFC 7638 thumbprint. adminToken guards POST /admin/clients.
func newBaseline(issuer, adminToken string) (*baseline, error) {
	if adminToken == "" {
		return nil, errors.New("baseline: an admin token is required")
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: string(jose.ES256), Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	if err != nil {
		return nil, err
	}
	// One signer for the life of the key, as authd caches one per key.
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256,
		Key: jose.JSONWebKey{Key: priv, KeyID: pub.KeyID, Algorithm: string(jose.ES256)}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		return nil, err
	}
	b := &baseline{
		issuer: issuer, adminHash: sha256.Sum256([]byte(adminToken)),
		signer: signer, pub: &priv.PublicKey, kid: pub.KeyID, jwks: jwks, now: time.Now,
		clients: map[string]*baselineClient{}, tokens: map[[32]byte]opaqueToken{},
	}
	tagKey := []byte(randomString(32))
	b.macs.New = func() any { return hmac.New(sha256.New, tagKey) }
	return b, nil
}

// handler routes authd's paths. Known paths answer other methods 405 and
// unknown ones 404, in JSON, as authd does.
func (b *baseline) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(pathToken, post(baselineMaxBody, b.token))
	mux.Handle(pathIntrospect, post(baselineMaxBody, b.introspectOne))
	mux.Handle(pathIntrospectBatch, post(baselineMaxBatchBody, b.introspectBatch))
	mux.HandleFunc("GET "+pathJWKS, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(b.jwks)
	})
	mux.HandleFunc("POST /admin/clients", b.createClient)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, oauthError{Code: "not_found"})
	})
	return mux
}

// oauthError is an RFC 6749 §5.2 error answer.
type oauthError struct {
	status int
	Code   string `json:"error"`
	Desc   string `json:"error_description,omitempty"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Desc }

func invalidRequest(desc string) error {
	return &oauthError{status: http.StatusBadRequest, Code: "invalid_request", Desc: desc}
}

// post serves a POST endpoint: the body capped at limit, h's answer as JSON.
func post(limit int64, h func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, oauthError{Code: "invalid_request", Desc: "method not allowed"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		v, err := h(r)
		var e *oauthError
		switch {
		case errors.As(err, &e):
			if e.status == http.StatusUnauthorized { // RFC 9110 §15.5.2: a 401 carries a challenge
				w.Header().Set("WWW-Authenticate", `Basic realm="baseline", charset="UTF-8"`)
			}
			writeJSON(w, e.status, e)
		case err != nil:
			writeJSON(w, http.StatusInternalServerError, oauthError{Code: "server_error"})
		default:
			writeJSON(w, http.StatusOK, v)
		}
	}
}

// writeJSON writes v with the headers of every OAuth answer (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", jsonType)
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// readBody reads the body post capped, answering 413 past the cap.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &oauthError{status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Desc: "request body too large"}
	}
	if err != nil {
		return nil, invalidRequest("could not read the request body")
	}
	return body, nil
}

// readForm parses an urlencoded body: a parameter without a value is absent,
// a repeated one an error (RFC 6749 §3.1).
func readForm(r *http.Request) (map[string]string, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != formType {
		return nil, invalidRequest("Content-Type must be application/x-www-form-urlencoded")
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	f := map[string]string{}
	for pair := range strings.SplitSeq(string(body), "&") {
		k, v, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		switch {
		case err1 != nil || err2 != nil:
			return nil, invalidRequest("malformed form body")
		case val == "":
		case f[key] != "":
			return nil, invalidRequest("a parameter is repeated")
		default:
			f[key] = val
		}
	}
	return f, nil
}

var errNoClient = &oauthError{status: http.StatusUnauthorized, Code: "invalid_client", Desc: "client authentication failed"}

// credentials decodes client_secret_basic: base64 of the form-encoded id and
// secret (RFC 6749 §2.3.1). Without an Authorization header it is
// invalid_client too.
func credentials(r *http.Request) (id, secret string, err error) {
	if r.Header.Get("Authorization") == "" {
		return "", "", errNoClient
	}
	rawID, rawSecret, ok := r.BasicAuth()
	id, err1 := url.QueryUnescape(rawID)
	secret, err2 := url.QueryUnescape(rawSecret)
	if !ok || err1 != nil || err2 != nil || id == "" {
		return "", "", errNoClient
	}
	return id, secret, nil
}

// authenticate compares the secret's SHA-256 in constant time; an unknown
// client costs the same as a wrong secret.
func (b *baseline) authenticate(id, secret string) (*baselineClient, error) {
	b.mu.RLock()
	c := b.clients[id]
	b.mu.RUnlock()
	var want [32]byte // no secret hashes to zeros: an unknown client fails alike
	if c != nil {
		want = c.secretHash
	}
	got := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return nil, errNoClient
	}
	return c, nil
}

// caller authenticates the client calling introspection.
func (b *baseline) caller(r *http.Request) error {
	id, secret, err := credentials(r)
	if err == nil {
		_, err = b.authenticate(id, secret)
	}
	return err
}

// token is the client_credentials grant (RFC 6749 §4.4), checked in authd's
// order: form, Basic syntax, grant_type, then the client.
func (b *baseline) token(r *http.Request) (any, error) {
	f, err := readForm(r)
	if err != nil {
		return nil, err
	}
	id, secret, err := credentials(r)
	if err != nil {
		return nil, err
	}
	switch f["grant_type"] {
	case "client_credentials":
	case "":
		return nil, invalidRequest("grant_type is required")
	default:
		return nil, &oauthError{status: http.StatusBadRequest, Code: "unsupported_grant_type", Desc: "grant_type is not supported"}
	}
	c, err := b.authenticate(id, secret)
	if err != nil {
		return nil, err
	}
	scopes := c.scopes
	if req, ok := f["scope"]; ok {
		scopes = strings.Fields(req)
		for _, s := range scopes {
			if !slices.Contains(c.scopes, s) {
				return nil, &oauthError{status: http.StatusBadRequest, Code: "invalid_scope", Desc: "the requested scope exceeds what the client is allowed"}
			}
		}
	}
	return b.issue(c, strings.Join(scopes, " "))
}

// issue mints an access token in the client's format.
func (b *baseline) issue(c *baselineClient, scope string) (*tokenResponse, error) {
	now := b.now().Unix()
	exp := now + int64(baselineTTL/time.Second)
	resp := &tokenResponse{TokenType: "Bearer", ExpiresIn: int64(baselineTTL / time.Second), Scope: scope}
	if c.opaque {
		var raw [36]byte
		_, _ = rand.Read(raw[:32])
		t := b.tag(raw[:32])
		copy(raw[32:], t[:])
		resp.AccessToken = base64.RawURLEncoding.EncodeToString(raw[:])
		b.mu.Lock()
		if len(b.tokens) < baselineMaxTokens {
			b.tokens[sha256.Sum256([]byte(resp.AccessToken))] = opaqueToken{clientID: c.id, scope: scope, iat: now}
		}
		b.mu.Unlock()
		return resp, nil
	}
	payload, err := json.Marshal(&claims{Iss: b.issuer, Sub: c.id, Aud: b.issuer, Exp: exp, Iat: now, Nbf: now,
		Jti: randomString(16), ClientID: c.id, Scope: scope})
	if err != nil {
		return nil, err
	}
	jws, err := b.signer.Sign(payload)
	if err != nil {
		return nil, err
	}
	resp.AccessToken, err = jws.CompactSerialize()
	return resp, err
}

// tag is the first 4 bytes of HMAC-SHA256 of an opaque token's random part:
// authd's way to refuse a guessed token before any lookup.
func (b *baseline) tag(random []byte) (tag [4]byte) {
	m := b.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(random)
	var sum [sha256.Size]byte
	copy(tag[:], m.Sum(sum[:0]))
	b.macs.Put(m)
	return tag
}

func (b *baseline) introspectOne(r *http.Request) (any, error) {
	f, err := readForm(r)
	if err != nil {
		return nil, err
	}
	if err := b.caller(r); err != nil {
		return nil, err
	}
	tok, ok := f["token"]
	if !ok {
		return nil, invalidRequest("token is required")
	}
	return b.introspect(tok), nil
}

// introspectBatch answers {"tokens":[…]} with {"results":[…]}, authenticating
// before it looks at the size, as authd does.
func (b *baseline) introspectBatch(r *http.Request) (any, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != jsonType {
		return nil, invalidRequest("Content-Type must be application/json")
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	var req struct{ Tokens []string }
	if err := json.Unmarshal(body, &req); err != nil || req.Tokens == nil {
		return nil, invalidRequest(`body must be {"tokens":["…", …]}`)
	}
	if err := b.caller(r); err != nil {
		return nil, err
	}
	if len(req.Tokens) > batchSize {
		return nil, invalidRequest("at most 100 tokens per batch")
	}
	out := struct {
		Results []introspection `json:"results"`
	}{make([]introspection, len(req.Tokens))}
	for i, tok := range req.Tokens {
		out.Results[i] = b.introspect(tok)
	}
	return out, nil
}

// introspect answers for one token; anything wrong with it is inactive.
func (b *baseline) introspect(tok string) introspection {
	if tok == "" || len(tok) > baselineMaxToken {
		return introspection{}
	}
	if strings.Count(tok, ".") == 2 {
		return b.introspectJWT(tok)
	}
	var raw [36]byte
	if n, err := base64.RawURLEncoding.Decode(raw[:], []byte(tok)); len(tok) != 48 || err != nil || n != 36 {
		return introspection{}
	}
	if t := b.tag(raw[:32]); !hmac.Equal(t[:], raw[32:]) {
		return introspection{}
	}
	b.mu.RLock()
	t, ok := b.tokens[sha256.Sum256([]byte(tok))]
	b.mu.RUnlock()
	exp := t.iat + int64(baselineTTL/time.Second)
	if !ok || exp <= b.now().Unix() {
		return introspection{}
	}
	return introspection{Active: true, TokenType: "Bearer", claims: claims{Iss: b.issuer, Sub: t.clientID, Aud: b.issuer,
		Exp: exp, Iat: t.iat, Nbf: t.iat, ClientID: t.clientID, Scope: t.scope}}
}

// allowedAlgs is what a JWT may claim to be signed with (RFC 8725 §3.1).
var allowedAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256}

func (b *baseline) introspectJWT(tok string) introspection {
	obj, err := jose.ParseSignedCompact(tok, allowedAlgs)
	if err != nil || len(obj.Signatures) != 1 {
		return introspection{}
	}
	h := obj.Signatures[0].Header
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") ||
		h.KeyID != b.kid || h.Algorithm != string(jose.ES256) {
		return introspection{}
	}
	payload, err := obj.Verify(b.pub)
	if err != nil {
		return introspection{}
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return introspection{}
	}
	now, maxTTL := b.now().Unix(), int64(baselineMaxTTL/time.Second)+baselineLeeway
	if c.Iss != b.issuer || c.Jti == "" || c.Exp <= now || c.Nbf > now+baselineLeeway || c.Iat > now+baselineLeeway ||
		c.Exp-c.Iat > maxTTL || c.Exp > now+maxTTL {
		return introspection{}
	}
	return introspection{Active: true, TokenType: "Bearer", claims: c}
}

// createClient is the part of authd's POST /admin/clients that setup uses.
// Only client_credentials clients exist here; another grant is refused as
// "not supported", which setup records instead of failing.
func (b *baseline) createClient(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	got := sha256.Sum256([]byte(tok))
	if !ok || subtle.ConstantTimeCompare(got[:], b.adminHash[:]) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "the admin bearer token is not valid"})
		return
	}
	var req struct {
		Scope             string   `json:"scope"`
		AccessTokenFormat string   `json:"access_token_format"`
		GrantTypes        []string `json:"grant_types"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, baselineMaxBody))
	if err != nil || json.Unmarshal(body, &req) != nil ||
		slices.ContainsFunc(req.GrantTypes, func(g string) bool { return g != "client_credentials" }) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "client metadata JSON for client_credentials; other grants are not supported"})
		return
	}
	c := &baselineClient{id: randomString(16), opaque: req.AccessTokenFormat == roleOpaque, scopes: strings.Fields(req.Scope)}
	secret := randomString(32)
	c.secretHash = sha256.Sum256([]byte(secret))
	b.mu.Lock()
	b.clients[c.id] = c
	b.mu.Unlock()
	writeJSON(w, http.StatusCreated, Credentials{ClientID: c.id, ClientSecret: secret})
}
