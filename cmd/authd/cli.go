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
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// adminFlags are the flags every command that talks to the admin API takes.
type adminFlags struct {
	url, config *string
}

func defineAdminFlags(fs *flag.FlagSet) adminFlags {
	return adminFlags{
		url:    fs.String("admin-url", "", "admin API base `URL` (default: AUTHD_ADMIN_URL, else http://AUTHD_ADMIN_LISTEN)"),
		config: fs.String("config", "", "YAML or TOML `FILE` with AUTHD_* settings (the environment wins)"),
	}
}

// commonFlags are listed apart in a command's help, after its own flags.
var commonFlags = []string{"admin-url", "config"}

// connect finds the admin API (--admin-url, AUTHD_ADMIN_URL, or
// AUTHD_ADMIN_LISTEN) and its token (AUTHD_ADMIN_TOKEN or the file in the data
// folder that serve generated).
func (f adminFlags) connect(getenv func(string) string) (*adminClient, error) {
	cfg, err := config.Load(*f.config, getenv)
	if err != nil {
		return nil, err
	}
	base := *f.url
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

// apiError is a refusal from the admin API: its status, and the problem
// detail (RFC 9457) when it sent one.
type apiError struct {
	Status int
	Title  string
	Detail string
}

func (e *apiError) Error() string {
	if e.Detail != "" {
		return e.Title + ": " + e.Detail
	}
	return fmt.Sprintf("admin API answered %d %s", e.Status, http.StatusText(e.Status))
}

// isNotFound reports whether the admin API answered 404.
func isNotFound(err error) bool {
	var e *apiError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// do sends a request and decodes a JSON answer into out; a refusal is an
// *apiError carrying the problem's detail.
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
		e := &apiError{Status: resp.StatusCode}
		var p struct {
			Title  string `json:"title"`
			Detail string `json:"detail"`
		}
		if json.Unmarshal(data, &p) == nil {
			e.Title, e.Detail = p.Title, p.Detail
		}
		return e
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// stringList is a repeatable flag. Given once with an empty value it is an
// empty list, which is how `client update` clears one.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	if v != "" {
		*s = append(*s, v)
	}
	return nil
}

// optBool is a boolean flag that also knows whether it was given, for
// updates that must leave what was not mentioned alone.
type optBool struct{ v *bool }

func (b *optBool) String() string {
	if b == nil || b.v == nil {
		return ""
	}
	return fmt.Sprint(*b.v)
}

func (b *optBool) Set(s string) error {
	v, err := strconv.ParseBool(s) // what the flag package accepts for a bool
	if err != nil {
		return fmt.Errorf("want true or false, not %q", s)
	}
	b.v = &v
	return nil
}

func (b *optBool) IsBoolFlag() bool { return true }

// subcommand is one `authd GROUP NAME`. Its help is built from the same
// flag set it parses, so the two cannot disagree.
type subcommand struct {
	name    string
	args    string // positional arguments as the usage line shows them
	nargs   int    // how many it takes
	summary string // one line in the group's command list
	about   string // what it does, for its --help
	// flags defines the subcommand's own flags and returns what runs once
	// they are parsed.
	flags func(fs *flag.FlagSet) func(ctx context.Context, c *call) error
}

// call is what a subcommand runs with.
type call struct {
	admin          *adminClient
	args           []string        // positional arguments
	set            map[string]bool // the flags given on the command line
	stdin          io.Reader
	stdout, stderr io.Writer
}

// ownFlagsGiven reports whether any of the subcommand's own flags (not the
// admin API's) was given.
func (c *call) ownFlagsGiven() bool {
	for name := range c.set {
		if !slices.Contains(commonFlags, name) {
			return true
		}
	}
	return false
}

// group is a command with subcommands: client, user, keys.
type group struct {
	name  string
	about string
	subs  []subcommand
}

func (g *group) find(name string) *subcommand {
	for i := range g.subs {
		if g.subs[i].name == name {
			return &g.subs[i]
		}
	}
	return nil
}

func (g *group) names() string {
	var n []string
	for _, s := range g.subs {
		n = append(n, s.name)
	}
	return strings.Join(n, ", ")
}

func (g *group) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: authd %s <command> [flags] [arguments]\n\n%s\n\ncommands:\n", g.name, g.about)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range g.subs {
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(s.name+" "+s.args), s.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n\"authd %s <command> --help\" shows what a command takes.\n", g.name)
}

