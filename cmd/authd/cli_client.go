package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

func clientCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return clientGroup.run(ctx, args, getenv, stdin, stdout, stderr)
}

var clientGroup = &group{
	name: "client",
	about: "Manage OAuth clients through the admin API. A client is named by its client_id or by\n" +
		"its client_name when no client has that id and exactly one has that name.",
	subs: []subcommand{
		{
			name: "create", summary: "register a client; prints its metadata and, once, its secret",
			about: "Register a client (POST /admin/clients, RFC 7591 metadata). A confidential client's\n" +
				"client_secret is printed this once; store it now.",
			flags: clientCreate,
		},
		{
			name: "list", summary: "list the clients (a table, or the admin API's JSON with --json)",
			about: "List the clients: id, name, authentication method, grant types, token format,\n" +
				"scope and redirect URIs; --json prints the admin API's answer instead.",
			flags: clientList,
		},
		{
			name: "get", args: "ID|NAME", nargs: 1, summary: "print a client's metadata",
			about: "Print a client's registered metadata (never its secret).",
			flags: func(*flag.FlagSet) func(context.Context, *call) error {
				return func(ctx context.Context, c *call) error {
					m, err := resolveClient(ctx, c.admin, c.args[0])
					if err != nil {
						return err
					}
					return printJSON(c.stdout, m)
				}
			},
		},
		{
			name: "update", args: "ID|NAME", nargs: 1, summary: "change a client's metadata",
			about: "Change a client: read its registered metadata, apply the flags given, and replace\n" +
				"the metadata with the result (PUT /admin/clients/{id}, RFC 7592). Flags not given\n" +
				"keep their values; a list flag given replaces the whole list (give it once empty,\n" +
				"--cors-origin=, to clear it). The secret stays (see rotate-secret), and a client\n" +
				"cannot switch between public (--auth-method none) and confidential.",
			flags: clientUpdate,
		},
		{
			name: "delete", args: "ID|NAME", nargs: 1, summary: "delete a client (its tokens stop working)",
			about: "Delete a client; introspection no longer accepts its tokens.",
			flags: func(*flag.FlagSet) func(context.Context, *call) error {
				return func(ctx context.Context, c *call) error {
					id, err := resolveClientID(ctx, c.admin, c.args[0])
					if err != nil {
						return err
					}
					if err := c.admin.do(ctx, http.MethodDelete, clientPath(id), nil, nil); err != nil {
						return err
					}
					fmt.Fprintln(c.stdout, "deleted", id)
					return nil
				}
			},
		},
		{
			name: "rotate-secret", args: "ID|NAME", nargs: 1, summary: "replace a confidential client's secret",
			about: "Give a confidential client a new client_secret, printed this once; the old one stops\n" +
				"working at once. Clients that prove themselves with keys or a certificate have none.",
			flags: func(fs *flag.FlagSet) func(context.Context, *call) error {
				output := defineOutput(fs)
				return func(ctx context.Context, c *call) error {
					id, err := resolveClientID(ctx, c.admin, c.args[0])
					if err != nil {
						return err
					}
					var out map[string]any
					if err := c.admin.do(ctx, http.MethodPost, clientPath(id)+"/secret", nil, &out); err != nil {
						return err
					}
					fmt.Fprintln(c.stderr, "The new client_secret is shown only once; the old one no longer works.")
					return writeClient(c.stdout, *output, out)
				}
			},
		},
		{
			name: "registration-token", summary: "mint an initial access token for dynamic client registration",
			about: "Mint an initial access token (RFC 7591 §3; POST /admin/registration-tokens), printed this\n" +
				"once. A client registers itself with it at the registration endpoint\n" +
				"(POST /oauth2/register, Authorization: Bearer TOKEN) while AUTHD_REGISTRATION is token\n" +
				"(the default) or open.",
			flags: func(fs *flag.FlagSet) func(context.Context, *call) error {
				expires := fs.Duration("expires-in", 24*time.Hour, "how long the token may be used (at least 1m, at most 2160h)")
				uses := fs.Int("max-uses", 1, "how many registrations it allows (1 to 1000)")
				return func(ctx context.Context, c *call) error {
					body := map[string]any{"expires_in": int64(*expires / time.Second), "max_uses": *uses}
					var out map[string]any
					if err := c.admin.do(ctx, http.MethodPost, "/admin/registration-tokens", body, &out); err != nil {
						return err
					}
					fmt.Fprintln(c.stderr, "The token below is shown only once.")
					return printJSON(c.stdout, out)
				}
			},
		},
	},
}

