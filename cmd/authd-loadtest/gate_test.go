package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseFailIf(t *testing.T) {
	tests := []struct {
		name      string
		spec      string
		wantTexts []string
		wantLimit []float64
		wantErr   string
	}{
		{name: "empty", spec: ""},
		{name: "blank", spec: "  "},
		{name: "the brief's example", spec: "p99>50ms,errors>1%", wantTexts: []string{"p99>50ms", "errors>1%"}, wantLimit: []float64{50, 1}},
		{name: "every metric", spec: "p50>1ms, p90>2ms ,p95>3ms,p99>1.5s,max>10s,mean>1us,errors>0.5,rps<1000",
			wantTexts: []string{"p50>1ms", "p90>2ms", "p95>3ms", "p99>1.5s", "max>10s", "mean>1us", "errors>0.5", "rps<1000"},
			wantLimit: []float64{1, 2, 3, 1500, 10000, 0.001, 0.5, 1000}},
		{name: "upper case metric", spec: "P99 > 50ms", wantTexts: []string{"p99>50ms"}, wantLimit: []float64{50}},
		{name: "less than", spec: "rps<10", wantTexts: []string{"rps<10"}, wantLimit: []float64{10}},
		{name: "unknown metric", spec: "p42>1ms", wantErr: "unknown metric"},
		{name: "no operator", spec: "p99=50ms", wantErr: "METRIC<VALUE"},
		{name: "two operators", spec: "p99>>50ms", wantErr: "one < or >"},
		{name: "at most", spec: "p99<=50ms", wantErr: "one < or >"},
		{name: "no value", spec: "p99>", wantErr: "one < or >"},
		{name: "latency without unit", spec: "p99>50", wantErr: "duration"},
		{name: "negative latency", spec: "p99>-5ms", wantErr: "duration"},
		{name: "errors over 100", spec: "errors>101%", wantErr: "percentage"},
		{name: "errors not a number", spec: "errors>lots", wantErr: "percentage"},
		{name: "errors NaN", spec: "errors>NaN", wantErr: "percentage"},
		{name: "rps with unit", spec: "rps<10/s", wantErr: "requests per second"},
		{name: "rps infinite", spec: "rps<Inf", wantErr: "requests per second"},
		{name: "rps NaN", spec: "rps<nan", wantErr: "requests per second"},
		{name: "empty term", spec: "p99>1ms,,errors>1", wantErr: "METRIC<VALUE"},
		{name: "too many", spec: strings.Repeat("p99>1ms,", 32) + "p99>1ms", wantErr: "more than 32"},
		{name: "too long", spec: strings.Repeat(" ", 1025), wantErr: "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseFailIf(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v; want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.wantTexts) {
				t.Fatalf("%d conditions; want %d", len(got), len(tc.wantTexts))
			}
			for i, c := range got {
				if c.text != tc.wantTexts[i] || c.limit != tc.wantLimit[i] {
					t.Errorf("condition %d = %q limit %v; want %q limit %v", i, c.text, c.limit, tc.wantTexts[i], tc.wantLimit[i])
				}
			}
		})
	}
}

func TestCheckGate(t *testing.T) {
	sum := func(p99, rps float64, requests, ok uint64) *Summary {
		return &Summary{Stream: "main", Requests: requests, OK: ok, OKRPS: rps, Latency: Latency{P50: p99 / 4, P90: p99 / 2, P99: p99, Max: 2 * p99}}
	}
	results := []*ScenarioResult{
		{Scenario: "token-jwt", Target: "authd", Status: statusOK, Streams: []*Summary{sum(62, 5000, 1000, 995)}},
		{Scenario: "introspect-jwt", Target: "authd", Status: statusOK, Streams: []*Summary{sum(10, 9000, 1000, 980)}},
		{Scenario: "token-jwt", Target: "baseline", Status: statusOK, Streams: []*Summary{sum(500, 1, 10, 0)}},
		{Scenario: "stuffing", Target: "authd", Status: statusUnsupported},
	}
	tests := []struct {
		name     string
		spec     string
		results  []*ScenarioResult
		wantFail []string
	}{
		{name: "no conditions", spec: ""},
		{name: "all met", spec: "p99>100ms,errors>5%,rps<100"},
		{name: "latency missed", spec: "p99>50ms", wantFail: []string{"FAIL token-jwt @ authd: p99>50ms (it was 62.00ms)"}},
		{name: "errors missed", spec: "errors>1%", wantFail: []string{"FAIL introspect-jwt @ authd: errors>1% (it was 2.00%)"}},
		{name: "two conditions, both missed", spec: "p99>50ms,rps<6000", wantFail: []string{
			"FAIL token-jwt @ authd: p99>50ms (it was 62.00ms)", "FAIL token-jwt @ authd: rps<6000 (it was 5000/s)"}},
		{name: "a scenario that did not run", spec: "p99>1s",
			results:  []*ScenarioResult{{Scenario: "flood", Target: "authd", Status: statusFailed, Notes: []string{"preflight: refused"}}},
			wantFail: []string{"FAIL flood @ authd: did not run (preflight: refused)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conds, err := parseFailIf(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			rs := results
			if tc.results != nil {
				rs = tc.results
			}
			var out bytes.Buffer
			err = checkGate(&out, conds, rs, "baseline")
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(tc.wantFail) == 0 {
				if err != nil || out.Len() > 0 {
					t.Fatalf("err %v, output %q; want a pass", err, out.String())
				}
				return
			}
			if !errors.Is(err, errGateFailed) {
				t.Fatalf("err %v; want errGateFailed", err)
			}
			if strings.Join(lines, "\n") != strings.Join(tc.wantFail, "\n") {
				t.Fatalf("output\n%s\nwant\n%s", out.String(), strings.Join(tc.wantFail, "\n"))
			}
		})
	}
}

// FuzzParseFailIf: any input is parsed or refused, never a panic, and what
// is accepted is within the bounds and prints back to something that parses
// to the same conditions.
func FuzzParseFailIf(f *testing.F) {
	for _, s := range []string{"p99>50ms,errors>1%", "rps<1000", "max>1.5s, p50 > 1us", "errors>100", "p99>", ">", ",", "p99<-1ms", "errors>1e308%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		conds, err := parseFailIf(spec)
		if err != nil {
			return
		}
		if len(conds) > maxGateConditions {
			t.Fatalf("%d conditions accepted", len(conds))
		}
		texts := make([]string, len(conds))
		for i, c := range conds {
			if c.metric == nil || c.limit < 0 || c.limit != c.limit {
				t.Fatalf("condition %+v accepted", c)
			}
			if c.metric.percent && c.limit > 100 {
				t.Fatalf("errors limit %v accepted", c.limit)
			}
			texts[i] = c.text
		}
		again, err := parseFailIf(strings.Join(texts, ","))
		if err != nil || len(again) != len(conds) {
			t.Fatalf("%q printed as %q does not parse back: %v", spec, texts, err)
		}
		for i := range again {
			if again[i].limit != conds[i].limit || again[i].metric != conds[i].metric || again[i].less != conds[i].less {
				t.Fatalf("%q: condition %d changed on a round trip", spec, i)
			}
		}
	})
}
