package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
)

// TestRunHTMLAndFailIf drives run with --html and --fail-if against the
// baseline: the report is written, machine output stays clean, and the exit
// status says whether the conditions held.
func TestRunHTMLAndFailIf(t *testing.T) {
	base := startTestBaseline(t)
	dir := t.TempDir()
	tests := []struct {
		name    string
		failIf  string
		wantErr bool
		wantOut string // on stderr
	}{
		{name: "conditions met", failIf: "p99>30s,errors>50%"},
		{name: "a condition missed", failIf: "rps<100000000,errors>50%", wantErr: true, wantOut: "FAIL mixed @ authd: rps<100000000 (it was "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			html := dir + "/" + strings.ReplaceAll(tc.name, " ", "-") + ".html"
			var out, errOut bytes.Buffer
			args := []string{"run", "--target", base, "--admin", base, "--admin-token", testAdminToken,
				"--scenarios", "mixed,stress", "--duration", "400ms", "--workers", "2", "--tokens", "20",
				"--stress-start", "50", "--stress-step", "50", "--stress-step-duration", "200ms",
				"--mix", "token:1,introspect:3,introspect-jwt:1,jwks:1", "--html", html, "--fail-if", tc.failIf, "--json"}
			err := run(context.Background(), args, noenv, &out, &errOut)
			if tc.wantErr != (err != nil) || (err != nil && err != errGateFailed) {
				t.Fatalf("err %v; want gate failure %v\n%s", err, tc.wantErr, errOut.String())
			}
			if !strings.Contains(errOut.String(), tc.wantOut) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantOut, errOut.String())
			}
			if bytes.ContainsAny(out.Bytes(), "\r\x1b") || !bytes.HasPrefix(out.Bytes(), []byte("{")) {
				t.Errorf("stdout is not clean JSON: %q", out.String()[:min(out.Len(), 200)])
			}
			page, err := readFile(html)
			if err != nil {
				t.Fatal(err)
			}
			charts, _ := parsedCharts(t, page)
			// The mix and each of its kinds, and the stress ramp.
			for _, k := range []string{"mixed @ authd / main", "mixed @ authd / kind token", "mixed @ authd / kind introspect",
				"mixed @ authd / kind introspect-jwt", "mixed @ authd / kind jwks", "stress @ authd / ramp"} {
				if len(charts[k]) != 3 {
					t.Errorf("charts for %q: %v", k, charts[k])
				}
			}
		})
	}
}

// TestReportHTMLAndFailIf: report merges run --json files into one HTML page
// and gates on them, leaving the baseline's results out of the gate.
func TestReportHTMLAndFailIf(t *testing.T) {
	base := startTestBaseline(t)
	dir := t.TempDir()
	var paths []string
	for _, sc := range []string{"token-jwt", "jwks"} {
		var out bytes.Buffer
		args := []string{sc, "--target", base, "--admin", base, "--admin-token", testAdminToken,
			"--baseline", "inprocess", "--duration", "200ms", "--workers", "2", "--tokens", "5", "--json"}
		if err := run(context.Background(), args, noenv, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		p := dir + "/" + sc + ".json"
		if err := os.WriteFile(p, out.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	html := dir + "/report.html"
	var table, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"report", "--html", html, "--fail-if", "rps<1000000000"}, paths...), noenv, &table, &errOut)
	if err != errGateFailed {
		t.Fatalf("err %v; want errGateFailed\n%s", err, errOut.String())
	}
	fails := strings.Count(errOut.String(), "FAIL ")
	if fails != 2 || strings.Contains(errOut.String(), "@ baseline") {
		t.Errorf("gate output %q; want one FAIL per authd result and none for the baseline", errOut.String())
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	charts, _ := parsedCharts(t, page)
	for _, k := range []string{"token-jwt @ authd / main", "token-jwt @ baseline / main", "jwks @ authd / main", "jwks @ baseline / main"} {
		if len(charts[k]) != 3 {
			t.Errorf("charts for %q: %v", k, charts[k])
		}
	}
	if !strings.Contains(table.String(), "VS BASELINE") {
		t.Errorf("table:\n%s", table.String())
	}
}
