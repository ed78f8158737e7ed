package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/authd/authd/internal/testenv"
)

// hostile is what a label, a note or a server's answer could hold.
const hostile = `<script>alert(1)</script>"><img src=x onerror=alert(2)>&amp;'`

// testTimeline records n seconds of a stream at about rate answers a second.
func testTimeline(seconds, rate int) *Timeline {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tl := newTimeline(t0)
	for s := range seconds {
		for i := range rate {
			at := t0.Add(time.Duration(s)*time.Second + time.Duration(i)*time.Second/time.Duration(rate))
			lat := time.Duration(200+i*(s+1)) * time.Microsecond
			tl.add(at, lat, i%50 != 0)
		}
	}
	return tl.export()
}

func testReport() *Report {
	sum := func(stream string) *Summary {
		return &Summary{Stream: stream, Requests: 1000, OK: 980, SuccessRatio: 0.98, Seconds: 5, RPS: 200, OKRPS: 196,
			Outcomes: map[string]uint64{"issued": 980, hostile: 20}, StatusCodes: map[string]int{"200": 1000},
			Latency: Latency{P50: 1, P90: 2, P95: 3, P99: 4, Max: 9}, Timeline: testTimeline(5, 200)}
	}
	return &Report{
		Version: 1, StartedAt: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC),
		Settings: Settings{Rate: 200, Workers: 8, MaxWorkers: 64, Seconds: 5, MaxRequests: 1000, Tokens: 10, BatchFormat: "opaque",
			Mix: hostile, FailIf: "p99>50ms"},
		Setup: map[string]Setup{hostile: {URL: "http://127.0.0.1:1", Tokens: map[string]int{"jwt": 10}}},
		Results: []*ScenarioResult{
			{Scenario: "token-jwt", Target: hostile, URL: "http://127.0.0.1:1", Status: statusOK,
				Notes: []string{hostile}, Findings: []Finding{{Check: hostile, Result: "info", Detail: hostile}},
				Streams: []*Summary{sum("main")}},
			{Scenario: "token-jwt", Target: "baseline", URL: "http://127.0.0.1:2", Status: statusOK, Streams: []*Summary{sum("main")}},
			{Scenario: "flood", Target: "authd", URL: "http://127.0.0.1:1", Status: statusOK,
				Streams: []*Summary{sum("attack"), sum("legit-calm"), sum("legit-under-attack")}},
			{Scenario: "stuffing", Target: "authd", Status: statusUnsupported, Notes: []string{"no users endpoint"}},
			// A stream with no timeline (a stress step) gets no charts.
			{Scenario: "stress", Target: "authd", Status: statusOK, SustainableRate: 400,
				Streams: []*Summary{sum("ramp"), {Stream: "step 100/s", Requests: 10, OK: 10}}},
		},
	}
}

// parsedCharts parses page and returns, per data-for key, the kinds of the
// charts drawn for it, and the elements by tag name.
func parsedCharts(t *testing.T, page []byte) (map[string][]string, map[string]int) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	charts := map[string][]string{}
	tags := map[string]int{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			tags[n.Data]++
			attrs := map[string]string{}
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
			}
			if n.Data == "svg" && attrs["class"] == "chart" {
				charts[attrs["data-for"]] = append(charts[attrs["data-for"]], attrs["data-chart"])
			}
			for _, k := range []string{"src", "href", "onerror", "onload"} {
				if _, ok := attrs[k]; ok {
					t.Errorf("<%s %s=%q>: the page must load nothing and run no handler", n.Data, k, attrs[k])
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return charts, tags
}

func TestHTMLReport(t *testing.T) {
	var b bytes.Buffer
	if err := writeHTML(&b, testReport(), "baseline"); err != nil {
		t.Fatal(err)
	}
	page := b.Bytes()
	charts, tags := parsedCharts(t, page)

	// Three charts for each stream that has a timeline, and none for others.
	want := []string{
		"token-jwt @ " + hostile + " / main", "token-jwt @ baseline / main",
		"flood @ authd / attack", "flood @ authd / legit-calm", "flood @ authd / legit-under-attack",
		"stress @ authd / ramp",
	}
	if len(charts) != len(want) {
		t.Errorf("charts for %d streams; want %d: %v", len(charts), len(want), charts)
	}
	for _, k := range want {
		if got := strings.Join(charts[k], ","); got != "latency,throughput,histogram" {
			t.Errorf("charts for %q: %q; want latency,throughput,histogram", k, got)
		}
	}
	// Every printed string is escaped: the only script is ours, no element
	// came from a string, and the raw markup never appears.
	if tags["script"] != 1 || tags["img"] != 0 {
		t.Errorf("%d script and %d img elements; want 1 and 0", tags["script"], tags["img"])
	}
	if bytes.Contains(page, []byte("<script>alert")) || bytes.Contains(page, []byte("<img")) {
		t.Error("a hostile string is in the page unescaped")
	}
	if !bytes.Contains(page, []byte("&lt;script&gt;alert(1)&lt;/script&gt;")) {
		t.Error("the hostile label is not shown, escaped")
	}
	for _, s := range []string{
		`http-equiv="Content-Security-Policy" content="default-src 'none'`, // no fetch of any kind
		"<td>sustains 400/s</td>", "<th>fail if</th><td>p99&gt;50ms</td>", // the table and the settings
		"outcomes: issued:980", `class="bar"`, "<polyline",
	} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("the page lacks %q", s)
		}
	}
}