func (s *subcommand) usageLine(g *group) string {
	return strings.TrimSpace(fmt.Sprintf("authd %s %s [flags] %s", g.name, s.name, s.args))
}

// newFlagSet builds the subcommand's flags, its own and the admin API's.
func (s *subcommand) newFlagSet(g *group) (*flag.FlagSet, func(context.Context, *call) error, adminFlags) {
	fs := flag.NewFlagSet("authd "+g.name+" "+s.name, flag.ContinueOnError)
	// The flag package's own messages and usage go nowhere: run reports the
	// error once, and help goes to stdout, where it was asked for.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	run := s.flags(fs)
	return fs, run, defineAdminFlags(fs)
}

func (s *subcommand) usage(w io.Writer, g *group) {
	fs, _, _ := s.newFlagSet(g)
	fmt.Fprintf(w, "usage: %s\n\n%s\n", s.usageLine(g), s.about)
	own := func(f *flag.Flag) bool { return !slices.Contains(commonFlags, f.Name) }
	if n := printFlags(w, fs, own, "\nflags:\n"); n == 0 {
		fmt.Fprintln(w, "\nno flags of its own")
	}
	printFlags(w, fs, func(f *flag.Flag) bool { return !own(f) }, "\nreaching the admin API (token: AUTHD_ADMIN_TOKEN or the data folder's admin-token):\n")
}

// printFlags lists the flags that keep says to, with two dashes as the
// README writes them, under heading; it returns how many it listed.
func printFlags(w io.Writer, fs *flag.FlagSet, keep func(*flag.Flag) bool, heading string) int {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if !keep(f) {
			return
		}
		n++
		arg, help := flag.UnquoteUsage(f)
		switch _, isOpt := f.Value.(*optBool); {
		case isOpt:
			arg = "" // written --flag or --flag=false
		case arg != "" && !strings.Contains(f.Usage, "`"):
			// The flag's own name says more than "string".
			arg = strings.ToUpper(f.Name[strings.LastIndexByte(f.Name, '-')+1:])
		}
		switch f.DefValue {
		case "", "0", "false":
		default:
			help += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(tw, "  --%s\t%s\n", strings.TrimSpace(f.Name+" "+arg), help)
	})
	tw.Flush()
	if n > 0 {
		fmt.Fprint(w, heading)
		_, _ = buf.WriteTo(w)
	}
	return n
}

// isHelpArg reports whether arg asks for help the way the flag package
// understands it: -h, -help, --h, --help, with or without =value.
func isHelpArg(arg string) bool {
	name, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-"), "=")
	return strings.HasPrefix(arg, "-") && (name == "h" || name == "help")
}

// helpRequested reports whether args ask for help before a "--".
func helpRequested(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if isHelpArg(a) {
			return true
		}
	}
	return false
}

// parseInterspersed parses flags wherever they are among the positional
// arguments, so `authd client update web --name Web` works as people type
// it; everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// run dispatches `authd GROUP ...`: help for the group or one command, or
// the command itself.
func (g *group) run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		g.usage(stderr)
		return fmt.Errorf("no %s command given (%s)", g.name, g.names())
	}
	if args[0] == "help" || isHelpArg(args[0]) {
		if args[0] == "help" && len(args) > 1 {
			s := g.find(args[1])
			if s == nil {
				return fmt.Errorf("unknown %s command %q (%s)", g.name, args[1], g.names())
			}
			s.usage(stdout, g)
			return nil
		}
		g.usage(stdout)
		return nil
	}
	s := g.find(args[0])
	if s == nil {
		return fmt.Errorf("unknown %s command %q (%s); see authd %s --help", g.name, args[0], g.names(), g.name)
	}
	fs, runSub, af := s.newFlagSet(g)
	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		s.usage(stdout, g)
		return nil
	}
	if err != nil {
		return fmt.Errorf("%v; see authd %s %s --help", err, g.name, s.name)
	}
	if len(pos) != s.nargs || slices.Contains(pos, "") {
		return fmt.Errorf("usage: %s (see --help)", s.usageLine(g))
	}
	a, err := af.connect(getenv)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return runSub(ctx, &call{admin: a, args: pos, set: set, stdin: stdin, stdout: stdout, stderr: stderr})
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// orDash keeps a table's columns readable when a cell is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
