package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// adminAPI drives an admin API (authd's, or the baseline's mirror of its
// client endpoint) with a bearer token.
type adminAPI struct {
	base   string
	token  string
	client *http.Client
}

// apiError is a non-2xx answer: its status and whatever the body explained.
type apiError struct {
	Status int
	Detail string
}

func (e *apiError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Detail)
}

// unsupported reports whether the answer means the server does not have the
// endpoint or feature (as opposed to a fault).
func (e *apiError) unsupported() bool {
	switch e.Status {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	case http.StatusBadRequest:
		d := strings.ToLower(e.Detail)
		return strings.Contains(d, "not supported") || strings.Contains(d, "unsupported")
	}
	return false
}

// post sends body as JSON and decodes a 2xx answer into out. A non-2xx answer
// is an *apiError.
func (a *adminAPI) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("admin API at %s: %w", a.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &apiError{Status: resp.StatusCode, Detail: errorDetail(data)}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// errorDetail pulls the explanation out of an RFC 9457 problem or an RFC 6749
// error body.
func errorDetail(body []byte) string {
	var p struct {
		Title       string `json:"title"`
		Detail      string `json:"detail"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	switch {
	case p.Detail != "":
		return p.Detail
	case p.Error != "" && p.Description != "":
		return p.Error + ": " + p.Description
	case p.Error != "":
		return p.Error
	}
	return p.Title
}

// setupPlan says what setup creates.
type setupPlan struct {
	target, admin, adminToken string
	tokens                    int // per format
	users                     int // 0: no users and no password client
	timeout                   time.Duration
	log                       io.Writer
}

// setupConcurrency bounds setup's parallel requests; user creation is
// further bounded by the server's own password-hashing gate.
const setupConcurrency = 16

// runSetup creates, through the admin API, the clients a run needs (one for
// JWT and one for opaque access tokens, and with users a password-grant
// client), issues the token pools through the token endpoint, and creates
// users. What the server does not support is recorded in the Fixture, not
// returned as an error; only missing basics (the two clients, any token at
// all) are errors.
func runSetup(ctx context.Context, p setupPlan) (*Fixture, error) {
	hc := newHTTPClient(p.timeout, setupConcurrency, "")
	defer hc.CloseIdleConnections()
	adm := &adminAPI{base: p.admin, token: p.adminToken, client: hc}
	runID := randomHex(4)
	fx := newFixture(p.target, p.admin, runID)

	for _, format := range []string{roleJWT, roleOpaque} {
		c, err := createClient(ctx, adm, "loadtest-"+format+"-"+runID, format, "read write", []string{"client_credentials"})
		if err != nil {
			return nil, fmt.Errorf("create the %s client: %w", format, err)
		}
		fx.Clients[format] = c
	}
	for _, format := range []string{roleJWT, roleOpaque} {
		toks, err := issueTokens(ctx, hc, p.target, fx.Clients[format], p.tokens)
		if len(toks) == 0 {
			return nil, fmt.Errorf("issue %s tokens: %w", format, err)
		}
		if err != nil {
			fx.note("%s tokens: issued %d of %d: %v", format, len(toks), p.tokens, err)
		}
		fx.Tokens[format] = toks
		fmt.Fprintf(p.log, "setup: %d %s tokens issued\n", len(toks), format)
	}
	if p.users > 0 {
		setupUsers(ctx, adm, fx, p)
	}
	return fx, nil
}

// setupUsers creates the password-grant client and the users, recording
// what the server does not support.
func setupUsers(ctx context.Context, adm *adminAPI, fx *Fixture, p setupPlan) {
	// openid lets its user tokens call userinfo (OpenID Connect Core §5.3.1).
	c, err := createClient(ctx, adm, "loadtest-password-"+fx.RunID, roleJWT, "openid read write", []string{"password"})
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.unsupported():
		fx.Unsupported[featurePasswordGrant] = "POST /admin/clients with grant_types [\"password\"] " + ae.Error()
	case err != nil:
		fx.note("password client: %v", err)
	default:
		fx.Clients[rolePassword] = c
	}

	users := make([]User, p.users)
	errs := make([]error, p.users)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range users {
		users[i] = User{
			Username: fmt.Sprintf("lt-%s-%04d", fx.RunID, i),
			Password: randomString(18),
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			body := map[string]string{
				"username": users[i].Username,
				"password": users[i].Password,
				"email":    users[i].Username + "@loadtest.invalid",
			}
			errs[i] = adm.post(ctx, "/admin/users", body, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			fx.Users = append(fx.Users, users[i])
			continue
		}
		if errors.As(err, &ae) && ae.unsupported() {
			fx.Unsupported[featureUsers] = "POST /admin/users " + ae.Error()
			fx.Users = nil
			return
		}
		fx.note("user %s: %v", users[i].Username, err)
	}
	fmt.Fprintf(p.log, "setup: %d users created\n", len(fx.Users))
	issueUserTokens(ctx, adm.client, fx, p.log)
}

// maxUserTokens bounds the user tokens setup issues: each costs the server
// an Argon2id verification, and userinfo only needs a few to rotate through.
const maxUserTokens = 20

// issueUserTokens gets access tokens with the openid scope for up to
// maxUserTokens users through the password grant, for userinfo. What it
// cannot get is noted, not an error: only a mix with userinfo needs them.
func issueUserTokens(ctx context.Context, hc *http.Client, fx *Fixture, log io.Writer) {
	c, ok := fx.client(rolePassword)
	if !ok || len(fx.Users) == 0 {
		return
	}
	var toks []string
	var firstErr error
	for _, u := range fx.Users[:min(len(fx.Users), maxUserTokens)] {
		form := url.Values{"grant_type": {"password"}, "username": {u.Username}, "password": {u.Password}, "scope": {"openid"}}
		tok, err := postToken(ctx, hc, fx.Target, c, form.Encode())
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		toks = append(toks, tok)
	}
	if firstErr != nil {
		fx.note("user tokens: got %d of %d: %v", len(toks), min(len(fx.Users), maxUserTokens), firstErr)
	}
	if len(toks) > 0 {
		fx.Tokens[roleUser] = toks
		fmt.Fprintf(log, "setup: %d user tokens issued\n", len(toks))
	}
}

// createClient registers a confidential client and returns its credentials.
func createClient(ctx context.Context, adm *adminAPI, name, format, scope string, grants []string) (Credentials, error) {
	var out Credentials
	err := adm.post(ctx, "/admin/clients", map[string]any{
		"client_name":         name,
		"scope":               scope,
		"access_token_format": format,
		"grant_types":         grants,
	}, &out)
	if err == nil && (out.ClientID == "" || out.ClientSecret == "") {
		err = errors.New("the answer has no client_id or client_secret")
	}
	return out, err
}

// issueTokens gets n client_credentials tokens, setupConcurrency at a time.
// It returns the tokens it got and the first error, if any.
func issueTokens(ctx context.Context, hc *http.Client, target string, c Credentials, n int) ([]string, error) {
	toks := make([]string, n)
	var (
		mu       sync.Mutex
		firstErr error
		next     = make(chan int)
		wg       sync.WaitGroup
	)
	for range min(setupConcurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				tok, err := requestToken(ctx, hc, target, c)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				toks[i] = tok
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	out := toks[:0]
	for _, t := range toks {
		if t != "" {
			out = append(out, t)
		}
	}
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return out, firstErr
}

// requestToken runs one client_credentials grant.
func requestToken(ctx context.Context, hc *http.Client, target string, c Credentials) (string, error) {
	return postToken(ctx, hc, target, c, "grant_type=client_credentials")
}

// postToken sends a token request with form body and returns its access token.
func postToken(ctx context.Context, hc *http.Client, target string, c Credentials, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target+pathToken, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", formType)
	req.Header.Set("Authorization", basicAuth(c))
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", &apiError{Status: resp.StatusCode, Detail: errorDetail(data)}
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.AccessToken == "" {
		return "", errors.New("token endpoint answered 200 without an access_token")
	}
	return out.AccessToken, nil
}

// basicAuth is client_secret_basic: RFC 6749 §2.3.1 form-encodes id and
// secret before base64.
func basicAuth(c Credentials) string {
	raw := url.QueryEscape(c.ClientID) + ":" + url.QueryEscape(c.ClientSecret)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(raw))
}

// randomHex returns n random bytes in lower-case hex: safe in usernames,
// which authd lower-cases.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomString returns n random bytes, base64url without padding.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