func clientPath(id string) string { return "/admin/clients/" + url.PathEscape(id) }

// clientFlags are the metadata flags create and update share.
type clientFlags struct {
	name, grants, scope, method, format *string
	ttl                                 *int64
	firstParty, allowImpersonation      *bool
	redirects, logouts, origins         stringList
	jwksURI, jwksFile                   *string
}

// defineClientFlags defines the metadata flags. Create shows its defaults;
// update has none, since what is not given keeps its value.
func defineClientFlags(fs *flag.FlagSet, create bool) *clientFlags {
	def := func(v string) string {
		if create {
			return v
		}
		return ""
	}
	f := &clientFlags{
		name: fs.String("name", "", "client_name, shown on the consent screen"),
		grants: fs.String("grant-types", def("client_credentials"), "comma-separated: client_credentials, authorization_code, refresh_token, password,\n"+
			"urn:ietf:params:oauth:grant-type:token-exchange, urn:ietf:params:oauth:grant-type:jwt-bearer"),
		scope:      fs.String("scope", "", "space-separated `SCOPES` the client may request"),
		method:     fs.String("auth-method", def("client_secret_basic"), "client_secret_basic, client_secret_post, none (a public client), private_key_jwt, client_secret_jwt, tls_client_auth, self_signed_tls_client_auth"),
		jwksURI:    fs.String("jwks-uri", "", "`URL` of the client's public keys (private_key_jwt, self_signed_tls_client_auth)"),
		jwksFile:   fs.String("jwks-file", "", "`FILE` holding the client's public keys as a JWK Set (instead of --jwks-uri)"),
		format:     fs.String("format", def("jwt"), "access tokens: jwt or opaque"),
		ttl:        fs.Int64("ttl", 0, "access token lifetime in `SECONDS` (0: the server default)"),
		firstParty: fs.Bool("first-party", false, "skip the consent screen for this client"),
		allowImpersonation: fs.Bool("allow-impersonation", false,
			"let it exchange tokens without an actor token (RFC 8693 impersonation; needs the token-exchange grant)"),
	}
	fs.Var(&f.redirects, "redirect-uri", "a redirect `URI` (repeatable); loopback http ones match any port")
	fs.Var(&f.logouts, "post-logout-redirect-uri", "where logout may send the browser back (`URI`, repeatable)")
	fs.Var(&f.origins, "cors-origin", "a web `ORIGIN` whose scripts may call the token endpoints (repeatable)")
	return f
}

// apply writes the flags set says were given into RFC 7591 metadata m; an
// empty value removes the member, so the server applies its default.
func (f *clientFlags) apply(m map[string]any, set map[string]bool) {
	str := func(flagName, member, v string) {
		if !set[flagName] {
			return
		}
		if v == "" {
			delete(m, member)
		} else {
			m[member] = v
		}
	}
	list := func(flagName, member string, v []string) {
		if !set[flagName] {
			return
		}
		if len(v) == 0 {
			delete(m, member)
		} else {
			m[member] = v
		}
	}
	str("name", "client_name", *f.name)
	str("scope", "scope", *f.scope)
	str("auth-method", "token_endpoint_auth_method", *f.method)
	str("format", "access_token_format", *f.format)
	var grants []string
	for _, g := range strings.Split(*f.grants, ",") {
		if g = strings.TrimSpace(g); g != "" {
			grants = append(grants, g)
		}
	}
	list("grant-types", "grant_types", grants)
	list("redirect-uri", "redirect_uris", f.redirects)
	list("post-logout-redirect-uri", "post_logout_redirect_uris", f.logouts)
	list("cors-origin", "allowed_cors_origins", f.origins)
	if set["ttl"] {
		m["access_token_ttl"] = *f.ttl
	}
	str("jwks-uri", "jwks_uri", *f.jwksURI)
	if set["first-party"] {
		m["first_party"] = *f.firstParty
	}
	if set["allow-impersonation"] {
		m["allow_impersonation"] = *f.allowImpersonation
	}
}

