package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestPushedAuthorizationFlow: a private_key_jwt client registered with a
// jwks (and required to push) pushes its request to the discovered PAR
// endpoint (RFC 9126), sends the browser to the authorization endpoint with
// only client_id and the request_uri, and completes the code flow; the
// request_uri does not work twice, and a request that was not pushed is
// refused. The same with a signed request object in the push (RFC 9101).
func TestPushedAuthorizationFlow(t *testing.T) {
	s := startServer(t, map[string]string{"AUTHD_ARGON2_MEMORY_KIB": "8192", "AUTHD_ARGON2_TIME": "1"})
	createUser(t, s, "alice", "correct horse battery staple")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := map[string]any{"keys": []any{jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k", Algorithm: "ES256", Use: "sig"}}}
	body, _ := json.Marshal(map[string]any{"client_name": "par app", "token_endpoint_auth_method": "private_key_jwt", "jwks": jwks,
		"grant_types": []string{"authorization_code"}, "redirect_uris": []string{callback}, "scope": "openid profile",
		"first_party": true, "require_pushed_authorization_requests": true, "request_object_signing_alg": "ES256"})
	req, _ := http.NewRequest(http.MethodPost, s.admin+"/admin/clients", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminTokenOf(t, s))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	id, _ := created["client_id"].(string)
	if resp.StatusCode != 201 || id == "" || created["require_pushed_authorization_requests"] != true {
		t.Fatalf("register: %d %v", resp.StatusCode, created)
	}

	resp, err = http.Get(s.public + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var md map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&md)
	resp.Body.Close()
	issuer, _ := md["issuer"].(string)
	parURL, _ := md["pushed_authorization_request_endpoint"].(string)
	if parURL != issuer+"/oauth2/par" || md["request_parameter_supported"] != true || md["request_uri_parameter_supported"] != false {
		t.Fatalf("discovery: %v", md)
	}

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k"))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(typ string, claims map[string]any) string {
		b, _ := json.Marshal(claims)
		s := signer
		if typ != "" {
			s, _ = jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k").WithType(jose.ContentType(typ)))
		}
		jws, err := s.Sign(b)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := jws.CompactSerialize()
		return out
	}
	n := 0
	authenticated := func(f url.Values) url.Values {
		n++
		now := time.Now()
		f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		f.Set("client_assertion", sign("", map[string]any{"iss": id, "sub": id, "aud": issuer, "jti": fmt.Sprint("jti-", n),
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}))
		return f
	}
	push := func(f url.Values) (int, map[string]any) {
		resp, err := http.PostForm(parURL, authenticated(f))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	authorizeWith := func(requestURI, state, verifier string) {
		t.Helper()
		br := newBrowser(t)
		authorize := s.public + "/oauth2/authorize?" + url.Values{"client_id": {id}, "request_uri": {requestURI}}.Encode()
		resp, page := br.get(authorize)
		if resp.StatusCode != 200 || !strings.Contains(page, `name="password"`) {
			t.Fatalf("authorize with the request_uri: %d\n%s", resp.StatusCode, page)
		}
		form := hiddenFields(page)
		form.Set("username", "alice")
		form.Set("password", "correct horse battery staple")
		resp, _ = br.post(s.public+"/login", form)
		code := codeFrom(t, resp, state)
		status, tok := tokenRequest(t, s, authenticated(url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {callback}, "code_verifier": {verifier}}))
		if status != 200 || tok["access_token"] == nil || tok["id_token"] == nil {
			t.Fatalf("code exchange: %d %v", status, tok)
		}
		// Single use (RFC 9126 §4).
		resp, _ = newBrowser(t).get(authorize)
		if loc, err := resp.Location(); err != nil || loc.Query().Get("error") != "invalid_request_uri" || loc.Query().Get("iss") != issuer {
			t.Fatalf("the request_uri again: %d %v", resp.StatusCode, loc)
		}
	}

	verifier, challenge := pkcePair()
	params := url.Values{"response_type": {"code"}, "redirect_uri": {callback}, "scope": {"openid profile"}, "state": {"st-par"},
		"nonce": {"n-1"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	status, pushed := push(params)
	uri, _ := pushed["request_uri"].(string)
	if status != 201 || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || pushed["expires_in"] != float64(60) {
		t.Fatalf("push: %d %v", status, pushed)
	}
	authorizeWith(uri, "st-par", verifier)

	// The client must push: the plain request is refused at its redirect URI.
	plain := params
	plain.Set("client_id", id)
	resp, _ = newBrowser(t).get(s.public + "/oauth2/authorize?" + plain.Encode())
	if loc, err := resp.Location(); err != nil || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "st-par" {
		t.Fatalf("a plain request from a client that must push: %d %v", resp.StatusCode, loc)
	}

	// A signed request object pushed (RFC 9126 §3).
	verifier2, challenge2 := pkcePair()
	now := time.Now()
	obj := sign("oauth-authz-req+jwt", map[string]any{"iss": id, "aud": issuer, "client_id": id, "exp": now.Add(time.Minute).Unix(), "nbf": now.Unix(),
		"response_type": "code", "redirect_uri": callback, "scope": "openid", "state": "st-jar",
		"code_challenge": challenge2, "code_challenge_method": "S256"})
	status, pushed = push(url.Values{"request": {obj}})
	if status != 201 {
		t.Fatalf("push of a request object: %d %v", status, pushed)
	}
	authorizeWith(pushed["request_uri"].(string), "st-jar", verifier2)

	// Refusals at the endpoint are RFC 6749 §5.2 JSON.
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"request_uri pushed", url.Values{"request_uri": {uri}, "response_type": {"code"}}, "invalid_request"},
		{"request object for another audience", url.Values{"request": {sign("", map[string]any{"iss": id, "aud": "https://other.example", "client_id": id, "exp": now.Add(time.Minute).Unix()})}}, "invalid_request_object"},
	} {
		if status, m := push(tc.form); status != 400 || m["error"] != tc.want {
			t.Errorf("%s: %d %v, want 400 %s", tc.name, status, m, tc.want)
		}
	}
}
