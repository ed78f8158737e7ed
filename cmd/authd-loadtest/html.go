package main

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The HTML report: one self-contained page, with the run's settings, the
// summary table and, per scenario, target and stream, three charts drawn
// as inline SVG (latency over time, throughput over time, latency
// histogram). It needs no network to open: the styles are inline, the
// charts are drawn here rather than by a charting library, and its Content
// Security Policy forbids every fetch, so a page that tried one would show
// it broken rather than quietly load it. html/template escapes every string
// it prints: labels, notes and server answers come from the command line
// and from the server under test.

// Chart geometry, in SVG user units.
const (
	chartW      = 640
	chartH      = 240
	plotLeft    = 64
	plotRight   = 16
	plotTop     = 28
	plotBottom  = 36
	plotW       = chartW - plotLeft - plotRight
	plotH       = chartH - plotTop - plotBottom
	chartTicks  = 5
	maxHistBars = 120
)

type htmlPage struct {
	Title     string
	Generated string
	Settings  [][2]string
	Table     [][]string
	Sections  []htmlSection
}

type htmlSection struct {
	ID       string
	Scenario string
	Target   string
	URL      string
	Status   string
	Notes    []string
	Findings []Finding
	Streams  []htmlStream
}

type htmlStream struct {
	Name    string
	Line    string // the stream's summary in one line
	Charts  []svgChart
	Outcome string
}

type svgChart struct {
	Kind   string // latency, throughput, histogram
	For    string // "SCENARIO @ TARGET / STREAM"
	Title  string
	YLabel string
	XLabel string
	Series []svgSeries
	Bars   []svgBar
	XTicks []svgTick
	YTicks []svgTick
}

type svgSeries struct {
	Name   string
	Class  string
	Points string // "x,y x,y …" in user units
}

type svgBar struct {
	X, Y, W, H float64
	Title      string
}

type svgTick struct {
	Pos   float64
	Label string
}

// writeHTML writes rep as the HTML report.
func writeHTML(w io.Writer, rep *Report, baselineLabel string) error {
	page := htmlPage{
		Title:     "authd-loadtest report",
		Generated: rep.StartedAt.UTC().Format(time.RFC3339),
		Settings:  settingsRows(rep),
		Table:     tableRows(rep.Results, baselineLabel),
	}
	for i, r := range rep.Results {
		sec := htmlSection{ID: "r" + strconv.Itoa(i), Scenario: r.Scenario, Target: r.Target, URL: r.URL,
			Status: r.Status, Notes: r.Notes, Findings: r.Findings}
		for _, s := range r.Streams {
			st := htmlStream{Name: s.Stream, Line: streamLine(s), Outcome: outcomesString(s.Outcomes)}
			if tl := s.Timeline; tl != nil && len(tl.Points) > 0 {
				key := r.Scenario + " @ " + r.Target + " / " + s.Stream
				st.Charts = []svgChart{latencyChart(key, tl), throughputChart(key, tl), histogramChart(key, tl)}
			}
			sec.Streams = append(sec.Streams, st)
		}
		page.Sections = append(page.Sections, sec)
	}
	return htmlTemplate.Execute(w, page)
}

// settingsRows lists the run's settings and each target's setup.
func settingsRows(rep *Report) [][2]string {
	s := rep.Settings
	rows := [][2]string{
		{"started", rep.StartedAt.UTC().Format(time.RFC3339)},
		{"load", rateString(s.Rate) + ", " + itoa(s.Workers) + " workers (at most " + itoa(s.MaxWorkers) + ")"},
		{"duration per scenario", strconv.FormatFloat(s.Seconds, 'f', -1, 64) + "s"},
		{"max requests per stream", strconv.FormatInt(s.MaxRequests, 10)},
		{"token pool", itoa(s.Tokens) + " per format; batch of " + itoa(batchSize) + " " + s.BatchFormat + " tokens"},
	}
	if s.Mix != "" {
		rows = append(rows, [2]string{"mix", s.Mix})
	}
	if st := s.Stress; st != nil {
		rows = append(rows, [2]string{"stress", fmt.Sprintf("from %d/s by %d/s every %gs up to %d/s; limits p99 %gms, unexpected answers %g%%",
			st.Start, st.Step, st.StepSeconds, st.MaxRate, st.P99MS, st.ErrorsPct)})
	}
	if s.FailIf != "" {
		rows = append(rows, [2]string{"fail if", s.FailIf})
	}
	labels := make([]string, 0, len(rep.Setup))
	for l := range rep.Setup {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		su := rep.Setup[l]
		toks := make([]string, 0, len(su.Tokens))
		for k, v := range su.Tokens {
			toks = append(toks, k+" "+itoa(v))
		}
		sort.Strings(toks)
		rows = append(rows, [2]string{"target " + l, su.URL + " (tokens: " + strings.Join(toks, ", ") + "; users " + itoa(su.Users) + ")"})
	}
	return rows
}

