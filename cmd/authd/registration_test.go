package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// TestRegistrationEndToEnd: an operator mints an initial access token with
// the CLI; a client registers itself with it at the advertised endpoint
// (RFC 7591) and gets tokens with the credentials it was given.
func TestRegistrationEndToEnd(t *testing.T) {
	s := startServer(t, nil)
	var minted struct {
		Token     string `json:"token"`
		ExpiresAt int64  `json:"expires_at"`
	}
	if err := json.Unmarshal(s.cli(t, "client", "registration-token", "--max-uses", "1", "--expires-in", "1h"), &minted); err != nil || minted.Token == "" {
		t.Fatalf("registration-token: %v %+v", err, minted)
	}
	resp, err := http.Get(s.public + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		RegistrationEndpoint string `json:"registration_endpoint"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if disc.RegistrationEndpoint != s.public+"/oauth2/register" {
		t.Fatalf("registration_endpoint %q", disc.RegistrationEndpoint)
	}
	req, _ := http.NewRequest(http.MethodPost, disc.RegistrationEndpoint, bytes.NewReader([]byte(`{"client_name":"svc","grant_types":["client_credentials"],"scope":"read"}`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+minted.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var reg map[string]any
	_ = json.Unmarshal(body, &reg)
	if resp.StatusCode != http.StatusCreated || reg["client_secret"] == nil {
		t.Fatalf("register: %d %s", resp.StatusCode, body)
	}
	code, tok := postForm(t, s.public+"/oauth2/token", reg["client_id"].(string), reg["client_secret"].(string),
		url.Values{"grant_type": {"client_credentials"}})
	if code != http.StatusOK || tok["access_token"] == nil {
		t.Fatalf("token with registered credentials: %d %v", code, tok)
	}
	// The registration is in the audit trail with how it was made (a
	// shutdown writes what is queued; read it from a serve started again).
	s.stop(t)
	s = startServer(t, map[string]string{"AUTHD_DATA_DIR": s.env["AUTHD_DATA_DIR"]})
	out := s.cli(t, "audit", "list", "--type", "client.registered", "--json", "--since", "1h")
	if !bytes.Contains(out, []byte("initial-access-token")) {
		t.Fatalf("audit has no client.registered by initial-access-token:\n%s", out)
	}
}
