package interop

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOAuth4WebAPIMCPClient: an MCP client on oauth4webapi v3 that has
// never met authd identifies itself by the URL of its Client ID Metadata
// Document (served over TLS, fetched by authd), signs a person in with PKCE
// through the login and consent pages, names the MCP server with a resource
// indicator (RFC 8707), and gets a token the MCP server, on the same
// library, accepts for itself and another server refuses; the refresh keeps
// the audience.
func TestOAuth4WebAPIMCPClient(t *testing.T) {
	skipShort(t)
	t.Parallel()
	node := nodeScript(t, "oauth4webapi")

	var mu sync.Mutex
	var landed *url.URL
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		landed = r.URL
		mu.Unlock()
		fmt.Fprint(w, "mcp client")
	}))
	t.Cleanup(app.Close)
	redirectURI := app.URL + "/cb"

	var docURL string
	site := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/client.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"client_id": docURL, "client_name": "Calendar MCP client",
			"redirect_uris": []string{redirectURI}, "grant_types": []string{"authorization_code", "refresh_token"},
			"token_endpoint_auth_method": "none", "scope": "mcp:tools"})
	}))
	t.Cleanup(site.Close)
	docURL = site.URL + "/oauth/client.json"
	caFile := filepath.Join(t.TempDir(), "site-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: site.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	a := startAuthd(t, map[string]string{"AUTHD_CLIENT_ID_METADATA_DOCUMENTS": "true",
		"AUTHD_OUTBOUND_ALLOW_LOOPBACK": "true", "AUTHD_OUTBOUND_CA_FILE": caFile})
	subID := a.createUser(t, "mia", "a passphrase for mcp", "mia@example.com", true)
	const mcpServer = "https://mcp.example/"
	a.adminDo(t, http.MethodPost, "/admin/resources", map[string]any{"resource": mcpServer, "name": "Calendar MCP", "scope": "mcp:tools"})

	spec := func(extra map[string]any) map[string]any {
		m := map[string]any{"issuer": a.public, "client_id": docURL, "redirect_uri": redirectURI, "resource": mcpServer}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	var start struct {
		URL, Verifier, State, Error string
		CIMD                        bool
	}
	runNode(t, node, 30*time.Second, "oauth4webapi-mcp.mjs", spec(map[string]any{"phase": "start"}), &start)
	if start.Error != "" || !start.CIMD {
		t.Fatalf("oauth4webapi: %+v\nauthd:\n%s", start, a.logs)
	}
	br := newBrowser(t)
	resp, page := br.get(start.URL)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="password"`) {
		t.Fatalf("authd did not show its login form: %d\n%s", resp.StatusCode, page)
	}
	login := formTo(t, page, "/login")
	login.fields.Set("username", "mia")
	login.fields.Set("password", "a passphrase for mcp")
	resp, page = br.submit(resp.Request.URL, login)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Calendar MCP client ("+strings.TrimPrefix(site.URL, "https://")+")") {
		t.Fatalf("consent page: %d\n%s", resp.StatusCode, page)
	}
	consent := formTo(t, page, "/consent")
	consent.fields.Set("decision", "approve")
	if resp, page = br.submit(resp.Request.URL, consent); resp.StatusCode != http.StatusOK || page != "mcp client" {
		t.Fatalf("after consent: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	mu.Lock()
	callback := landed
	mu.Unlock()
	if callback == nil || callback.Query().Get("code") == "" {
		t.Fatalf("the browser came back with %v", callback)
	}
	var fin struct {
		Claims       map[string]any `json:"claims"`
		OtherAud     map[string]any `json:"other_aud"`
		RefreshedAud any            `json:"refreshed_aud"`
		Error        string         `json:"error"`
	}
	runNode(t, node, 30*time.Second, "oauth4webapi-mcp.mjs", spec(map[string]any{"phase": "finish",
		"callback": app.URL + callback.RequestURI(), "verifier": start.Verifier, "state": start.State}), &fin)
	if fin.Error != "" {
		t.Fatalf("oauth4webapi: %s\nauthd:\n%s", fin.Error, a.logs)
	}
	if fin.Claims["aud"] != mcpServer || fin.Claims["sub"] != subID || fin.Claims["client_id"] != docURL || fin.Claims["scope"] != "mcp:tools" {
		t.Errorf("the MCP server's view of the token: %v", fin.Claims)
	}
	if fin.OtherAud["error"] == nil {
		t.Errorf("another MCP server accepted the token: %v", fin.OtherAud)
	}
	if fin.RefreshedAud != mcpServer {
		t.Errorf("refreshed token's aud: %v", fin.RefreshedAud)
	}
}
