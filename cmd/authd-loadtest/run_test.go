package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startTestBaseline serves a baseline for a test and returns its URL.
func startTestBaseline(t *testing.T) string {
	t.Helper()
	srv, url, err := startBaseline("127.0.0.1:0", testAdminToken)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return url
}

// TestRunEveryScenarioAgainstTheBaseline drives the whole command — setup,
// every scenario, JSON report — against a baseline standing in for authd.
// The baseline has no users, password grant or login form, so stuffing must
// come back unsupported rather than fail.
func TestRunEveryScenarioAgainstTheBaseline(t *testing.T) {
	base := startTestBaseline(t)
	var out, errOut bytes.Buffer
	args := []string{"run", "--target", base, "--admin", base, "--admin-token", testAdminToken,
		"--label", "stand-in", "--scenarios", strings.Join(scenarioNames(), ","),
		"--duration", "300ms", "--workers", "4", "--tokens", "120", "--users", "3", "--legit-rate", "10", "--json"}
	if err := run(context.Background(), args, noenv, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	got := map[string]*ScenarioResult{}
	for _, r := range rep.Results {
		got[r.Scenario] = r
	}
	if len(got) != len(scenarios) {
		t.Fatalf("%d results; want one per scenario (%d)", len(got), len(scenarios))
	}
	for _, name := range []string{"token-jwt", "token-opaque", "introspect-jwt", "introspect-opaque", "introspect-batch", "jwks"} {
		r := got[name]
		if r.Status != statusOK || r.main() == nil || r.main().Requests == 0 || r.main().SuccessRatio != 1 {
			t.Errorf("%s: status %s, streams %+v, notes %v", name, r.Status, r.Streams, r.Notes)
		}
	}
	if s := got["introspect-batch"].main(); s.ItemsPerRequest != batchSize || s.ItemsPerSecond != s.OKRPS*batchSize {
		t.Errorf("batch summary %+v", s)
	}
	if r := got["stuffing"]; r.Status != statusUnsupported || !strings.Contains(strings.Join(r.Notes, " "), "404") {
		t.Errorf("stuffing: %s %v; want unsupported, saying the users endpoint answered 404", r.Status, r.Notes)
	}
	enum := got["enumeration"]
	if enum.Status != statusOK || findingResult(enum, "no random token active") != "pass" {
		t.Errorf("enumeration: %s %+v", enum.Status, enum.Findings)
	}
	if len(enum.Streams) != 3 {
		t.Errorf("enumeration streams %d; want attack, legit-calm, legit-under-attack", len(enum.Streams))
	}
	flood := got["flood"]
	if findingResult(flood, "up after") != "pass" || findingResult(flood, "no 5xx") != "pass" {
		t.Errorf("flood: %+v", flood.Findings)
	}
	if su := rep.Setup["stand-in"]; su.Tokens[roleJWT] != 120 || su.Unsupported[featureUsers] == "" {
		t.Errorf("setup summary %+v", su)
	}
	if strings.Contains(out.String(), testAdminToken) {
		t.Error("the report leaks the admin token")
	}
}

func findingResult(r *ScenarioResult, check string) string {
	for _, f := range r.Findings {
		if f.Check == check {
			return f.Result
		}
	}
	return "missing"
}

// TestRunComparesWithBaselineAndReports runs a scenario against a target and
// an in-process baseline, then merges the JSON with the report command.
func TestRunComparesWithBaselineAndReports(t *testing.T) {
	target := startTestBaseline(t)
	var out, errOut bytes.Buffer
	args := []string{"token-jwt", "--target", target, "--admin", target, "--admin-token", testAdminToken,
		"--baseline", "inprocess", "--duration", "200ms", "--workers", "2", "--tokens", "5"}
	if err := run(context.Background(), args, noenv, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	text := out.String()
	for _, want := range []string{"== token-jwt @ authd", "== token-jwt @ baseline", "VS BASELINE", "≥ 90%"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}

	dir := t.TempDir()
	out.Reset()
	args = append(args, "--json")
	if err := run(context.Background(), args, noenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "run.json")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := run(context.Background(), []string{"report", path}, noenv, &table, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`authd\s+token-jwt\s+\d+`).MatchString(table.String()) || !strings.Contains(table.String(), "%") {
		t.Errorf("report table:\n%s", table.String())
	}
}

func TestSetupSavesAndRunReusesFixture(t *testing.T) {
	base := startTestBaseline(t)
	path := filepath.Join(t.TempDir(), "fixture.json")
	if err := run(context.Background(), []string{"setup", "--target", base, "--admin", base, "--admin-token", testAdminToken,
		"--tokens", "3", "--users", "0", "--out", path}, noenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("fixture mode %v; it holds secrets, want 0600", st.Mode().Perm())
	}
	fx, err := loadFixture(path)
	if err != nil || len(fx.Tokens[roleOpaque]) != 3 {
		t.Fatalf("fixture %+v, %v", fx, err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"introspect-opaque", "--target", base, "--fixture", path,
		"--duration", "100ms", "--workers", "1", "--json"}, noenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Results[0].main().OK == 0 {
		t.Fatalf("run with fixture: %v %s", err, out.String())
	}
	// A fixture is bound to the server it was made on.
	err = run(context.Background(), []string{"introspect-opaque", "--target", "http://127.0.0.1:1", "--fixture", path}, noenv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "set up on") {
		t.Fatalf("fixture on another target: %v", err)
	}
}

// TestAgainstRealAuthd runs the tool against the real authd binary: every
// attack scenario, with users. It takes a while (Argon2id for every user and
// guess), so it runs only when asked: AUTHD_LOADTEST_E2E=1 (builds ./cmd/authd)
// or AUTHD_LOADTEST_AUTHD=/path/to/authd.
func TestAgainstRealAuthd(t *testing.T) {
	if os.Getenv("AUTHD_LOADTEST_AUTHD") == "" && os.Getenv("AUTHD_LOADTEST_E2E") != "1" {
		t.Skip("set AUTHD_LOADTEST_E2E=1 or AUTHD_LOADTEST_AUTHD=path to run against the real authd")
	}
	// token-jwt is one client as fast as it goes, which authd's per-client
	// limit throttles by design; bench/run.sh turns it off the same way.
	a := startAuthd(t, "AUTHD_RATE_LIMIT_CLIENT=0")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	args := []string{"run", "--target", a.public, "--admin", a.admin, "--admin-token", a.adminToken,
		"--scenarios", "token-jwt,introspect-opaque,introspect-batch,enumeration,flood,stuffing,mixed",
		"--mix", "token:1,introspect:2,userinfo:1",
		"--duration", "500ms", "--workers", "4", "--tokens", "100", "--users", "3", "--fake-users", "5", "--json"}
	if err := run(ctx, args, noenv, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Status == statusFailed {
			t.Errorf("%s failed: %v", r.Scenario, r.Notes)
		}
		for _, f := range r.Findings {
			if f.Result == "fail" {
				t.Logf("%s: finding %s failed: %s", r.Scenario, f.Check, f.Detail)
			}
		}
		if r.Scenario == "token-jwt" && r.main().SuccessRatio != 1 {
			t.Errorf("token-jwt success %v: %v", r.main().SuccessRatio, r.main().Outcomes)
		}
		// userinfo with the user tokens setup got through the password grant.
		if r.Scenario == "mixed" && (r.Status != statusOK || r.main().SuccessRatio != 1 || r.main().Outcomes["userinfo/userinfo"] == 0) {
			t.Errorf("mixed: %s %v %+v", r.Status, r.Notes, r.main())
		}
	}
}