func TestHTMLChartsOfAnEmptyOrTinyStream(t *testing.T) {
	// One answer, one bucket: the charts are still drawn, with finite numbers.
	rep := testReport()
	rep.Results = []*ScenarioResult{{Scenario: "jwks", Target: "authd", Status: statusOK,
		Streams: []*Summary{{Stream: "main", Requests: 1, OK: 1, Timeline: testTimeline(1, 1)}}}}
	var b bytes.Buffer
	if err := writeHTML(&b, rep, "baseline"); err != nil {
		t.Fatal(err)
	}
	charts, _ := parsedCharts(t, b.Bytes())
	if len(charts["jwks @ authd / main"]) != 3 {
		t.Fatalf("charts %v", charts)
	}
	for _, bad := range []string{"NaN", "Inf"} {
		if bytes.Contains(b.Bytes(), []byte(bad)) {
			t.Errorf("the page holds %s", bad)
		}
	}
}

// chromium finds the browser as interop does: AUTHD_CHROMIUM, else Debian's
// chromium; missing, the test skips, or fails under AUTHD_REQUIRE_SERVERS=1.
func chromium(t *testing.T) string {
	t.Helper()
	unavailable := func(what string) {
		msg := what + " is not installed (set AUTHD_CHROMIUM or run interop/install.sh)"
		if testenv.RequireServers() {
			t.Fatal(msg + "; AUTHD_REQUIRE_SERVERS=1 forbids skipping")
		}
		t.Skip(msg + "; skipping")
	}
	if p := os.Getenv("AUTHD_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			unavailable("chromium at AUTHD_CHROMIUM (" + p + ")")
		}
		return p
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		unavailable("chromium")
	}
	return p
}

// TestHTMLRendersInChromium opens the report in headless Chromium, with no
// network, and reads back the DOM after its script ran: every chart is
// there and drawn, and the browser reported no script error and no blocked
// fetch.
func TestHTMLRendersInChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	rep := testReport()
	if err := saveHTML(path, rep, "baseline"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0",
		"--proxy-server=127.0.0.1:9", // nothing may go out; a fetch would fail loudly
		"--dump-dom", "file://"+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	dom := stdout.Bytes()
	charts, _ := parsedCharts(t, dom)
	n := 0
	for _, kinds := range charts {
		n += len(kinds)
	}
	if n != 18 {
		t.Errorf("%d charts in the rendered DOM; want 18", n)
	}
	for _, s := range []string{`data-charts="18"`, `data-charts-drawn="18"`} {
		if !bytes.Contains(dom, []byte(s)) {
			t.Errorf("the rendered page lacks %s: its script did not run to the end", s)
		}
	}
	for _, bad := range []string{"Uncaught", "Refused to", "ERR_"} {
		if i := strings.Index(stderr.String(), bad); i >= 0 {
			t.Errorf("chromium reported %q: %s", bad, stderr.String()[i:min(len(stderr.String()), i+200)])
		}
	}
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }
