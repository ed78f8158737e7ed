package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Bounds every run stays within, whatever the flags say: a load loop on a
// shared machine must stop by itself.
const (
	maxDuration        = 5 * time.Minute
	defaultMaxRequests = 5_000_000
	maxRequestsCap     = 50_000_000
	maxRate            = 500_000
	maxWorkersCap      = 4096
	maxTokenPool       = 100_000
	maxUsers           = 1000
	maxFakeUsers       = 100_000
	maxPasswords       = 100_000
)

// options are the flags shared by run, setup and the scenario shorthands.
type options struct {
	target         string // public API base URL of the server under test
	admin          string // its admin API base URL
	adminToken     string
	adminTokenFile string
	label          string // how the target is named in reports

	baseline           string // "", "inprocess" or the URL of a running baseline
	baselineAdminToken string

	scenarios   []string
	rate        int // requests per second; 0 = as fast as workers go
	workers     int
	maxWorkers  int
	duration    time.Duration
	maxRequests int64
	timeout     time.Duration
	jsonOut     bool

	fixture string // a setup file to use instead of running setup
	out     string // where setup writes its file
	tokens  int    // token pool size per format
	users   int    // users setup creates

	// Attack simulations.
	passwordsFile string
	fakeUsers     int
	via           string // grant, form or both
	legitRate     int
	leakedEvery   int
	batchFormat   string
	enumBatch     bool

	// mixed and stress.
	mixSpec string
	mix     []mixEntry
	stress  stressSettings

	// What run does with the results besides printing them.
	html       string      // write the HTML report here
	failIfSpec string      // --fail-if as given
	failIf     []condition // parsed
}

// defaultScenarios are what run does with no --scenarios: the benchmark set.
var defaultScenarios = []string{"token-jwt", "token-opaque", "introspect-jwt", "introspect-opaque", "introspect-batch"}

