package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// authd runs the CLI against s's admin API and returns what it printed. The
// admin URL goes last, which also proves flags may follow arguments.
func (s *server) authd(stdin string, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	args = append(slices.Clone(args), "--admin-url", s.admin)
	err = run(context.Background(), args, s.getenv, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// must is authd for calls that must succeed.
func (s *server) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := s.authd("", args...)
	if err != nil {
		t.Fatalf("authd %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// mustJSON is must for commands that print a JSON object.
func (s *server) mustJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s.must(t, args...)), &m); err != nil {
		t.Fatalf("authd %s: %v", strings.Join(args, " "), err)
	}
	return m
}

// wantErr runs a command that must fail with an error containing want.
func (s *server) wantErr(t *testing.T, want string, args ...string) {
	t.Helper()
	out, _, err := s.authd("", args...)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("authd %s: err = %v, want %q (stdout %q)", strings.Join(args, " "), err, want, out)
	}
}

// TestHelp: every command and subcommand answers -h and --help with its
// usage on stdout and no error (exit 0), listing every flag it parses,
// without needing a server, an admin token or a store.
func TestHelp(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "never-created")
	getenv := func(k string) string {
		if k == "AUTHD_DATA_DIR" {
			return dataDir
		}
		return ""
	}
	type tc struct {
		name  string
		args  []string
		want  []string // in stdout
		flags *groupSub
	}
	var tests []tc
	for _, top := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		tests = append(tests, tc{name: strings.Join(top, " "), args: top, want: []string{"usage: authd <command>", "client", "user", "keys", "serve"}})
	}
	for name := range serverCommands {
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}, {name, "--config", "x.yaml", "-help"}} {
			tests = append(tests, tc{name: strings.Join(args, " "), args: args, want: []string{"usage: authd " + name, "--config"}})
		}
	}
	for _, g := range groups {
		for _, args := range [][]string{{g.name, "--help"}, {g.name, "-h"}, {g.name, "help"}, {"help", g.name}} {
			want := []string{"usage: authd " + g.name + " <command>"}
			for _, s := range g.subs {
				want = append(want, "  "+strings.TrimSpace(s.name+" "+s.args)+"  ")
			}
			tests = append(tests, tc{name: strings.Join(args, " "), args: args, want: want})
		}
		for i := range g.subs {
			s := &g.subs[i]
			for _, args := range [][]string{
				{g.name, s.name, "--help"}, {g.name, s.name, "-h"},
				{"help", g.name, s.name}, {g.name, "help", s.name},
				{g.name, s.name, "some-arg", "--help"},
			} {
				tests = append(tests, tc{name: strings.Join(args, " "), args: args,
					want: []string{"usage: " + s.usageLine(g), "--admin-url"}, flags: &groupSub{g, s}})
			}
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), tc.args, getenv, strings.NewReader(""), &stdout, &stderr); err != nil {
				t.Fatalf("err = %v (stderr %q)", err, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			if tc.flags != nil {
				fs, _, _ := tc.flags.s.newFlagSet(tc.flags.g)
				fs.VisitAll(func(f *flag.Flag) {
					if !strings.Contains(stdout.String(), "--"+f.Name+" ") && !strings.Contains(stdout.String(), "--"+f.Name+"\n") {
						t.Errorf("help lacks --%s:\n%s", f.Name, stdout.String())
					}
				})
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr = %q", stderr.String())
			}
		})
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("asking for help touched the data folder: %v", err)
	}
}

type groupSub struct {
	g *group
	s *subcommand
}

// TestServerCommandHelpListsTheirFlags: the help texts of serve, migrate and
// janitor name every flag that serve.go's flag sets define.
func TestServerCommandHelpListsTheirFlags(t *testing.T) {
	fns := map[string]func(context.Context, []string, func(string) string, io.Writer, io.Writer) error{
		"serve": serve, "migrate": migrate, "janitor": janitorCmd,
		"config": func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
			return configCmd(ctx, args, getenv, stdout, stderr)
		},
	}
	flagLine := regexp.MustCompile(`^\s+-(\S+)`)
	for name, fn := range fns {
		t.Run(name, func(t *testing.T) {
			// -h makes the flag package print the defaults and stop before
			// anything opens.
			var defaults bytes.Buffer
			_ = fn(context.Background(), []string{"-h"}, func(string) string { return "" }, io.Discard, &defaults)
			sc := bufio.NewScanner(&defaults)
			n := 0
			for sc.Scan() {
				if m := flagLine.FindStringSubmatch(sc.Text()); m != nil {
					n++
					if !strings.Contains(serverCommands[name], "--"+m[1]) {
						t.Errorf("authd %s --help does not mention --%s", name, m[1])
					}
				}
			}
			if n == 0 {
				t.Fatalf("found no flags in\n%s", defaults.String())
			}
		})
	}
	if len(fns) != len(serverCommands) {
		t.Errorf("serverCommands has %d entries, the test checks %d", len(serverCommands), len(fns))
	}
}