// readJWKS puts the JWK Set of --jwks-file, when given, in m as jwks.
func (f *clientFlags) readJWKS(m map[string]any, set map[string]bool) error {
	if !set["jwks-file"] {
		return nil
	}
	if *f.jwksFile == "" {
		delete(m, "jwks")
		return nil
	}
	b, err := os.ReadFile(*f.jwksFile)
	if err != nil {
		return fmt.Errorf("--jwks-file: %w", err)
	}
	if !json.Valid(b) {
		return fmt.Errorf("--jwks-file: %s is not JSON (want a JWK Set: {\"keys\": [...]})", *f.jwksFile)
	}
	m["jwks"] = json.RawMessage(b)
	return nil
}

// defineOutput is --output for commands that print a new secret.
func defineOutput(fs *flag.FlagSet) *string {
	return fs.String("output", "json", "json, or env: CLIENT_ID=… and CLIENT_SECRET=… lines for a shell's eval")
}

func clientCreate(fs *flag.FlagSet) func(context.Context, *call) error {
	id := fs.String("id", "", "`ID` to register under (default: generated)")
	f := defineClientFlags(fs, true)
	output := defineOutput(fs)
	return func(ctx context.Context, c *call) error {
		if err := checkOutput(*output); err != nil {
			return err
		}
		body := map[string]any{}
		// Every flag counts as given: create sends the defaults it shows.
		all := map[string]bool{}
		fs.VisitAll(func(fl *flag.Flag) { all[fl.Name] = true })
		f.apply(body, all)
		if err := f.readJWKS(body, all); err != nil {
			return err
		}
		if *id != "" {
			body["client_id"] = *id
		}
		var out map[string]any
		if err := c.admin.do(ctx, http.MethodPost, "/admin/clients", body, &out); err != nil {
			return err
		}
		if _, ok := out["client_secret"]; ok {
			fmt.Fprintln(c.stderr, "The client_secret below is shown only once: store it now.")
		}
		return writeClient(c.stdout, *output, out)
	}
}

func checkOutput(o string) error {
	if o != "json" && o != "env" {
		return fmt.Errorf("--output must be json or env, not %q", o)
	}
	return nil
}

// writeClient prints a client answer as JSON or as shell assignments.
func writeClient(w io.Writer, output string, m map[string]any) error {
	if err := checkOutput(output); err != nil {
		return err
	}
	if output == "json" {
		return printJSON(w, m)
	}
	for _, kv := range [][2]string{{"CLIENT_ID", "client_id"}, {"CLIENT_SECRET", "client_secret"}} {
		if v, ok := m[kv[1]].(string); ok && v != "" {
			fmt.Fprintf(w, "%s=%s\n", kv[0], shellQuote(v))
		}
	}
	return nil
}