// parseOptions parses args for command cmd. getenv supplies AUTHD_ADMIN_TOKEN
// and AUTHD_DATA_DIR (for the admin token file); the result is validated.
func parseOptions(cmd string, args []string, getenv func(string) string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var scenarios string
	dataDir := getenv("AUTHD_DATA_DIR")
	if dataDir == "" {
		dataDir = "authd-data"
	}
	fs.StringVar(&o.target, "target", "http://127.0.0.1:8080", "public API base URL (loopback only)")
	fs.StringVar(&o.admin, "admin", "http://127.0.0.1:8081", "admin API base URL (loopback only)")
	fs.StringVar(&o.adminToken, "admin-token", "", "admin bearer token (default: AUTHD_ADMIN_TOKEN, else --admin-token-file)")
	fs.StringVar(&o.adminTokenFile, "admin-token-file", filepath.Join(dataDir, "admin-token"), "file holding the admin bearer token")
	fs.StringVar(&o.label, "label", "authd", "name of the target in reports (e.g. sqlite, postgres)")
	fs.StringVar(&o.baseline, "baseline", "", `also run comparable scenarios against a bare baseline: "inprocess" or its URL`)
	fs.StringVar(&o.baselineAdminToken, "baseline-admin-token", "", "admin token of the baseline given by URL")
	fs.StringVar(&scenarios, "scenarios", strings.Join(defaultScenarios, ","), "comma-separated scenarios (see: authd-loadtest list)")
	fs.IntVar(&o.rate, "rate", 0, "requests per second, open loop; 0 = as fast as --workers allow (closed loop, like wrk -c)")
	fs.IntVar(&o.workers, "workers", 64, "concurrent workers (connections)")
	fs.IntVar(&o.maxWorkers, "max-workers", 1024, "most workers an open-loop run may grow to when the server slows down")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each scenario runs (at most 5m)")
	fs.Int64Var(&o.maxRequests, "max-requests", defaultMaxRequests, "most requests one stream of a scenario sends")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.BoolVar(&o.jsonOut, "json", false, "print results as JSON")
	fs.StringVar(&o.fixture, "fixture", "", "use this setup file instead of running setup")
	fs.StringVar(&o.out, "out", "", "setup: write the setup file here (default: stdout)")
	fs.IntVar(&o.tokens, "tokens", 1000, "tokens to pre-issue per format for introspection")
	fs.IntVar(&o.users, "users", 20, "users to create for the stuffing scenario")
	fs.StringVar(&o.passwordsFile, "passwords", "", "stuffing: file of common passwords, one a line (default: a built-in top-100)")
	fs.IntVar(&o.fakeUsers, "fake-users", 200, "stuffing: usernames that do not exist, tried besides the real ones")
	fs.StringVar(&o.via, "via", "both", "stuffing: grant (password grant), form (login form) or both")
	fs.IntVar(&o.legitRate, "legit-rate", 20, "stuffing, flood: req/s of legitimate traffic measured during the attack")
	fs.IntVar(&o.leakedEvery, "leaked-every", 50, "stuffing: one attempt in N uses a real (leaked) username and password; 0 = never")
	fs.StringVar(&o.batchFormat, "batch-format", "opaque", "introspect-batch: opaque, jwt or mixed tokens")
	fs.BoolVar(&o.enumBatch, "enum-batch", false, "enumeration: guess 100 tokens per request through batch introspection")
	fs.StringVar(&o.mixSpec, "mix", defaultMix, "mixed, stress: KIND:WEIGHT,… of "+strings.Join(mixKindNames(), ", "))
	fs.IntVar(&o.stress.start, "stress-start", 100, "stress: the first step's rate (req/s)")
	fs.IntVar(&o.stress.step, "stress-step", 100, "stress: how much each step adds (req/s)")
	fs.IntVar(&o.stress.maxRate, "stress-max-rate", 20_000, "stress: the last step's rate at most (req/s)")
	fs.DurationVar(&o.stress.stepDuration, "stress-step-duration", 2*time.Second, "stress: how long each step runs (all steps within --duration)")
	fs.DurationVar(&o.stress.p99, "stress-p99", 100*time.Millisecond, "stress: a step whose p99 passes this is not sustainable")
	fs.Float64Var(&o.stress.errorsPct, "stress-errors", 1, "stress: a step with more than this percentage of unexpected answers is not sustainable")
	fs.StringVar(&o.html, "html", "", "run: also write a self-contained HTML report (charts, table, settings) to this file")
	fs.StringVar(&o.failIfSpec, "fail-if", "", `run: exit 1 if any condition holds for a scenario, e.g. "p99>50ms,errors>1%,rps<1000" (p50 p90 p95 p99 max mean errors rps)`)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.adminToken == "" {
		o.adminToken = getenv("AUTHD_ADMIN_TOKEN")
	}
	for _, s := range strings.Split(scenarios, ",") {
		if s = strings.TrimSpace(s); s != "" {
			o.scenarios = append(o.scenarios, s)
		}
	}
	return o, o.validate()
}

