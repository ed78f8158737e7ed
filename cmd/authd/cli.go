package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/authd/authd/internal/config"
)

// adminClient drives the admin API the way an operator would with curl.
type adminClient struct {
	base  string
	token string
	http  *http.Client
}

// newAdminClient finds the admin API (--admin-url, AUTHD_ADMIN_URL, or
// AUTHD_ADMIN_LISTEN) and its token (AUTHD_ADMIN_TOKEN or the file in the data
// folder that serve generated).
func newAdminClient(fs *flag.FlagSet, args []string, getenv func(string) string, stderr io.Writer) (*adminClient, error) {
	adminURL := fs.String("admin-url", "", "admin API base URL (default: AUTHD_ADMIN_URL, else http://AUTHD_ADMIN_LISTEN)")
	cfgPath := fs.String("config", "", "YAML or TOML file with AUTHD_* settings")
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	cfg, err := config.Load(*cfgPath, getenv)
	if err != nil {
		return nil, err
	}
	base := *adminURL
	if base == "" {
		base = getenv("AUTHD_ADMIN_URL")
	}
	if base == "" {
		base = "http://" + cfg.AdminListen
	}
	tok := cfg.AdminToken
	if tok == "" {
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, config.AdminTokenFile))
		if err != nil {
			return nil, fmt.Errorf("no admin token: set AUTHD_ADMIN_TOKEN or run from the folder holding %s (%v)", filepath.Join(cfg.DataDir, config.AdminTokenFile), err)
		}
		tok = strings.TrimSpace(string(b))
	}
	return &adminClient{base: strings.TrimSuffix(base, "/"), token: tok, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// do sends a request and decodes a JSON answer into out; a problem answer
// becomes an error carrying its detail.
func (a *adminClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("admin API at %s: %w (is authd serve running?)", a.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var p struct {
			Title  string `json:"title"`
			Detail string `json:"detail"`
		}
		if json.Unmarshal(data, &p) == nil && p.Detail != "" {
			return fmt.Errorf("%s: %s", p.Title, p.Detail)
		}
		return fmt.Errorf("admin API answered %s", resp.Status)
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func clientCmd(ctx context.Context, args []string, getenv func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: authd client create|list|get|delete|rotate-secret [flags]")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("client "+sub, flag.ContinueOnError)
	switch sub {
	case "create":
		var (
			id         = fs.String("id", "", "client_id (default: generated)")
			name       = fs.String("name", "", "client_name")
			grants     = fs.String("grant-types", "client_credentials", "comma-separated grant types")
			scope      = fs.String("scope", "", "space-separated scopes the client may request")
			method     = fs.String("auth-method", "client_secret_basic", "client_secret_basic, client_secret_post or none")
			format     = fs.String("format", "jwt", "access token format: jwt or opaque")
			ttl        = fs.Int64("ttl", 0, "access token lifetime in seconds (0: server default)")
			firstParty = fs.Bool("first-party", false, "skip the consent screen for this client")
			redirects  stringList
			logouts    stringList
		)
		fs.Var(&redirects, "redirect-uri", "a redirect URI (repeat for several)")
		fs.Var(&logouts, "post-logout-redirect-uri", "where RP-initiated logout may return the browser (repeat for several)")
		a, err := newAdminClient(fs, args, getenv, stderr)
		if err != nil {
			return err
		}
		body := map[string]any{
			"client_name":                *name,
			"grant_types":                strings.Split(*grants, ","),
			"scope":                      *scope,
			"token_endpoint_auth_method": *method,
			"access_token_format":        *format,
			"access_token_ttl":           *ttl,
			"first_party":                *firstParty,
		}
		if *id != "" {
			body["client_id"] = *id
		}
		if len(redirects) > 0 {
			body["redirect_uris"] = []string(redirects)
		}
		if len(logouts) > 0 {
			body["post_logout_redirect_uris"] = []string(logouts)
		}
		var out map[string]any
		if err := a.do(ctx, http.MethodPost, "/admin/clients", body, &out); err != nil {
			return err
		}
		if _, ok := out["client_secret"]; ok {
			fmt.Fprintln(stderr, "The client_secret below is shown only once: store it now.")
		}
		return printJSON(stdout, out)
	case "list":
		a, err := newAdminClient(fs, args, getenv, stderr)
		if err != nil {
			return err
		}
		var out struct {
			Clients []struct {
				ClientID   string   `json:"client_id"`
				ClientName string   `json:"client_name"`
				GrantTypes []string `json:"grant_types"`
				Scope      string   `json:"scope"`
				Format     string   `json:"access_token_format"`
			} `json:"clients"`
		}
		if err := a.do(ctx, http.MethodGet, "/admin/clients", nil, &out); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT_ID\tNAME\tGRANT_TYPES\tFORMAT\tSCOPE")
		for _, c := range out.Clients {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ClientID, c.ClientName, strings.Join(c.GrantTypes, ","), c.Format, c.Scope)
		}
		return tw.Flush()
	case "get", "delete", "rotate-secret":
		a, err := newAdminClient(fs, args, getenv, stderr)
		if err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: authd client %s CLIENT_ID", sub)
		}
		path := "/admin/clients/" + url.PathEscape(fs.Arg(0))
		var out map[string]any
		switch sub {
		case "get":
			err = a.do(ctx, http.MethodGet, path, nil, &out)
		case "delete":
			if err = a.do(ctx, http.MethodDelete, path, nil, nil); err == nil {
				fmt.Fprintln(stdout, "deleted", fs.Arg(0))
				return nil
			}
		case "rotate-secret":
			err = a.do(ctx, http.MethodPost, path+"/secret", nil, &out)
			if err == nil {
				fmt.Fprintln(stderr, "The new client_secret is shown only once; the old one no longer works.")
			}
		}
		if err != nil {
			return err
		}
		return printJSON(stdout, out)
	}
	return fmt.Errorf("unknown client command %q (create, list, get, delete, rotate-secret)", sub)
}

func keysCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "rotate-master" {
		return rotateMasterCmd(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("usage: authd keys rotate [--algorithm ES256|EdDSA|RS256] [--now]")
	}
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	alg := fs.String("algorithm", "", "algorithm of the new key (default: the server's)")
	now := fs.Bool("now", false, "sign with the new key at once instead of after pre-publication (a suspected compromise)")
	a, err := newAdminClient(fs, args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	var out map[string]any
	if err := a.do(ctx, http.MethodPost, "/admin/keys/rotate", map[string]any{"algorithm": *alg, "immediate": *now}, &out); err != nil {
		return err
	}
	return printJSON(stdout, out)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
