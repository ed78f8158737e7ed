package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Settings records the load shape of a run in its report.
type Settings struct {
	Rate        int     `json:"rate"`
	Workers     int     `json:"workers"`
	MaxWorkers  int     `json:"max_workers"`
	Seconds     float64 `json:"duration_seconds"`
	MaxRequests int64   `json:"max_requests"`
	Tokens      int     `json:"tokens"`
	BatchFormat string  `json:"batch_format"`
	// Mix is set when mixed or stress ran, Stress when stress did.
	Mix    string        `json:"mix,omitempty"`
	Stress *StressConfig `json:"stress,omitempty"`
	FailIf string        `json:"fail_if,omitempty"`
}

// StressConfig records the stress scenario's ramp and limits.
type StressConfig struct {
	Start       int     `json:"start_rate"`
	Step        int     `json:"step_rate"`
	MaxRate     int     `json:"max_rate"`
	StepSeconds float64 `json:"step_seconds"`
	P99MS       float64 `json:"p99_limit_ms"`
	ErrorsPct   float64 `json:"errors_limit_percent"`
}

// Report is everything a run measured; run --json prints it and report reads it.
type Report struct {
	Version   int               `json:"version"`
	StartedAt time.Time         `json:"started_at"`
	Settings  Settings          `json:"settings"`
	Setup     map[string]Setup  `json:"setup"` // by target label
	Results   []*ScenarioResult `json:"results"`
}

// Setup is what a report says about a target's setup (never its secrets).
type Setup struct {
	URL         string            `json:"url"`
	Tokens      map[string]int    `json:"tokens"`
	Users       int               `json:"users"`
	Unsupported map[string]string `json:"unsupported,omitempty"`
	Notes       []string          `json:"notes,omitempty"`
}

func setupSummary(fx *Fixture) Setup {
	s := Setup{URL: fx.Target, Tokens: map[string]int{}, Users: len(fx.Users), Unsupported: fx.Unsupported, Notes: fx.Notes}
	for k, v := range fx.Tokens {
		s.Tokens[k] = len(v)
	}
	return s
}

// target is one server a run loads.
type target struct {
	label string
	base  string
	fx    *Fixture
}

// cmdRun sets up (or loads the setup of) the target and the baseline, runs
// each scenario against the target and, if comparable, the baseline right
// after, and prints the results.
func cmdRun(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseOptions("run", args, getenv, stderr)
	if err != nil {
		return err
	}
	needUsers := false
	for _, name := range o.scenarios {
		needUsers = needUsers || lookupScenario(name).needsUsers ||
			((name == "mixed" || name == "stress") && mixNeedsUsers(o.mix))
	}
	users := 0
	if needUsers {
		users = o.users
	}

	var fx *Fixture
	if o.fixture != "" {
		if fx, err = loadFixture(o.fixture); err != nil {
			return err
		}
		if fx.Target != "" && fx.Target != o.target {
			return fmt.Errorf("--fixture was set up on %s, not --target %s", fx.Target, o.target)
		}
	} else {
		tok, err := o.resolveAdminToken()
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "setup on %s (admin %s)\n", o.target, o.admin)
		if fx, err = runSetup(ctx, setupPlan{target: o.target, admin: o.admin, adminToken: tok, tokens: o.tokens, users: users, timeout: o.timeout, log: stderr}); err != nil {
			return fmt.Errorf("setup on %s: %w", o.target, err)
		}
	}
	targets := []target{{label: o.label, base: o.target, fx: fx}}

	if o.baseline != "" {
		base, tok := o.baseline, o.baselineAdminToken
		if o.baseline == "inprocess" {
			tok = randomString(24)
			srv, url, err := startBaseline("127.0.0.1:0", tok)
			if err != nil {
				return err
			}
			defer srv.Close()
			base = url
			fmt.Fprintf(stderr, "baseline in process on %s\n", base)
		} else if tok == "" {
			return errors.New("--baseline URL needs --baseline-admin-token (the one it was started with)")
		}
		fmt.Fprintf(stderr, "setup on the baseline %s\n", base)
		bfx, err := runSetup(ctx, setupPlan{target: base, admin: base, adminToken: tok, tokens: o.tokens, timeout: o.timeout, log: stderr})
		if err != nil {
			return fmt.Errorf("setup on the baseline: %w", err)
		}
		targets = append(targets, target{label: "baseline", base: base, fx: bfx})
	}

	rep := &Report{
		Version:   1,
		StartedAt: time.Now().UTC(),
		Settings: Settings{Rate: o.rate, Workers: o.workers, MaxWorkers: o.maxWorkers, Seconds: o.duration.Seconds(),
			MaxRequests: o.maxRequests, Tokens: o.tokens, BatchFormat: o.batchFormat},
		Setup: map[string]Setup{},
	}
	for _, t := range targets {
		rep.Setup[t.label] = setupSummary(t.fx)
	}
	rep.Settings.FailIf = o.failIfSpec
	for _, name := range o.scenarios {
		switch name {
		case "stress":
			st := o.stress
			rep.Settings.Stress = &StressConfig{Start: st.start, Step: st.step, MaxRate: st.maxRate,
				StepSeconds: st.stepDuration.Seconds(), P99MS: ms(st.p99), ErrorsPct: st.errorsPct}
			fallthrough
		case "mixed":
			rep.Settings.Mix = mixString(o.mix)
		}
	}
	hc := newHTTPClient(o.timeout, 4, "")
	defer hc.CloseIdleConnections()

	// The live line, on a terminal only; logs go through it so they do not
	// run into it.
	log := stderr
	prog := newProgress(stderr)
	if prog != nil {
		log = prog
		pctx, stopProgress := context.WithCancel(ctx)
		tick := time.NewTicker(time.Second)
		done := make(chan struct{})
		go func() { prog.run(pctx, tick.C); close(done) }()
		defer func() { stopProgress(); <-done; tick.Stop() }()
	}
	for _, name := range o.scenarios {
		sc := lookupScenario(name)
		for i, t := range targets {
			if i > 0 && !sc.comparable {
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			e := &env{label: t.label, base: t.base, fx: t.fx, o: o, settings: o.attackSettings(), log: log, hc: hc, progress: prog}
			prog.setScenario(name + " @ " + t.label)
			res := sc.run(ctx, e)
			rep.Results = append(rep.Results, res)
			if !o.jsonOut {
				writeResult(stdout, res)
			}
		}
	}
	if o.html != "" {
		if err := saveHTML(o.html, rep, "baseline"); err != nil {
			return err
		}
		fmt.Fprintf(log, "HTML report written to %s\n", o.html)
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if len(targets) > 1 {
		fmt.Fprintln(stdout)
		if err := writeTable(stdout, rep.Results, "baseline"); err != nil {
			return err
		}
	}
	// The verdicts go to stderr: stdout may be --json for a machine.
	return checkGate(stderr, o.failIf, rep.Results, "baseline")
}

// saveHTML writes the HTML report to path, replacing it whole or not at all.
func saveHTML(path string, rep *Report, baselineLabel string) error {
	var b bytes.Buffer
	if err := writeHTML(&b, rep, baselineLabel); err != nil {
		return fmt.Errorf("HTML report: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("HTML report: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("HTML report: %w", err)
	}
	return nil
}

// writeResult prints one scenario result for a person.
func writeResult(w io.Writer, r *ScenarioResult) {
	fmt.Fprintf(w, "\n== %s @ %s (%s): %s\n", r.Scenario, r.Target, r.URL, r.Status)
	for _, s := range r.Streams {
		writeSummary(w, s)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  %-5s %s: %s\n", f.Result, f.Check, f.Detail)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note  %s\n", n)
	}
}

// cmdSetup runs setup alone and prints or saves the fixture.
func cmdSetup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseOptions("setup", args, getenv, stderr)
	if err != nil {
		return err
	}
	tok, err := o.resolveAdminToken()
	if err != nil {
		return err
	}
	fx, err := runSetup(ctx, setupPlan{target: o.target, admin: o.admin, adminToken: tok, tokens: o.tokens, users: o.users, timeout: o.timeout, log: stderr})
	if err != nil {
		return err
	}
	for k, v := range fx.Unsupported {
		fmt.Fprintf(stderr, "setup: %s not supported: %s\n", k, v)
	}
	for _, n := range fx.Notes {
		fmt.Fprintln(stderr, "setup:", n)
	}
	if o.out != "" {
		if err := saveFixture(o.out, fx); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "setup: saved to %s (it holds secrets: mode 0600)\n", o.out)
		return nil
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(fx)
}