// validate enforces the loopback rule and the caps.
func (o *options) validate() error {
	var err error
	if o.target, err = checkLoopbackURL("target", o.target); err != nil {
		return err
	}
	if o.admin, err = checkLoopbackURL("admin", o.admin); err != nil {
		return err
	}
	if o.baseline != "" && o.baseline != "inprocess" {
		if o.baseline, err = checkLoopbackURL("baseline", o.baseline); err != nil {
			return err
		}
	}
	switch {
	case o.duration <= 0 || o.duration > maxDuration:
		return fmt.Errorf("--duration %s: must be more than 0 and at most %s", o.duration, maxDuration)
	case o.maxRequests <= 0 || o.maxRequests > maxRequestsCap:
		return fmt.Errorf("--max-requests %d: must be from 1 to %d", o.maxRequests, maxRequestsCap)
	case o.rate < 0 || o.rate > maxRate:
		return fmt.Errorf("--rate %d: must be from 0 (as fast as possible) to %d", o.rate, maxRate)
	case o.workers < 1 || o.workers > maxWorkersCap:
		return fmt.Errorf("--workers %d: must be from 1 to %d", o.workers, maxWorkersCap)
	case o.maxWorkers < o.workers || o.maxWorkers > maxWorkersCap:
		return fmt.Errorf("--max-workers %d: must be from --workers (%d) to %d", o.maxWorkers, o.workers, maxWorkersCap)
	case o.timeout <= 0 || o.timeout > time.Minute:
		return fmt.Errorf("--timeout %s: must be more than 0 and at most 1m", o.timeout)
	case o.tokens < 1 || o.tokens > maxTokenPool:
		return fmt.Errorf("--tokens %d: must be from 1 to %d", o.tokens, maxTokenPool)
	case o.users < 0 || o.users > maxUsers:
		return fmt.Errorf("--users %d: must be from 0 to %d", o.users, maxUsers)
	case o.fakeUsers < 0 || o.fakeUsers > maxFakeUsers:
		return fmt.Errorf("--fake-users %d: must be from 0 to %d", o.fakeUsers, maxFakeUsers)
	case o.legitRate < 1 || o.legitRate > 10_000:
		return fmt.Errorf("--legit-rate %d: must be from 1 to 10000", o.legitRate)
	case o.leakedEvery < 0:
		return fmt.Errorf("--leaked-every %d: must be 0 (never) or more", o.leakedEvery)
	}
	switch o.via {
	case "grant", "form", "both":
	default:
		return fmt.Errorf("--via %q: must be grant, form or both", o.via)
	}
	switch o.batchFormat {
	case "opaque", "jwt", "mixed":
	default:
		return fmt.Errorf("--batch-format %q: must be opaque, jwt or mixed", o.batchFormat)
	}
	if o.mix, err = parseMix(o.mixSpec); err != nil {
		return err
	}
	if o.failIf, err = parseFailIf(o.failIfSpec); err != nil {
		return err
	}
	if err := o.stress.validate(); err != nil {
		return err
	}
	if len(o.scenarios) == 0 {
		return errors.New("--scenarios: name at least one scenario")
	}
	for _, s := range o.scenarios {
		if lookupScenario(s) == nil {
			return fmt.Errorf("--scenarios: unknown scenario %q (known: %s)", s, strings.Join(scenarioNames(), ", "))
		}
	}
	return nil
}

// resolveAdminToken returns the admin token: the flag or environment, else
// the token file that authd serve generated.
func (o *options) resolveAdminToken() (string, error) {
	if o.adminToken != "" {
		return o.adminToken, nil
	}
	b, err := os.ReadFile(o.adminTokenFile)
	if err != nil {
		return "", fmt.Errorf("no admin token: pass --admin-token, set AUTHD_ADMIN_TOKEN, or point --admin-token-file at authd's admin-token file (%v)", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// attackSettings returns the load shape every stream of a scenario starts from.
func (o *options) attackSettings() attackSettings {
	return attackSettings{
		Rate:        o.rate,
		Workers:     o.workers,
		MaxWorkers:  o.maxWorkers,
		Duration:    o.duration,
		MaxRequests: o.maxRequests,
		Timeout:     o.timeout,
	}
}

// validate keeps a stress ramp within the tool's bounds.
func (s stressSettings) validate() error {
	switch {
	case s.start < 1 || s.start > maxRate:
		return fmt.Errorf("--stress-start %d: must be from 1 to %d", s.start, maxRate)
	case s.step < 1 || s.step > maxRate:
		return fmt.Errorf("--stress-step %d: must be from 1 to %d", s.step, maxRate)
	case s.maxRate < s.start || s.maxRate > maxRate:
		return fmt.Errorf("--stress-max-rate %d: must be from --stress-start (%d) to %d", s.maxRate, s.start, maxRate)
	case s.stepDuration < 100*time.Millisecond || s.stepDuration > time.Minute:
		return fmt.Errorf("--stress-step-duration %s: must be from 100ms to 1m", s.stepDuration)
	case s.p99 <= 0 || s.p99 > time.Minute:
		return fmt.Errorf("--stress-p99 %s: must be more than 0 and at most 1m", s.p99)
	case !(s.errorsPct >= 0 && s.errorsPct <= 100): // also refuses NaN
		return fmt.Errorf("--stress-errors %g: must be a percentage from 0 to 100", s.errorsPct)
	}
	return nil
}
