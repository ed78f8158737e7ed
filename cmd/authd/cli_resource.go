package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
)

func resourceCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return resourceGroup.run(ctx, args, getenv, stdin, stdout, stderr)
}

var resourceGroup = &group{
	name: "resource",
	about: "Manage API resources (RFC 8707 resource indicators) through the admin API. A resource\n" +
		"is named by its id or by its resource URI.",
	subs: []subcommand{
		{
			name: "create", args: "URI", nargs: 1, summary: "register an API resource; prints it with its id",
			about: "Register an API resource (POST /admin/resources). URI is its resource indicator: an\n" +
				"absolute URI without a fragment, the aud of the tokens issued for it. A token asked\n" +
				"for it (the resource parameter) carries only the scopes it defines, in its format\n" +
				"and with its lifetime; the introspecting clients see only tokens for their resources.",
			flags: func(fs *flag.FlagSet) func(context.Context, *call) error {
				f := defineResourceFlags(fs)
				return func(ctx context.Context, c *call) error {
					body := map[string]any{"resource": c.args[0]}
					f.apply(body, c.set)
					var out map[string]any
					if err := c.admin.do(ctx, http.MethodPost, "/admin/resources", body, &out); err != nil {
						return err
					}
					return printJSON(c.stdout, out)
				}
			},
		},
		{
			name: "list", summary: "list the resources (a table, or the admin API's JSON with --json)",
			about: "List the resources: id, resource URI, name, format, lifetime, scope and\n" +
				"introspecting clients; --json prints the admin API's answer instead.",
			flags: resourceList,
		},
		{
			name: "get", args: "ID|URI", nargs: 1, summary: "print a resource",
			about: "Print a resource as the admin API describes it.",
			flags: func(*flag.FlagSet) func(context.Context, *call) error {
				return func(ctx context.Context, c *call) error {
					m, err := resolveResource(ctx, c.admin, c.args[0])
					if err != nil {
						return err
					}
					return printJSON(c.stdout, m)
				}
			},
		},
		{
			name: "update", args: "ID|URI", nargs: 1, summary: "change a resource",
			about: "Change a resource: read it, apply the flags given, and replace it with the result\n" +
				"(PUT /admin/resources/{id}). Flags not given keep their values; an empty value\n" +
				"(--format=) restores the default; --introspecting-client given replaces the list.",
			flags: func(fs *flag.FlagSet) func(context.Context, *call) error {
				f := defineResourceFlags(fs)
				uri := fs.String("resource", "", "a new resource `URI`")
				return func(ctx context.Context, c *call) error {
					if !c.ownFlagsGiven() {
						return fmt.Errorf("nothing to change: give at least one flag (authd resource update --help lists them)")
					}
					cur, err := resolveResource(ctx, c.admin, c.args[0])
					if err != nil {
						return err
					}
					id, _ := cur["id"].(string)
					for _, k := range []string{"id", "created_at", "updated_at"} {
						delete(cur, k)
					}
					f.apply(cur, c.set)
					if c.set["resource"] {
						cur["resource"] = *uri
					}
					var out map[string]any
					if err := c.admin.do(ctx, http.MethodPut, resourcePath(id), cur, &out); err != nil {
						return err
					}
					return printJSON(c.stdout, out)
				}
			},
		},
		{
			name: "delete", args: "ID|URI", nargs: 1, summary: "delete a resource (no more tokens are issued for it)",
			about: "Delete a resource: token requests naming it get invalid_target, and its\n" +
				"introspecting clients are no longer restricted to it.",
			flags: func(*flag.FlagSet) func(context.Context, *call) error {
				return func(ctx context.Context, c *call) error {
					m, err := resolveResource(ctx, c.admin, c.args[0])
					if err != nil {
						return err
					}
					id, _ := m["id"].(string)
					if err := c.admin.do(ctx, http.MethodDelete, resourcePath(id), nil, nil); err != nil {
						return err
					}
					fmt.Fprintln(c.stdout, "deleted", id)
					return nil
				}
			},
		},
	},
}

func resourcePath(id string) string { return "/admin/resources/" + url.PathEscape(id) }

// resourceFlags are the flags create and update share.
type resourceFlags struct {
	name, scope, format *string
	ttl                 *int64
	introspectors       stringList
}

func defineResourceFlags(fs *flag.FlagSet) *resourceFlags {
	f := &resourceFlags{
		name:   fs.String("name", "", "a name for people"),
		scope:  fs.String("scope", "", "space-separated `SCOPES` the resource defines"),
		format: fs.String("format", "", "its access tokens: jwt or opaque (default: the client's)"),
		ttl:    fs.Int64("ttl", 0, "its access tokens' lifetime in `SECONDS` (0: the client's)"),
	}
	fs.Var(&f.introspectors, "introspecting-client", "a client `ID` that introspects its tokens (repeatable)")
	return f
}

// apply writes the flags given into the admin API's body m; an empty value
// removes the member.
func (f *resourceFlags) apply(m map[string]any, set map[string]bool) {
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
	str("name", "name", *f.name)
	str("scope", "scope", *f.scope)
	str("format", "access_token_format", *f.format)
	if set["ttl"] {
		m["access_token_ttl"] = *f.ttl
	}
	if set["introspecting-client"] {
		if len(f.introspectors) == 0 {
			delete(m, "introspecting_clients")
		} else {
			m["introspecting_clients"] = []string(f.introspectors)
		}
	}
}

type resourceSummary struct {
	ID            string   `json:"id"`
	Resource      string   `json:"resource"`
	Name          string   `json:"name"`
	Scope         string   `json:"scope"`
	Format        string   `json:"access_token_format"`
	TTL           int64    `json:"access_token_ttl"`
	Introspectors []string `json:"introspecting_clients"`
}

func listResources(ctx context.Context, a *adminClient) ([]resourceSummary, error) {
	var out struct {
		Resources []resourceSummary `json:"resources"`
	}
	err := a.do(ctx, http.MethodGet, "/admin/resources", nil, &out)
	return out.Resources, err
}

func resourceList(fs *flag.FlagSet) func(context.Context, *call) error {
	asJSON := fs.Bool("json", false, "print the admin API's JSON ({\"resources\":[…]}) instead of a table")
	return func(ctx context.Context, c *call) error {
		if *asJSON {
			var raw json.RawMessage
			if err := c.admin.do(ctx, http.MethodGet, "/admin/resources", nil, &raw); err != nil {
				return err
			}
			return printJSON(c.stdout, raw)
		}
		rs, err := listResources(ctx, c.admin)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tRESOURCE\tNAME\tFORMAT\tTTL\tSCOPE\tINTROSPECTING_CLIENTS")
		for _, r := range rs {
			ttl := "-"
			if r.TTL > 0 {
				ttl = fmt.Sprint(r.TTL)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Resource, orDash(r.Name), orDash(r.Format), ttl,
				orDash(r.Scope), orDash(strings.Join(r.Introspectors, ",")))
		}
		return tw.Flush()
	}
}

// resolveResource returns the resource ref names: the one with that id,
// else the one with that resource URI (unique).
func resolveResource(ctx context.Context, a *adminClient, ref string) (map[string]any, error) {
	var m map[string]any
	err := a.do(ctx, http.MethodGet, resourcePath(ref), nil, &m)
	if !isNotFound(err) {
		return m, err
	}
	rs, err := listResources(ctx, a)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if r.Resource == ref {
			m = nil
			if err := a.do(ctx, http.MethodGet, resourcePath(r.ID), nil, &m); err != nil {
				return nil, err
			}
			return m, nil
		}
	}
	return nil, fmt.Errorf("no resource with id or URI %q", ref)
}