func streamLine(s *Summary) string {
	load := "closed loop"
	if s.Rate > 0 {
		load = "open loop at " + itoa(s.Rate) + "/s"
	}
	return fmt.Sprintf("%d requests in %.1fs, %s as expected, %.0f req/s (%.0f expected/s); %s, %d workers; p50 %s p90 %s p99 %s max %s",
		s.Requests, s.Seconds, pct(s.SuccessRatio), s.RPS, s.OKRPS, load, s.Workers,
		fmtMS(s.Latency.P50), fmtMS(s.Latency.P90), fmtMS(s.Latency.P99), fmtMS(s.Latency.Max))
}

// axis maps data values onto the plot area.
type axis struct {
	max float64
}

func (a axis) y(v float64) float64 { return plotTop + plotH - plotH*v/a.max }

// timeX maps seconds onto the plot's width, for a timeline of span seconds.
func timeX(t, span float64) float64 { return plotLeft + plotW*t/span }

// niceMax returns a round upper bound for v and the step of its ticks.
func niceMax(v float64) (top, step float64) {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1, 0.2
	}
	raw := v / chartTicks
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	return step * math.Ceil(v/step), step
}

func numLabel(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func yTicks(top, step float64, unit string) []svgTick {
	a := axis{max: top}
	var out []svgTick
	for v := 0.0; v <= top*1.0001; v += step {
		out = append(out, svgTick{Pos: a.y(v), Label: numLabel(math.Round(v*1000)/1000) + unit})
	}
	return out
}

func timeTicks(span float64) []svgTick {
	_, step := niceMax(span)
	var out []svgTick
	for t := 0.0; t <= span*1.0001; t += step {
		out = append(out, svgTick{Pos: timeX(t, span), Label: numLabel(math.Round(t*1000)/1000) + "s"})
	}
	return out
}

// timeSpan is the chart's time axis: the stream's length (to its last send),
// or one bucket for a stream that sent everything at once.
func timeSpan(tl *Timeline) float64 {
	if tl.Seconds < tl.BucketSeconds/100 {
		return tl.BucketSeconds
	}
	return tl.Seconds
}

// covered returns the seconds of bucket p that the stream lasted: the whole
// width, except for the last bucket.
func covered(tl *Timeline, span float64, p TimelinePoint) float64 {
	return math.Min(p.T+tl.BucketSeconds, span) - p.T
}

// steps renders a series as steps, one level per bucket across the part of
// it the stream covered, so one bucket still draws a line and a partial last
// bucket is as wide as it was. Buckets for which v says false are skipped.
func steps(tl *Timeline, a axis, span float64, v func(p TimelinePoint, width float64) (float64, bool)) string {
	var b strings.Builder
	for _, p := range tl.Points {
		w := covered(tl, span, p)
		if w <= 0 {
			continue
		}
		y, ok := v(p, w)
		if !ok {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f %.1f,%.1f", timeX(p.T, span), a.y(y), timeX(p.T+w, span), a.y(y))
	}
	return b.String()
}

func latencyChart(key string, tl *Timeline) svgChart {
	peak := 0.0
	for _, p := range tl.Points {
		peak = math.Max(peak, p.P99)
	}
	top, step := niceMax(peak)
	a, span := axis{max: top}, timeSpan(tl)
	// A bucket with no answers has no latency: the line jumps over it.
	q := func(f func(TimelinePoint) float64) func(TimelinePoint, float64) (float64, bool) {
		return func(p TimelinePoint, _ float64) (float64, bool) { return f(p), p.Requests > 0 }
	}
	return svgChart{
		Kind: "latency", For: key, Title: "Latency over time", YLabel: "ms", XLabel: "time",
		Series: []svgSeries{
			{Name: "p50", Class: "s1", Points: steps(tl, a, span, q(func(p TimelinePoint) float64 { return p.P50 }))},
			{Name: "p90", Class: "s2", Points: steps(tl, a, span, q(func(p TimelinePoint) float64 { return p.P90 }))},
			{Name: "p99", Class: "s3", Points: steps(tl, a, span, q(func(p TimelinePoint) float64 { return p.P99 }))},
		},
		XTicks: timeTicks(span), YTicks: yTicks(top, step, ""),
	}
}

// throughputChart draws answers and unexpected answers per second of each
// bucket (an empty bucket is a rate of 0). A last bucket covering under a
// tenth of its width is left out: a handful of answers in a few
// milliseconds is no rate worth drawing.
func throughputChart(key string, tl *Timeline) svgChart {
	span := timeSpan(tl)
	rate := func(n func(TimelinePoint) uint64) func(TimelinePoint, float64) (float64, bool) {
		return func(p TimelinePoint, w float64) (float64, bool) {
			return float64(n(p)) / w, w >= tl.BucketSeconds/10 || w >= span
		}
	}
	answers := rate(func(p TimelinePoint) uint64 { return p.Requests })
	peak := 0.0
	for _, p := range tl.Points {
		if w := covered(tl, span, p); w > 0 {
			if r, ok := answers(p, w); ok {
				peak = math.Max(peak, r)
			}
		}
	}
	top, step := niceMax(peak)
	a := axis{max: top}
	return svgChart{
		Kind: "throughput", For: key, Title: "Throughput over time", YLabel: "req/s", XLabel: "time",
		Series: []svgSeries{
			{Name: "answers/s", Class: "s1", Points: steps(tl, a, span, answers)},
			{Name: "unexpected/s", Class: "s3", Points: steps(tl, a, span, rate(func(p TimelinePoint) uint64 { return p.Errors }))},
		},
		XTicks: timeTicks(span), YTicks: yTicks(top, step, ""),
	}
}

// histogramChart draws the latency histogram on a logarithmic time axis,
// from the fastest bin with answers to the slowest.
func histogramChart(key string, tl *Timeline) svgChart {
	c := svgChart{Kind: "histogram", For: key, Title: "Latency histogram", YLabel: "answers", XLabel: "latency"}
	bins := tl.Histogram
	if len(bins) > maxHistBars {
		bins = bins[:maxHistBars]
	}
	if len(bins) == 0 {
		c.YTicks = yTicks(1, 0.2, "")
		return c
	}
	lo := math.Log10(math.Max(bins[0].LoMS, 1e-4))
	hi := math.Log10(math.Max(bins[len(bins)-1].HiMS, 1e-4))
	if hi <= lo {
		hi = lo + 1
	}
	x := func(v float64) float64 { return plotLeft + plotW*(math.Log10(math.Max(v, 1e-4))-lo)/(hi-lo) }
	var peak uint64
	for _, b := range bins {
		peak = max(peak, b.Count)
	}
	top, step := niceMax(float64(peak))
	a := axis{max: top}
	for _, b := range bins {
		x0, x1 := x(b.LoMS), x(b.HiMS)
		y := a.y(float64(b.Count))
		c.Bars = append(c.Bars, svgBar{X: x0, Y: y, W: math.Max(x1-x0-0.5, 0.5), H: plotTop + plotH - y,
			Title: fmtMS(b.LoMS) + " to " + fmtMS(b.HiMS) + ": " + strconv.FormatUint(b.Count, 10)})
	}
	for e := math.Ceil(lo); e <= hi; e++ {
		c.XTicks = append(c.XTicks, svgTick{Pos: x(math.Pow(10, e)), Label: fmtMS(math.Pow(10, e))})
	}
	c.YTicks = yTicks(top, step, "")
	return c
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"f":          func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"plotLeft":   func() int { return plotLeft },
	"plotRight":  func() int { return plotLeft + plotW },
	"plotTop":    func() int { return plotTop },
	"plotBottom": func() int { return plotTop + plotH },
	"chartW":     func() int { return chartW },
	"chartH":     func() int { return chartH },
	"legendX":    func(i int) int { return plotLeft + 8 + i*110 },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1em;margin:1em 0 .3em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.2em .6em;text-align:right;white-space:nowrap}
th{background:#f4f4f4}td:first-child,td:nth-child(2),td:last-child,th:first-child{text-align:left}
table.settings td{text-align:left;white-space:normal}
.charts{display:flex;flex-wrap:wrap;gap:.5em}
svg.chart{border:1px solid #eee;max-width:100%;height:auto}
svg .axis{stroke:#888;stroke-width:1}svg .grid{stroke:#eee;stroke-width:1}
svg text{font:11px system-ui,sans-serif;fill:#444}svg .title{font-weight:600;font-size:12px}
svg polyline{fill:none;stroke-width:1.6}
.s1{stroke:#1f77b4}.s2{stroke:#ff7f0e}.s3{stroke:#d62728}
rect.bar{fill:#1f77b4}rect.s1{fill:#1f77b4}rect.s2{fill:#ff7f0e}rect.s3{fill:#d62728}
.pass{color:#080}.fail{color:#b00;font-weight:600}.info{color:#555}
.muted{color:#666}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="muted">Run started {{.Generated}}. Latencies over time are per-bucket quantiles of a log-linear histogram (within 6 %); the table's figures are exact.</p>
<h2>Settings</h2>
<table class="settings">{{range .Settings}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
<h2>Summary</h2>
<table class="summary">{{range $i, $row := .Table}}<tr>{{range $row}}{{if eq $i 0}}<th>{{.}}</th>{{else}}<td>{{.}}</td>{{end}}{{end}}</tr>{{end}}</table>
{{range .Sections}}
<section class="result" id="{{.ID}}">
<h2>{{.Scenario}} @ {{.Target}} <span class="muted">({{.URL}}): {{.Status}}</span></h2>
{{range .Findings}}<div class="{{.Result}}">{{.Result}} {{.Check}}: {{.Detail}}</div>{{end}}
{{range .Notes}}<div class="muted">note: {{.}}</div>{{end}}
{{range .Streams}}
<h3>[{{.Name}}]</h3>
<div class="muted">{{.Line}}</div>
<div class="muted">outcomes: {{.Outcome}}</div>
<div class="charts">{{range .Charts}}
<svg class="chart" data-chart="{{.Kind}}" data-for="{{.For}}" xmlns="http://www.w3.org/2000/svg" width="{{chartW}}" height="{{chartH}}" viewBox="0 0 {{chartW}} {{chartH}}" role="img" aria-label="{{.Title}}: {{.For}}">
<text class="title" x="{{plotLeft}}" y="16">{{.Title}}</text>
{{range .YTicks}}<line class="grid" x1="{{plotLeft}}" x2="{{plotRight}}" y1="{{f .Pos}}" y2="{{f .Pos}}"/><text x="{{plotLeft}}" dx="-4" y="{{f .Pos}}" dy="4" text-anchor="end">{{.Label}}</text>{{end}}
{{range .XTicks}}<line class="grid" x1="{{f .Pos}}" x2="{{f .Pos}}" y1="{{plotTop}}" y2="{{plotBottom}}"/><text x="{{f .Pos}}" y="{{plotBottom}}" dy="14" text-anchor="middle">{{.Label}}</text>{{end}}
<line class="axis" x1="{{plotLeft}}" x2="{{plotRight}}" y1="{{plotBottom}}" y2="{{plotBottom}}"/>
<line class="axis" x1="{{plotLeft}}" x2="{{plotLeft}}" y1="{{plotTop}}" y2="{{plotBottom}}"/>
<text x="4" y="{{plotTop}}" dy="-6">{{.YLabel}}</text>
<text x="{{plotRight}}" y="{{chartH}}" dy="-4" text-anchor="end">{{.XLabel}}</text>
{{range .Bars}}<rect class="bar" x="{{f .X}}" y="{{f .Y}}" width="{{f .W}}" height="{{f .H}}"><title>{{.Title}}</title></rect>{{end}}
{{range .Series}}<polyline class="{{.Class}}" points="{{.Points}}"><title>{{.Name}}</title></polyline>{{end}}
{{range $i, $s := .Series}}<rect class="{{$s.Class}}" x="{{legendX $i}}" y="{{plotTop}}" dy="4" width="10" height="3"/><text x="{{legendX $i}}" dx="14" y="{{plotTop}}" dy="4">{{$s.Name}}</text>{{end}}
</svg>{{end}}
</div>
{{end}}
</section>
{{end}}
<script>
// Proof that the page rendered whole, for whoever checks it headless:
// how many charts were drawn and whether every one has its plot.
(function () {
  var charts = document.querySelectorAll("svg.chart");
  var drawn = 0;
  charts.forEach(function (c) {
    if (c.querySelector("polyline, rect.bar, line.axis")) { drawn++; }
  });
  document.documentElement.setAttribute("data-charts", String(charts.length));
  document.documentElement.setAttribute("data-charts-drawn", String(drawn));
})();
</script>
</body>
</html>
`))
