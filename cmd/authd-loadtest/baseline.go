package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
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

// The baseline is a bare net/http server that does, per request, the same
// cryptographic and parsing work authd does on its hot paths, and nothing
// else: no store, no cache tiers, no middleware, no logging, no limits. What
// it measures is the ceiling for this machine: authd's figures divided by
// the baseline's say what authd's architecture costs on top of the work that
// cannot be avoided.
//
// Per request it does what authd does:
//   - token: parse the form (duplicates refused), decode Basic credentials
//     (RFC 6749 §2.3.1 form-encoding), look the client up, SHA-256 the secret
//     and compare in constant time, resolve the scope, then either build the
//     RFC 9068 claims and sign them ES256 with go-jose (JWT), or draw 32
//     random bytes, SHA-256 them and insert the record in a map (opaque).
//   - introspect: the same form and client checks; a JWT is parsed against an
//     allowed-algorithm list, its typ and kid checked, its ES256 signature
//     verified, its claims decoded and checked, and its jti looked up in a
//     revocation set; an opaque token is SHA-256'd and looked up in the map.
//   - batch: the same for up to 100 tokens from a JSON body.
//
// It serves the paths authd does (/oauth2/token, /oauth2/introspect,
// /oauth2/introspect/batch, /oauth2/jwks) and, as aliases, /token,
// /introspect and /introspect/batch; and POST /admin/clients in authd's
// shape (bearer token), so setup and every scenario run against it unchanged.

// Limits of the baseline, the same as authd's defaults.
const (
	baselineMaxBody      = 64 << 10
	baselineMaxBatchBody = batchSize*4096 + 4096
	baselineMaxToken     = 4096
	// baselineMaxTokens bounds the opaque-token map so a long issuance run
	// cannot exhaust memory; past it tokens are issued but not kept.
	baselineMaxTokens = 1 << 20
	baselineTokenTTL  = time.Hour
)

// baseline is the server's state. Safe for concurrent use.
type baseline struct {
	issuer     string
	adminToken [32]byte // SHA-256 of the admin bearer token
	priv       *ecdsa.PrivateKey
	kid        string
	signer     jose.Signer
	jwks       []byte
	now        func() time.Time

	mu      sync.RWMutex
	clients map[string]*baselineClient

	tmu     sync.RWMutex
	tokens  map[[32]byte]baselineToken
	revoked map[string]struct{} // JWT ids
}

type baselineClient struct {
	id         string
	secretHash [32]byte
	format     string
	scopes     []string
}

type baselineToken struct {
	clientID, subject, scope string
	iat, exp                 int64
}

// newBaseline makes a baseline with a fresh ES256 key whose kid is its
// RFC 7638 thumbprint, as authd's keys are. adminToken guards POST
// /admin/clients.
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
	// One signer, built once, with typ and kid in the header: authd caches
	// its signer per key the same way.
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.ES256,
		Key:       jose.JSONWebKey{Key: priv, KeyID: pub.KeyID, Algorithm: string(jose.ES256)},
	}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		return nil, err
	}
	return &baseline{
		issuer:     issuer,
		adminToken: sha256.Sum256([]byte(adminToken)),
		priv:       priv,
		kid:        pub.KeyID,
		signer:     signer,
		jwks:       jwks,
		now:        time.Now,
		clients:    map[string]*baselineClient{},
		tokens:     map[[32]byte]baselineToken{},
		revoked:    map[string]struct{}{},
	}, nil
}

// handler routes the baseline's endpoints with a plain ServeMux.
func (b *baseline) handler() http.Handler {
	mux := http.NewServeMux()
	for _, p := range []string{"/token", pathToken} {
		mux.HandleFunc("POST "+p, b.handleToken)
	}
	for _, p := range []string{"/introspect", pathIntrospect} {
		mux.HandleFunc("POST "+p, b.handleIntrospect)
	}
	for _, p := range []string{"/introspect/batch", pathIntrospectBatch} {
		mux.HandleFunc("POST "+p, b.handleBatch)
	}
	mux.HandleFunc("GET "+pathJWKS, b.handleJWKS)
	mux.HandleFunc("POST /admin/clients", b.handleCreateClient)
	mux.HandleFunc("GET "+pathHealth, func(w http.ResponseWriter, _ *http.Request) {
		writeBaselineJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeBaselineJSON(w, http.StatusNotFound, oauthError{Error: "not_found"})
	})
	return mux
}