// Bounds of the baseline server's life: it stops by itself.
const (
	defaultBaselineLifetime = time.Hour
	maxBaselineLifetime     = 24 * time.Hour
)

// cmdBaseline serves the baseline until ctx ends or --max-lifetime passes.
func cmdBaseline(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on (loopback only)")
	token := fs.String("admin-token", getenv("AUTHD_BASELINE_ADMIN_TOKEN"), "bearer token for POST /admin/clients (default: AUTHD_BASELINE_ADMIN_TOKEN, else generated and printed)")
	addrFile := fs.String("addr-file", "", "write the base URL here once listening")
	lifetime := fs.Duration("max-lifetime", defaultBaselineLifetime, "stop after this long (at most 24h)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLoopbackListen("listen", *listen); err != nil {
		return err
	}
	if *lifetime <= 0 || *lifetime > maxBaselineLifetime {
		return fmt.Errorf("--max-lifetime %s: must be more than 0 and at most %s", *lifetime, maxBaselineLifetime)
	}
	generated := *token == ""
	if generated {
		*token = randomString(24)
	}
	srv, url, err := startBaseline(*listen, *token)
	if err != nil {
		return err
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(url+"\n"), 0o644); err != nil {
			srv.Close()
			return err
		}
	}
	fmt.Fprintf(stdout, "baseline listening on %s\n", url)
	if generated {
		fmt.Fprintf(stdout, "admin token: %s\n", *token)
	}
	select {
	case <-ctx.Done():
	case <-time.After(*lifetime):
		fmt.Fprintf(stderr, "baseline: --max-lifetime %s reached, stopping\n", *lifetime)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// startBaseline listens on addr (loopback only) and serves the baseline in
// the background, with the timeouts authd's servers have. It returns the
// server and its base URL.
func startBaseline(addr, adminToken string) (*http.Server, string, error) {
	if err := checkLoopbackListen("listen", addr); err != nil {
		return nil, "", err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	url := "http://" + ln.Addr().String()
	b, err := newBaseline(url, adminToken)
	if err != nil {
		ln.Close()
		return nil, "", err
	}
	srv := &http.Server{
		Handler:           b.handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	go func() { _ = srv.Serve(ln) }()
	return srv, strings.TrimSuffix(url, "/"), nil
}
