package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"
)

func trustedIssuerCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return trustedIssuerGroup.run(ctx, args, getenv, stdin, stdout, stderr)
}

var trustedIssuerGroup = &group{
	name: "trusted-issuer",
	about: "Manage trusted issuers through the admin API: identity providers whose JWTs authd\n" +
		"accepts as token-exchange subject or actor tokens (RFC 8693) and as JWT bearer\n" +
		"assertions (RFC 7523). A trusted issuer is named by its id or its issuer URL.",
	subs: []subcommand{
		{
			name: "create", args: "ISSUER", nargs: 1, summary: "trust an issuer; prints it with its id",
			about: "Trust an issuer (POST /admin/trusted-issuers). ISSUER is its https issuer\n" +
				"identifier, compared exactly with the iss of its tokens. Without --jwks-uri its\n" +
				"keys are found through its OpenID Connect discovery document. Its tokens must\n" +
				"carry --audience (default: authd's issuer); --subject-mapping says how their sub\n" +
				"names a user: user_id, username, email (verified) or none (no user: such tokens\n" +
				"can only show who acts, as an actor token).",
			flags: func(fs *flag.FlagSet) func(context.Context, *call) error {
				jwks := fs.String("jwks-uri", "", "the `URL` of its JWK Set (default: from discovery)")
				aud := fs.String("audience", "", "the aud its tokens carry for authd (default: authd's issuer)")
				mapping := fs.String("subject-mapping", "", "user_id, username, email or none (required)")
				return func(ctx context.Context, c *call) error {
					body := map[string]any{"issuer": c.args[0], "subject_mapping": *mapping}
					if *jwks != "" {
						body["jwks_uri"] = *jwks
					}
					if *aud != "" {
						body["audience"] = *aud
					}
					var out map[string]any
					if err := c.admin.do(ctx, http.MethodPost, "/admin/trusted-issuers", body, &out); err != nil {
						return err
					}
					return printJSON(c.stdout, out)
				}
			},
		},
		{
			name: "list", summary: "list the trusted issuers (a table, or the admin API's JSON with --json)",
			about: "List the trusted issuers: id, issuer, audience, subject mapping and jwks_uri;\n" +
				"--json prints the admin API's answer instead.",
			flags: trustedIssuerList,
		},
		{
			name: "get", args: "ID|ISSUER", nargs: 1, summary: "print a trusted issuer",
			about: "Print a trusted issuer as the admin API describes it.",
			flags: func(*flag.FlagSet) func(context.Context, *call) error {
				return func(ctx context.Context, c *call) error {
					m, err := resolveTrustedIssuer(ctx, c.admin, c.args[0])
					if err != nil {
						return err
					}
					return printJSON(c.stdout, m)
				}
			},
		},
		{
			name: "delete", args: "ID|ISSUER", nargs: 1, summary: "stop trusting an issuer",
			about: "Delete a trusted issuer: its tokens are refused from then on (tokens already\n" +
				"exchanged from them live out their lifetime).",
			flags: func(*flag.FlagSet) func(context.Context, *call) error {
				return func(ctx context.Context, c *call) error {
					m, err := resolveTrustedIssuer(ctx, c.admin, c.args[0])
					if err != nil {
						return err
					}
					id, _ := m["id"].(string)
					if err := c.admin.do(ctx, http.MethodDelete, trustedIssuerPath(id), nil, nil); err != nil {
						return err
					}
					fmt.Fprintln(c.stdout, "deleted", id)
					return nil
				}
			},
		},
	},
}

func trustedIssuerPath(id string) string { return "/admin/trusted-issuers/" + url.PathEscape(id) }

type trustedIssuerSummary struct {
	ID             string `json:"id"`
	Issuer         string `json:"issuer"`
	JWKSURI        string `json:"jwks_uri"`
	Audience       string `json:"audience"`
	SubjectMapping string `json:"subject_mapping"`
}

func listTrustedIssuers(ctx context.Context, a *adminClient) ([]trustedIssuerSummary, error) {
	var out struct {
		TrustedIssuers []trustedIssuerSummary `json:"trusted_issuers"`
	}
	err := a.do(ctx, http.MethodGet, "/admin/trusted-issuers", nil, &out)
	return out.TrustedIssuers, err
}

func trustedIssuerList(fs *flag.FlagSet) func(context.Context, *call) error {
	asJSON := fs.Bool("json", false, "print the admin API's JSON ({\"trusted_issuers\":[…]}) instead of a table")
	return func(ctx context.Context, c *call) error {
		if *asJSON {
			var raw json.RawMessage
			if err := c.admin.do(ctx, http.MethodGet, "/admin/trusted-issuers", nil, &raw); err != nil {
				return err
			}
			return printJSON(c.stdout, raw)
		}
		list, err := listTrustedIssuers(ctx, c.admin)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tISSUER\tAUDIENCE\tSUBJECT_MAPPING\tJWKS_URI")
		for _, ti := range list {
			jwks := ti.JWKSURI
			if jwks == "" {
				jwks = "(discovery)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ti.ID, ti.Issuer, ti.Audience, ti.SubjectMapping, jwks)
		}
		return tw.Flush()
	}
}

// resolveTrustedIssuer returns the trusted issuer ref names: the one with
// that id, else the one with that issuer (unique).
func resolveTrustedIssuer(ctx context.Context, a *adminClient, ref string) (map[string]any, error) {
	var m map[string]any
	err := a.do(ctx, http.MethodGet, trustedIssuerPath(ref), nil, &m)
	if !isNotFound(err) {
		return m, err
	}
	list, err := listTrustedIssuers(ctx, a)
	if err != nil {
		return nil, err
	}
	for _, ti := range list {
		if ti.Issuer == ref {
			m = nil
			if err := a.do(ctx, http.MethodGet, trustedIssuerPath(ti.ID), nil, &m); err != nil {
				return nil, err
			}
			return m, nil
		}
	}
	return nil, fmt.Errorf("no trusted issuer with id or issuer %q", ref)
}