// TestUsageNamesEverySubcommand: the top-level usage lists every subcommand
// each group has.
func TestUsageNamesEverySubcommand(t *testing.T) {
	nextCommand := regexp.MustCompile(`\n  [a-z]`)
	for _, g := range groups {
		i := strings.Index(usage, "\n  "+g.name+" ")
		if i < 0 {
			t.Fatalf("usage lacks %s", g.name)
		}
		section := usage[i+1:]
		if next := nextCommand.FindStringIndex(section); next != nil {
			section = section[:next[0]]
		}
		for _, s := range g.subs {
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(s.name) + `\b`).MatchString(section) {
				t.Errorf("usage for %s does not name %s:\n%s", g.name, s.name, section)
			}
		}
	}
}

// TestCLIArgumentErrors: wrong arguments fail with a message that says what
// was expected, before any request.
func TestCLIArgumentErrors(t *testing.T) {
	env := map[string]string{"AUTHD_ADMIN_URL": "http://127.0.0.1:1", "AUTHD_ADMIN_TOKEN": "cli-test-admin-token-0123456789abcdef", "AUTHD_DATA_DIR": t.TempDir()}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no subcommand", []string{"client"}, "no client command given (create, list, get, update"},
		{"unknown subcommand", []string{"user", "frobnicate"}, `unknown user command "frobnicate"`},
		{"unknown flag", []string{"client", "list", "--nope"}, "flag provided but not defined: -nope; see authd client list --help"},
		{"missing argument", []string{"client", "get"}, "usage: authd client get [flags] ID|NAME"},
		{"extra argument", []string{"user", "get", "a", "b"}, "usage: authd user get [flags] ID|USERNAME"},
		{"empty argument", []string{"user", "unlock", ""}, "usage: authd user unlock [flags] ID|USERNAME"},
		{"update without flags", []string{"client", "update", "x"}, "nothing to change"},
		{"user update without flags", []string{"user", "update", "x"}, "nothing to change"},
		{"email-verified not a bool", []string{"user", "update", "x", "--email-verified=maybe"}, "want true or false"},
		{"address not JSON", []string{"user", "update", "x", "--address", "Springfield"}, "--address must be a JSON object"},
		{"purpose and algorithm", []string{"keys", "rotate", "--purpose", "access", "--algorithm", "ES256"}, "not both"},
		{"bad output", []string{"client", "create", "--output", "yaml"}, "--output must be json or env"},
		{"help for nothing", []string{"help", "nope"}, `no help for "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout bytes.Buffer
			err := run(context.Background(), tc.args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "127.0.0.1:1") {
				t.Errorf("a request was attempted: %v", err)
			}
		})
	}
}

// TestCLIClients drives every client command against the real server:
// clients by id or unique name, update as read-modify-replace, CORS origins,
// list as a table and as JSON, and a secret shown once on rotation.
func TestCLIClients(t *testing.T) {
	s := startServer(t, nil)
	const spa = "https://app.example.com"

	api := s.mustJSON(t, "client", "create", "--name", "api", "--scope", "read write", "--format", "opaque",
		"--cors-origin", spa, "--ttl", "600")
	apiID, apiSecret := api["client_id"].(string), api["client_secret"].(string)
	if o, _ := api["allowed_cors_origins"].([]any); len(o) != 1 || o[0] != spa {
		t.Fatalf("create --cors-origin: %v", api)
	}
	// The origin reaches the token endpoint: a script there may read the answer.
	if code, acao := corsToken(t, s, apiID, apiSecret, spa); code != 200 || acao != spa {
		t.Fatalf("token from %s: %d, Access-Control-Allow-Origin %q", spa, code, acao)
	}
	web := s.mustJSON(t, "client", "create", "--name", "Web App", "--auth-method", "none",
		"--grant-types", "authorization_code,refresh_token", "--redirect-uri", "http://127.0.0.1:3000/cb", "--scope", "openid")
	webID := web["client_id"].(string)
	if _, ok := web["client_secret"]; ok {
		t.Fatalf("a public client got a secret: %v", web)
	}
	twin1 := s.mustJSON(t, "client", "create", "--name", "twin")["client_id"].(string)
	twin2 := s.mustJSON(t, "client", "create", "--name", "twin")["client_id"].(string)
	// An id that is also another client's name: the id wins.
	s.mustJSON(t, "client", "create", "--name", apiID)

	t.Run("get", func(t *testing.T) {
		tests := []struct {
			name, ref, wantID, wantErr string
		}{
			{"by id", apiID, apiID, ""},
			{"by name", "Web App", webID, ""},
			{"id before name", apiID, apiID, ""},
			{"unknown", "nothing", "", `no client with id or name "nothing"`},
			{"ambiguous name", "twin", "", `2 clients are named "twin" (ids: `},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if tc.wantErr != "" {
					s.wantErr(t, tc.wantErr, "client", "get", tc.ref)
					return
				}
				if m := s.mustJSON(t, "client", "get", tc.ref); m["client_id"] != tc.wantID || m["client_secret"] != nil {
					t.Fatalf("client get %s: %v", tc.ref, m)
				}
			})
		}
		_, _, err := s.authd("", "client", "get", "twin")
		for _, id := range []string{twin1, twin2} {
			if !strings.Contains(err.Error(), id) {
				t.Errorf("the ambiguity error does not list %s: %v", id, err)
			}
		}
	})

	t.Run("list", func(t *testing.T) {
		table := s.must(t, "client", "list")
		lines := strings.Split(strings.TrimSpace(table), "\n")
		if len(lines) != 6 || !regexp.MustCompile(`^CLIENT_ID\s+NAME\s+AUTH_METHOD\s+GRANT_TYPES\s+FORMAT\s+SCOPE\s+REDIRECT_URIS$`).MatchString(lines[0]) {
			t.Fatalf("client list:\n%s", table)
		}
		var webLine string
		for _, l := range lines {
			if strings.HasPrefix(l, webID+" ") {
				webLine = l
			}
		}
		for _, want := range []string{"Web App", " none ", "authorization_code,refresh_token", "http://127.0.0.1:3000/cb"} {
			if !strings.Contains(webLine, want) {
				t.Errorf("the Web App row lacks %q: %q", want, webLine)
			}
		}
		var raw struct {
			Clients []map[string]any `json:"clients"`
		}
		if err := json.Unmarshal([]byte(s.must(t, "client", "list", "--json")), &raw); err != nil || len(raw.Clients) != 5 {
			t.Fatalf("client list --json: %v %v", raw, err)
		}
	})

	t.Run("update", func(t *testing.T) {
		// By name, id first and flags after; lists replace, the rest stays.
		got := s.mustJSON(t, "client", "update", "api", "--scope", "read", "--cors-origin", "https://a.example.com",
			"--cors-origin", "https://b.example.com", "--first-party")
		if got["client_id"] != apiID || got["scope"] != "read" || got["access_token_format"] != "opaque" ||
			got["access_token_ttl"] != 600.0 || got["first_party"] != true || got["client_name"] != "api" {
			t.Fatalf("update: %v", got)
		}
		if o, _ := got["allowed_cors_origins"].([]any); len(o) != 2 || o[0] != "https://a.example.com" {
			t.Fatalf("update --cors-origin: %v", got["allowed_cors_origins"])
		}
		if again := s.mustJSON(t, "client", "get", apiID); again["scope"] != "read" || again["first_party"] != true {
			t.Fatalf("get after update: %v", again)
		}
		// The old origin is no longer allowed, the new one is; the secret still works.
		if code, acao := corsToken(t, s, apiID, apiSecret, spa); code != 400 || acao != "" {
			t.Fatalf("token from a removed origin: %d", code)
		}
		if code, acao := corsToken(t, s, apiID, apiSecret, "https://b.example.com"); code != 200 || acao != "https://b.example.com" {
			t.Fatalf("token from an added origin: %d %q", code, acao)
		}
		// An empty list value clears the list; false clears a flag.
		got = s.mustJSON(t, "client", "update", "--cors-origin=", "--first-party=false", "--ttl", "0", apiID)
		if got["allowed_cors_origins"] != nil || got["first_party"] != nil || got["access_token_ttl"] != nil {
			t.Fatalf("clearing: %v", got)
		}
		got = s.mustJSON(t, "client", "update", "Web App", "--redirect-uri", "http://127.0.0.1/a", "--redirect-uri", "http://[::1]/b",
			"--post-logout-redirect-uri", "http://127.0.0.1/out", "--name", "Web")
		if r, _ := got["redirect_uris"].([]any); len(r) != 2 || got["client_name"] != "Web" ||
			got["token_endpoint_auth_method"] != "none" || got["scope"] != "openid" {
			t.Fatalf("update web: %v", got)
		}
		if p, _ := got["post_logout_redirect_uris"].([]any); len(p) != 1 {
			t.Fatalf("update --post-logout-redirect-uri: %v", got)
		}
		// The server's refusals come through.
		s.wantErr(t, "cannot switch between public", "client", "update", "Web", "--auth-method", "client_secret_basic")
		s.wantErr(t, `no client with id or name "Web App"`, "client", "update", "Web App", "--scope", "x")
		s.wantErr(t, "2 clients are named", "client", "update", "twin", "--scope", "x")
	})

	t.Run("rotate-secret", func(t *testing.T) {
		out, stderr, err := s.authd("", "client", "rotate-secret", "api", "--output", "env")
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`^CLIENT_ID='([^']+)'\nCLIENT_SECRET='([^']+)'\n$`).FindStringSubmatch(out)
		if m == nil || m[1] != apiID || m[2] == apiSecret || !strings.Contains(stderr, "shown only once") {
			t.Fatalf("rotate-secret --output env: %q %q", out, stderr)
		}
		if code, _ := postForm(t, s.public+"/oauth2/token", apiID, apiSecret, url.Values{"grant_type": {"client_credentials"}}); code != 401 {
			t.Fatalf("the old secret: %d", code)
		}
		if code, _ := postForm(t, s.public+"/oauth2/token", apiID, m[2], url.Values{"grant_type": {"client_credentials"}}); code != 200 {
			t.Fatalf("the new secret: %d", code)
		}
		s.wantErr(t, "public client", "client", "rotate-secret", webID)
	})

	t.Run("create --output env", func(t *testing.T) {
		out := s.must(t, "client", "create", "--name", "env", "--output", "env")
		if !regexp.MustCompile(`^CLIENT_ID='[^']+'\nCLIENT_SECRET='[^']+'\n$`).MatchString(out) {
			t.Fatalf("create --output env: %q", out)
		}
		out = s.must(t, "client", "create", "--name", "env public", "--auth-method", "none",
			"--grant-types", "authorization_code", "--redirect-uri", "http://127.0.0.1/cb", "--output", "env")
		if !regexp.MustCompile(`^CLIENT_ID='[^']+'\n$`).MatchString(out) {
			t.Fatalf("create --output env, public client: %q", out)
		}
	})

	t.Run("delete", func(t *testing.T) {
		if out := s.must(t, "client", "delete", "Web"); out != "deleted "+webID+"\n" {
			t.Fatalf("delete by name: %q", out)
		}
		s.wantErr(t, `no client with id or name "`+webID+`"`, "client", "get", webID)
		s.wantErr(t, `no client with id or name "Web"`, "client", "delete", "Web")
		s.wantErr(t, "2 clients are named", "client", "delete", "twin")
	})
}

