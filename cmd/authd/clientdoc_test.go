package main

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestClientIDMetadataDocumentEndToEnd: an agent known only by the URL of
// its metadata document (served over TLS, fetched through the outbound
// fetcher) signs a user in with PKCE, the consent page names it with its
// host, and its tokens work and say who it is; a URL serving no document, or
// one for another URL, is an unknown client; with the setting off, a URL
// client_id is unknown and nothing is fetched.
func TestClientIDMetadataDocumentEndToEnd(t *testing.T) {
	var site string
	var fetches atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /agent.json", func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=60")
		_ = json.NewEncoder(w).Encode(map[string]any{"client_id": site + "/agent.json", "client_name": "Calendar Agent",
			"redirect_uris": []string{callback}, "grant_types": []string{"authorization_code", "refresh_token"},
			"token_endpoint_auth_method": "none", "scope": "openid profile", "first_party": true})
	})
	mux.HandleFunc("GET /impostor.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"client_id": site + "/agent.json", "redirect_uris": []string{callback}})
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	site = srv.URL
	caFile := filepath.Join(t.TempDir(), "site-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AUTHD_OUTBOUND_ALLOW_LOOPBACK": "true", "AUTHD_OUTBOUND_CA_FILE": caFile,
		"AUTHD_ARGON2_MEMORY_KIB": "8192", "AUTHD_ARGON2_TIME": "1"}

	t.Run("off", func(t *testing.T) {
		s := startServer(t, env)
		if md := discover(t, s); md["client_id_metadata_document_supported"] != nil {
			t.Errorf("advertised while off: %v", md["client_id_metadata_document_supported"])
		}
		if code, body := tokenRequest(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {callback},
			"code_verifier": {strings.Repeat("v", 43)}, "client_id": {site + "/agent.json"}}); code != 401 || body["error"] != "invalid_client" {
			t.Errorf("a URL client_id while off: %d %v", code, body)
		}
		if n := fetches.Load(); n != 0 {
			t.Errorf("%d fetches while off", n)
		}
	})

	env["AUTHD_CLIENT_ID_METADATA_DOCUMENTS"] = "true"
	s := startServer(t, env)
	if md := discover(t, s); md["client_id_metadata_document_supported"] != true {
		t.Errorf("client_id_metadata_document_supported = %v", md["client_id_metadata_document_supported"])
	}
	createUser(t, s, "alice", "correct horse battery staple")
	clientID := site + "/agent.json"
	verifier, challenge := pkcePair()
	authorize := func(id string) string {
		return s.public + "/oauth2/authorize?" + url.Values{
			"response_type": {"code"}, "client_id": {id}, "redirect_uri": {callback},
			"scope": {"openid profile"}, "state": {"st-1"}, "nonce": {"n-1"},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"},
		}.Encode()
	}

	br := newBrowser(t)
	resp, page := br.get(authorize(clientID))
	if resp.StatusCode != 200 || !strings.Contains(page, `name="password"`) {
		t.Fatalf("authorize: %d\n%s", resp.StatusCode, page)
	}
	form := hiddenFields(page)
	form.Set("username", "alice")
	form.Set("password", "correct horse battery staple")
	resp, page = br.post(s.public+"/login", form)
	// first_party in the document is not the document's to say: consent is asked.
	host := strings.TrimPrefix(site, "https://")
	if resp.StatusCode != 200 || !strings.Contains(html.UnescapeString(page), "Calendar Agent ("+host+")") {
		t.Fatalf("consent page: %d, want the name with its host %s\n%s", resp.StatusCode, host, page)
	}
	form = hiddenFields(page)
	form.Set("decision", "approve")
	resp, _ = br.post(s.public+"/consent", form)
	code := codeFrom(t, resp, "st-1")

	status, tok := tokenRequest(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
		"code_verifier": {verifier}, "client_id": {clientID}})
	if status != 200 || tok["access_token"] == nil || tok["refresh_token"] == nil || tok["id_token"] == nil {
		t.Fatalf("code exchange: %d %v", status, tok)
	}
	for _, name := range []string{"access_token", "id_token"} {
		claims := jwtClaims(t, tok[name].(string))
		if name == "access_token" && claims["client_id"] != clientID {
			t.Errorf("access token client_id = %v", claims["client_id"])
		}
		if name == "id_token" && claims["aud"] != clientID {
			t.Errorf("id_token aud = %v", claims["aud"])
		}
	}
	status, tok2 := tokenRequest(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {clientID}})
	if status != 200 || tok2["access_token"] == nil {
		t.Fatalf("refresh: %d %v", status, tok2)
	}
	req, _ := http.NewRequest(http.MethodGet, s.public+"/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok2["access_token"].(string))
	ui, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ui.Body.Close()
	if ui.StatusCode != 200 {
		t.Errorf("userinfo with the agent's token: %d", ui.StatusCode)
	}
	// Cached by its Cache-Control: the whole flow fetched it once.
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d fetches of a document fresh for a minute", n)
	}

	for name, id := range map[string]string{
		"a document for another URL": site + "/impostor.json",
		"no document there":          site + "/missing.json",
		"a private address":          "https://10.0.0.1/agent.json",
	} {
		t.Run(name, func(t *testing.T) {
			if resp, page := br.get(authorize(id)); resp.StatusCode != 400 || !strings.Contains(page, "nknown") {
				t.Errorf("authorize: %d\n%s", resp.StatusCode, page)
			}
			if code, body := tokenRequest(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok2["refresh_token"].(string)},
				"client_id": {id}}); code != 401 || body["error"] != "invalid_client" {
				t.Errorf("token: %d %v", code, body)
			}
		})
	}
}

func discover(t *testing.T, s *server) map[string]any {
	t.Helper()
	resp, err := http.Get(s.public + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return m
}

// jwtClaims reads a JWT's claims without verifying it: the signature is
// TestEndToEnd's concern; here, what the token says.
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