// baselineClaims are the RFC 9068 §2.2 claims authd puts in access tokens.
type baselineClaims struct {
	Iss      string   `json:"iss"`
	Sub      string   `json:"sub"`
	Aud      audience `json:"aud"`
	Exp      int64    `json:"exp"`
	Iat      int64    `json:"iat"`
	Nbf      int64    `json:"nbf,omitempty"`
	Jti      string   `json:"jti"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope,omitempty"`
}

// audience is a JWT aud: a string when there is one, else an array.
type audience []string

// MarshalJSON writes a single audience as a string (RFC 7519 §4.1.3).
func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON accepts a string or an array.
func (a *audience) UnmarshalJSON(p []byte) error {
	if len(p) > 0 && p[0] == '"' {
		var s string
		if err := json.Unmarshal(p, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	return json.Unmarshal(p, (*[]string)(a))
}

// introspection is the RFC 7662 §2.2 answer, in authd's shape.
type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Nbf       int64    `json:"nbf,omitempty"`
	Sub       string   `json:"sub,omitempty"`
	Aud       audience `json:"aud,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Jti       string   `json:"jti,omitempty"`
}

var inactiveAnswer = &introspection{}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// errBaseline is an OAuth error answer.
type errBaseline struct {
	status     int
	code, desc string
	basicTried bool
}

func (e *errBaseline) Error() string { return e.code + ": " + e.desc }

func badRequest(desc string) *errBaseline {
	return &errBaseline{status: http.StatusBadRequest, code: "invalid_request", desc: desc}
}

var errTooLarge = &errBaseline{status: http.StatusRequestEntityTooLarge, code: "invalid_request", desc: "request body too large"}

func writeBaselineError(w http.ResponseWriter, err error) {
	var e *errBaseline
	if !errors.As(err, &e) {
		e = &errBaseline{status: http.StatusInternalServerError, code: "server_error"}
	}
	if e.basicTried {
		w.Header().Set("WWW-Authenticate", `Basic realm="baseline", charset="UTF-8"`)
	}
	writeBaselineJSON(w, e.status, oauthError{Error: e.code, Description: e.desc})
}

// writeBaselineJSON writes v with the headers every authd OAuth answer has.
func writeBaselineJSON(w http.ResponseWriter, status int, v any) {
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

func readCapped(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, badRequest("could not read the request body")
	}
	return body, nil
}

// readForm parses an urlencoded POST body; a repeated parameter is an error
// (RFC 6749 §3.1).
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != formType {
		return nil, badRequest("Content-Type must be application/x-www-form-urlencoded")
	}
	body, err := readCapped(w, r, baselineMaxBody)
	if err != nil {
		return nil, err
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badRequest("malformed form body")
	}
	for k, vs := range v {
		if len(vs) > 1 {
			return nil, badRequest("parameter " + k + " is repeated")
		}
	}
	return v, nil
}

// authenticate checks client_secret_basic credentials: SHA-256 of the secret
// compared in constant time, an unknown client costing the same.
func (b *baseline) authenticate(r *http.Request) (*baselineClient, error) {
	fail := &errBaseline{status: http.StatusUnauthorized, code: "invalid_client", desc: "client authentication failed"}
	rawID, rawSecret, ok := r.BasicAuth()
	if !ok {
		return nil, fail
	}
	fail.basicTried = true
	id, err1 := url.QueryUnescape(rawID)
	secret, err2 := url.QueryUnescape(rawSecret)
	if err1 != nil || err2 != nil || id == "" {
		return nil, fail
	}
	b.mu.RLock()
	c := b.clients[id]
	b.mu.RUnlock()
	h := sha256.Sum256([]byte(secret))
	if c == nil {
		subtle.ConstantTimeCompare(h[:], b.adminToken[:])
		return nil, fail
	}
	if subtle.ConstantTimeCompare(h[:], c.secretHash[:]) != 1 {
		return nil, fail
	}
	return c, nil
}

func (b *baseline) handleToken(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		writeBaselineError(w, err)
		return
	}
	c, err := b.authenticate(r)
	if err != nil {
		writeBaselineError(w, err)
		return
	}
	switch f.Get("grant_type") {
	case "client_credentials":
	case "":
		writeBaselineError(w, badRequest("grant_type is required"))
		return
	default:
		writeBaselineError(w, &errBaseline{status: http.StatusBadRequest, code: "unsupported_grant_type", desc: "grant_type is not supported"})
		return
	}
	scope := strings.Join(c.scopes, " ")
	if req := f.Get("scope"); req != "" {
		for _, s := range strings.Fields(req) {
			if !slices.Contains(c.scopes, s) {
				writeBaselineError(w, &errBaseline{status: http.StatusBadRequest, code: "invalid_scope", desc: "scope not allowed"})
				return
			}
		}
		scope = strings.Join(strings.Fields(req), " ")
	}
	resp, err := b.issue(c, scope)
	if err != nil {
		writeBaselineError(w, err)
		return
	}
	writeBaselineJSON(w, http.StatusOK, resp)
}

// issue mints an access token in the client's format.
func (b *baseline) issue(c *baselineClient, scope string) (*tokenResponse, error) {
	now := b.now()
	exp := now.Add(baselineTokenTTL)
	resp := &tokenResponse{TokenType: "Bearer", ExpiresIn: int64(baselineTokenTTL / time.Second), Scope: scope}
	if c.format == "opaque" {
		var raw [32]byte
		_, _ = rand.Read(raw[:])
		tok := base64.RawURLEncoding.EncodeToString(raw[:])
		h := sha256.Sum256([]byte(tok))
		rec := baselineToken{clientID: c.id, subject: c.id, scope: scope, iat: now.Unix(), exp: exp.Unix()}
		b.tmu.Lock()
		if len(b.tokens) < baselineMaxTokens {
			b.tokens[h] = rec
		}
		b.tmu.Unlock()
		resp.AccessToken = tok
		return resp, nil
	}
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	claims := baselineClaims{
		Iss:      b.issuer,
		Sub:      c.id,
		Aud:      audience{b.issuer},
		Exp:      exp.Unix(),
		Iat:      now.Unix(),
		Nbf:      now.Unix(),
		Jti:      base64.RawURLEncoding.EncodeToString(jti[:]),
		ClientID: c.id,
		Scope:    scope,
	}
	payload, err := json.Marshal(&claims)
	if err != nil {
		return nil, err
	}
	jws, err := b.signer.Sign(payload)
	if err != nil {
		return nil, err
	}
	if resp.AccessToken, err = jws.CompactSerialize(); err != nil {
		return nil, err
	}
	return resp, nil
}

func (b *baseline) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		writeBaselineError(w, err)
		return
	}
	if _, err := b.authenticate(r); err != nil {
		writeBaselineError(w, err)
		return
	}
	tok, ok := f["token"]
	if !ok {
		writeBaselineError(w, badRequest("token is required"))
		return
	}
	writeBaselineJSON(w, http.StatusOK, b.introspect(tok[0]))
}

type baselineBatch struct {
	Tokens []string `json:"tokens"`
}

type baselineBatchAnswer struct {
	Results []*introspection `json:"results"`
}

func (b *baseline) handleBatch(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != jsonType {
		writeBaselineError(w, badRequest("Content-Type must be application/json"))
		return
	}
	body, err := readCapped(w, r, baselineMaxBatchBody)
	if err != nil {
		writeBaselineError(w, err)
		return
	}
	var req baselineBatch
	if err := json.Unmarshal(body, &req); err != nil || req.Tokens == nil {
		writeBaselineError(w, badRequest(`body must be {"tokens":["…", …]}`))
		return
	}
	if _, err := b.authenticate(r); err != nil {
		writeBaselineError(w, err)
		return
	}
	if len(req.Tokens) > batchSize {
		writeBaselineError(w, badRequest("at most 100 tokens per batch"))
		return
	}
	out := baselineBatchAnswer{Results: make([]*introspection, len(req.Tokens))}
	for i, tok := range req.Tokens {
		out.Results[i] = b.introspect(tok)
	}
	writeBaselineJSON(w, http.StatusOK, out)
}

// introspect answers for one token; anything wrong is simply inactive.
func (b *baseline) introspect(tok string) *introspection {
	if tok == "" || len(tok) > baselineMaxToken {
		return inactiveAnswer
	}
	if strings.Count(tok, ".") == 2 {
		return b.introspectJWT(tok)
	}
	h := sha256.Sum256([]byte(tok))
	b.tmu.RLock()
	rec, ok := b.tokens[h]
	b.tmu.RUnlock()
	if !ok || rec.exp <= b.now().Unix() {
		return inactiveAnswer
	}
	return &introspection{
		Active: true, Scope: rec.scope, ClientID: rec.clientID, TokenType: "Bearer",
		Exp: rec.exp, Iat: rec.iat, Nbf: rec.iat, Sub: rec.subject, Aud: audience{b.issuer}, Iss: b.issuer,
	}
}

// allowedAlgs is the list a JWT must be signed with one of (RFC 8725 §3.1).
var allowedAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256}

func (b *baseline) introspectJWT(tok string) *introspection {
	obj, err := jose.ParseSignedCompact(tok, allowedAlgs)
	if err != nil || len(obj.Signatures) != 1 {
		return inactiveAnswer
	}
	hd := obj.Signatures[0].Header
	if typ, _ := hd.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") {
		return inactiveAnswer
	}
	if hd.KeyID != b.kid || hd.Algorithm != string(jose.ES256) {
		return inactiveAnswer
	}
	payload, err := obj.Verify(&b.priv.PublicKey)
	if err != nil {
		return inactiveAnswer
	}
	var c baselineClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return inactiveAnswer
	}
	now := b.now().Unix()
	if c.Iss != b.issuer || c.Jti == "" || c.Exp <= now || c.Nbf > now+5 || c.Iat > now+5 {
		return inactiveAnswer
	}
	b.tmu.RLock()
	_, revoked := b.revoked[c.Jti]
	b.tmu.RUnlock()
	if revoked {
		return inactiveAnswer
	}
	return &introspection{
		Active: true, Scope: c.Scope, ClientID: c.ClientID, TokenType: "Bearer",
		Exp: c.Exp, Iat: c.Iat, Nbf: c.Nbf, Sub: c.Sub, Aud: c.Aud, Iss: c.Iss, Jti: c.Jti,
	}
}

func (b *baseline) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b.jwks)
}

type baselineClientRequest struct {
	ClientName        string   `json:"client_name"`
	Scope             string   `json:"scope"`
	AccessTokenFormat string   `json:"access_token_format"`
	GrantTypes        []string `json:"grant_types"`
}

// handleCreateClient mirrors authd's POST /admin/clients for what setup
// sends. Only client_credentials clients exist here: a request for another
// grant is refused as not supported, as authd does for grants it lacks.
func (b *baseline) handleCreateClient(w http.ResponseWriter, r *http.Request) {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	got := sha256.Sum256([]byte(strings.TrimPrefix(h, prefix)))
	if !strings.HasPrefix(h, prefix) || subtle.ConstantTimeCompare(got[:], b.adminToken[:]) != 1 {
		writeBaselineJSON(w, http.StatusUnauthorized, map[string]string{"title": "Unauthorized", "detail": "the admin bearer token is not valid"})
		return
	}
	body, err := readCapped(w, r, baselineMaxBody)
	var req baselineClientRequest
	if err != nil || json.Unmarshal(body, &req) != nil {
		writeBaselineJSON(w, http.StatusBadRequest, map[string]string{"title": "Bad Request", "detail": "body must be client metadata JSON"})
		return
	}
	for _, g := range req.GrantTypes {
		if g != "client_credentials" {
			writeBaselineJSON(w, http.StatusBadRequest, map[string]string{"title": "Bad Request", "detail": "grant type " + g + " is not supported; supported: client_credentials"})
			return
		}
	}
	format := req.AccessTokenFormat
	switch format {
	case "":
		format = "jwt"
	case "jwt", "opaque":
	default:
		writeBaselineJSON(w, http.StatusBadRequest, map[string]string{"title": "Bad Request", "detail": "access_token_format must be jwt or opaque"})
		return
	}
	c := &baselineClient{id: randomString(16), format: format, scopes: strings.Fields(req.Scope)}
	secret := randomString(32)
	c.secretHash = sha256.Sum256([]byte(secret))
	b.mu.Lock()
	b.clients[c.id] = c
	b.mu.Unlock()
	writeBaselineJSON(w, http.StatusCreated, map[string]any{
		"client_id":           c.id,
		"client_secret":       secret,
		"client_name":         req.ClientName,
		"scope":               strings.Join(c.scopes, " "),
		"access_token_format": format,
		"grant_types":         []string{"client_credentials"},
	})
}