// corsToken asks for a client_credentials token from a web page at origin and
// returns the status and the Access-Control-Allow-Origin answered.
func corsToken(t *testing.T, s *server, id, secret, origin string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.public+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin")
}

// TestCLIUsers drives the user commands against the real server: users by
// id or username, profile updates and email_verified, list as a table and as
// JSON, and errors that say what was looked for.
func TestCLIUsers(t *testing.T) {
	s := startServer(t, map[string]string{"AUTHD_ARGON2_MEMORY_KIB": "8192", "AUTHD_ARGON2_TIME": "1"})
	out, _, err := s.authd("correct horse battery staple\n", "user", "create", "--username", "alice", "--email", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	var alice map[string]any
	if err := json.Unmarshal([]byte(out), &alice); err != nil {
		t.Fatal(err)
	}
	id := alice["id"].(string)

	if got := s.mustJSON(t, "user", "get", "alice"); got["id"] != id || got["email"] != "alice@example.com" || got["email_verified"] != false {
		t.Fatalf("get by username: %v", got)
	}
	if got := s.mustJSON(t, "user", "get", id); got["username"] != "alice" || got["password_hash"] != nil {
		t.Fatalf("get by id: %v", got)
	}

	tests := []struct {
		name string
		args []string
		want map[string]any // members of the answer; nil: absent
	}{
		{"verify", []string{"--email-verified"}, map[string]any{"email": "alice@example.com", "email_verified": true}},
		{"names", []string{"--name", "Alice Liddell", "--given-name", "Alice", "--family-name", "Liddell"},
			map[string]any{"name": "Alice Liddell", "given_name": "Alice", "family_name": "Liddell", "email_verified": true}},
		{"new address unverifies", []string{"--email", "alice@wonderland.example"}, map[string]any{"email": "alice@wonderland.example", "email_verified": false}},
		{"new address verified in the same call", []string{"--email", "a@example.org", "--email-verified=true"}, map[string]any{"email": "a@example.org", "email_verified": true}},
		{"unverify", []string{"--email-verified=false"}, map[string]any{"email": "a@example.org", "email_verified": false}},
		{"clear a claim", []string{"--given-name", ""}, map[string]any{"given_name": nil, "name": "Alice Liddell"}},
		{"phone", []string{"--phone-number", "+1 555 0100", "--phone-number-verified"}, map[string]any{"phone_number": "+1 555 0100", "phone_number_verified": true}},
		{"address", []string{"--address", `{"locality":"Springfield","country":"US"}`}, map[string]any{"phone_number": "+1 555 0100"}},
	}
	for _, tc := range tests {
		t.Run("update "+tc.name, func(t *testing.T) {
			got := s.mustJSON(t, append([]string{"user", "update", "alice"}, tc.args...)...)
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
				}
			}
		})
	}

	table := s.must(t, "user", "list")
	if !regexp.MustCompile(`(?m)^ID\s+USERNAME\s+EMAIL\s+EMAIL_VERIFIED\s+NAME\s+DISABLED$`).MatchString(table) ||
		!regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(id)+`\s+alice\s+a@example.org\s+false\s+Alice Liddell\s+false$`).MatchString(table) {
		t.Fatalf("user list:\n%s", table)
	}
	var raw struct {
		Users []map[string]any `json:"users"`
	}
	if err := json.Unmarshal([]byte(s.must(t, "user", "list", "--json")), &raw); err != nil || len(raw.Users) != 1 || raw.Users[0]["id"] != id {
		t.Fatalf("user list --json: %v %v", raw, err)
	}

	for _, sub := range []string{"disable", "enable", "unlock"} {
		if out := s.must(t, "user", sub, "alice"); out != "done\n" {
			t.Fatalf("user %s: %q", sub, out)
		}
	}
	if out, _, err := s.authd("another good password\n", "user", "set-password", "alice"); err != nil || out != "done\n" {
		t.Fatalf("set-password: %q %v", out, err)
	}
	for _, args := range [][]string{
		{"user", "get", "bob"}, {"user", "update", "bob", "--name", "Bob"}, {"user", "disable", "bob"},
		{"user", "unlock", "bob"}, {"user", "delete", "bob"},
	} {
		s.wantErr(t, `no user with id or username "bob"`, args...)
	}
	if _, _, err := s.authd("another good password\n", "user", "set-password", "bob"); err == nil || !strings.Contains(err.Error(), `no user with id or username "bob"`) {
		t.Fatalf("set-password for nobody: %v", err)
	}
	if out := s.must(t, "user", "delete", "alice"); out != "done\n" {
		t.Fatalf("delete: %q", out)
	}
	s.wantErr(t, `no user with id or username "`+id+`"`, "user", "get", id)
}

// TestCLIKeysRotate: keys rotate picks the key by purpose or by algorithm,
// and without either rotates the access-token key as it always did.
func TestCLIKeysRotate(t *testing.T) {
	s := startServer(t, nil)
	tests := []struct {
		name    string
		args    []string
		wantAlg string
		wantErr string
	}{
		{"default", nil, "ES256", ""},
		{"access", []string{"--purpose", "access"}, "ES256", ""},
		{"id_token", []string{"--purpose", "id_token", "--now"}, "RS256", ""},
		{"by algorithm", []string{"--algorithm", "RS256"}, "RS256", ""},
		{"unknown purpose", []string{"--purpose", "refresh"}, "", "purpose must be access or id_token"},
		{"algorithm not in use", []string{"--algorithm", "EdDSA"}, "", "EdDSA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"keys", "rotate"}, tc.args...)
			if tc.wantErr != "" {
				s.wantErr(t, tc.wantErr, args...)
				return
			}
			if got := s.mustJSON(t, args...); got["algorithm"] != tc.wantAlg || got["kid"] == "" {
				t.Fatalf("keys rotate %v: %v", tc.args, got)
			}
		})
	}
}