// shellQuote makes s one word for a POSIX shell, whatever it holds.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func clientUpdate(fs *flag.FlagSet) func(context.Context, *call) error {
	f := defineClientFlags(fs, false)
	return func(ctx context.Context, c *call) error {
		if !c.ownFlagsGiven() {
			return fmt.Errorf("nothing to change: give at least one flag (authd client update --help lists them)")
		}
		cur, err := resolveClient(ctx, c.admin, c.args[0])
		if err != nil {
			return err
		}
		id, _ := cur["client_id"].(string)
		// RFC 7592 §2.2: these are the server's to set, not the client's to send.
		for _, k := range []string{"client_secret", "client_secret_expires_at", "client_id_issued_at", "updated_at",
			"registration_access_token", "registration_client_uri"} {
			delete(cur, k)
		}
		// Members this CLI does not know are sent back as they came, so an
		// update through an older authd binary cannot drop them.
		f.apply(cur, c.set)
		if err := f.readJWKS(cur, c.set); err != nil {
			return err
		}
		// jwks and jwks_uri exclude each other (RFC 7591 §2): the one given replaces the other.
		if c.set["jwks-uri"] && *f.jwksURI != "" {
			delete(cur, "jwks")
		}
		if c.set["jwks-file"] && *f.jwksFile != "" {
			delete(cur, "jwks_uri")
		}
		var out map[string]any
		if err := c.admin.do(ctx, http.MethodPut, clientPath(id), cur, &out); err != nil {
			return err
		}
		return printJSON(c.stdout, out)
	}
}

// clientSummary is what the list table shows of a client.
type clientSummary struct {
	ClientID     string   `json:"client_id"`
	ClientName   string   `json:"client_name"`
	AuthMethod   string   `json:"token_endpoint_auth_method"`
	GrantTypes   []string `json:"grant_types"`
	Scope        string   `json:"scope"`
	Format       string   `json:"access_token_format"`
	RedirectURIs []string `json:"redirect_uris"`
}

func listClients(ctx context.Context, a *adminClient) ([]clientSummary, error) {
	var out struct {
		Clients []clientSummary `json:"clients"`
	}
	err := a.do(ctx, http.MethodGet, "/admin/clients", nil, &out)
	return out.Clients, err
}

func clientList(fs *flag.FlagSet) func(context.Context, *call) error {
	asJSON := fs.Bool("json", false, "print the admin API's JSON ({\"clients\":[…]}) instead of a table")
	return func(ctx context.Context, c *call) error {
		if *asJSON {
			var raw json.RawMessage
			if err := c.admin.do(ctx, http.MethodGet, "/admin/clients", nil, &raw); err != nil {
				return err
			}
			return printJSON(c.stdout, raw)
		}
		cs, err := listClients(ctx, c.admin)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT_ID\tNAME\tAUTH_METHOD\tGRANT_TYPES\tFORMAT\tSCOPE\tREDIRECT_URIS")
		for _, cl := range cs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cl.ClientID, orDash(cl.ClientName), cl.AuthMethod,
				strings.Join(cl.GrantTypes, ","), cl.Format, orDash(cl.Scope), orDash(strings.Join(cl.RedirectURIs, " ")))
		}
		return tw.Flush()
	}
}

// resolveClient returns the metadata of the client ref names: the client
// with that client_id, else the one client with that client_name. Ids win
// because they are unique and names need not be.
func resolveClient(ctx context.Context, a *adminClient, ref string) (map[string]any, error) {
	var m map[string]any
	err := a.do(ctx, http.MethodGet, clientPath(ref), nil, &m)
	if !isNotFound(err) {
		return m, err
	}
	cs, err := listClients(ctx, a)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range cs {
		if c.ClientName == ref {
			ids = append(ids, c.ClientID)
		}
	}
	switch len(ids) {
	case 0:
		return nil, fmt.Errorf("no client with id or name %q", ref)
	case 1:
		m = nil
		if err := a.do(ctx, http.MethodGet, clientPath(ids[0]), nil, &m); err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, fmt.Errorf("%d clients are named %q (ids: %s); give the id", len(ids), ref, strings.Join(ids, ", "))
}

func resolveClientID(ctx context.Context, a *adminClient, ref string) (string, error) {
	m, err := resolveClient(ctx, a, ref)
	if err != nil {
		return "", err
	}
	id, _ := m["client_id"].(string)
	if id == "" {
		return "", fmt.Errorf("the admin API answered a client without client_id for %q", ref)
	}
	return id, nil
}
