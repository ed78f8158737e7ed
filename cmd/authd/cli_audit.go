package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"
)

// auditCmd is "authd audit [list] [flags]": the audit trail, newest first.
func auditCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "help" && !isHelpArg(args[0])) {
		args = append([]string{"list"}, args...) // list is what audit does
	}
	return auditGroup.run(ctx, args, getenv, nil, stdout, stderr)
}

var auditGroup = &group{
	name:  "audit",
	about: "Read the audit trail through the admin API: administrator actions, logins, token events and\naggregated refusals, newest first. \"authd audit\" alone is \"authd audit list\".",
	subs: []subcommand{{
		name: "list", summary: "list audit events, newest first",
		about: "List audit events, newest first, filtered by time, type, client, subject or address. Times are\n" +
			"RFC 3339 (2026-12-01T00:00:00Z) or a duration back from now (24h). Refusals a flood would\n" +
			"repeat are one event per source and minute with a count in detail.",
		flags: auditList,
	}},
}

func auditList(fs *flag.FlagSet) func(context.Context, *call) error {
	since := fs.String("since", "", "events at or after `TIME` (RFC 3339, or a duration back from now such as 24h)")
	until := fs.String("until", "", "events before `TIME`")
	typ := fs.String("type", "", "only events of `TYPE` (e.g. login.failed, admin.client_created)")
	clientID := fs.String("client", "", "only events of client `ID`")
	subject := fs.String("subject", "", "only events of user `ID` (the subject)")
	ip := fs.String("ip", "", "only events from `ADDRESS`")
	limit := fs.Int("limit", 50, "at most `N` events, following pages as needed (at most 10000)")
	asJSON := fs.Bool("json", false, "print the events as JSON, one object per line")
	return func(ctx context.Context, c *call) error {
		if *limit < 1 || *limit > 10000 {
			return fmt.Errorf("--limit must be from 1 to 10000")
		}
		q := url.Values{}
		for _, t := range []struct{ name, v string }{{"since", *since}, {"until", *until}} {
			if t.v == "" {
				continue
			}
			if d, err := time.ParseDuration(t.v); err == nil {
				q.Set(t.name, time.Now().Add(-d).UTC().Format(time.RFC3339))
			} else {
				q.Set(t.name, t.v) // the server says if it is no RFC 3339 time
			}
		}
		for k, v := range map[string]string{"type": *typ, "client_id": *clientID, "subject": *subject, "ip": *ip} {
			if v != "" {
				q.Set(k, v)
			}
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		if !*asJSON {
			fmt.Fprintln(tw, "TIME\tTYPE\tCLIENT\tSUBJECT\tIP\tDETAIL")
		}
		left := *limit
		for left > 0 {
			q.Set("limit", strconv.Itoa(min(left, 1000)))
			var page struct {
				Events []map[string]any `json:"events"`
				Next   string           `json:"next"`
			}
			if err := c.admin.do(ctx, http.MethodGet, "/admin/audit?"+q.Encode(), nil, &page); err != nil {
				return err
			}
			for _, e := range page.Events {
				if *asJSON {
					b, _ := json.Marshal(e)
					fmt.Fprintln(c.stdout, string(b))
					continue
				}
				detail := ""
				if d, ok := e["detail"]; ok {
					b, _ := json.Marshal(d)
					detail = string(b)
				}
				fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%v\t%s\n", e["time"], e["type"], dash(e["client_id"]), dash(e["subject"]), dash(e["ip"]), detail)
			}
			left -= len(page.Events)
			if page.Next == "" || len(page.Events) == 0 {
				break
			}
			q.Set("cursor", page.Next)
		}
		if *asJSON {
			return nil
		}
		return tw.Flush()
	}
}

// dash shows an absent member as "-".
func dash(v any) any {
	if v == nil {
		return "-"
	}
	return v
}
