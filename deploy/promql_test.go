package deploy_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// A small PromQL reader: enough to name every series an expression selects, the
// label matchers on each, and the labels it groups or matches by. It is not a
// parser; it knows PromQL's tokens, its keywords and its functions, and treats
// every other identifier as a metric name, which is what PromQL does too.

// selector is one series selector: metric{label op "value", ...}.
type selector struct {
	metric   string
	matchers []matcher
}

type matcher struct {
	label, op, value string
}

// exprRefs is what one expression uses.
type exprRefs struct {
	selectors []selector
	// grouping are the labels named in by, without, on, ignoring, group_left
	// and group_right clauses.
	grouping []string
}

// aggregations are PromQL's aggregation operators: keywords, never metric
// names, whether a by/without clause or the parenthesis comes next.
var aggregations = set("sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
	"count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio")

// functions are PromQL's functions (Prometheus 3), followed by "(".
var functions = set("abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan",
	"atanh", "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh",
	"count_over_time", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "deg", "delta",
	"deriv", "double_exponential_smoothing", "exp", "floor", "histogram_avg", "histogram_count",
	"histogram_fraction", "histogram_quantile", "histogram_stddev", "histogram_stdvar", "histogram_sum",
	"holt_winters", "hour", "idelta", "increase", "info", "irate", "label_join", "label_replace",
	"last_over_time", "ln", "log10", "log2", "mad_over_time", "max_over_time", "min_over_time", "minute",
	"month", "pi", "predict_linear", "present_over_time", "quantile_over_time", "rad", "rate", "resets",
	"round", "scalar", "sgn", "sin", "sinh", "sort", "sort_by_label", "sort_by_label_desc", "sort_desc",
	"sqrt", "stddev_over_time", "stdvar_over_time", "sum_over_time", "tan", "tanh", "time", "timestamp",
	"vector", "year", "start", "end")

// groupingKeywords take a parenthesised list of label names.
var groupingKeywords = set("by", "without", "on", "ignoring", "group_left", "group_right")

// operatorKeywords are the word operators and modifiers.
var operatorKeywords = set("and", "or", "unless", "bool", "offset", "atan2", "inf", "nan")

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

type tokKind int

const (
	tIdent tokKind = iota
	tString
	tPunct // ( ) { } , and operators
)

type token struct {
	kind tokKind
	text string // a string's value without quotes
}

// lex splits expr into identifiers, strings and punctuation. Numbers,
// durations, range and subquery brackets, comments and Grafana variables
// ($name, ${name}, [[name]]) are dropped: none of them names a series.
func lex(expr string) ([]token, error) {
	var toks []token
	s := expr
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#': // a comment runs to the end of the line
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '$':
			i++
			if i < len(s) && s[i] == '{' {
				end := strings.IndexByte(s[i:], '}')
				if end < 0 {
					return nil, fmt.Errorf("unterminated ${ at %d", i)
				}
				i += end + 1
				continue
			}
			for i < len(s) && isIdentChar(s[i]) {
				i++
			}
		case c == '[': // a range, a subquery or a Grafana [[variable]]
			depth := 0
			for ; i < len(s); i++ {
				if s[i] == '[' {
					depth++
				} else if s[i] == ']' {
					if depth--; depth == 0 {
						break
					}
				}
			}
			if i == len(s) {
				return nil, fmt.Errorf("unterminated [ in %q", expr)
			}
			i++
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			var b strings.Builder
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && c != '`' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j == len(s) {
				return nil, fmt.Errorf("unterminated string in %q", expr)
			}
			toks = append(toks, token{tString, b.String()})
			i = j + 1
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			toks = append(toks, token{tIdent, s[i:j]})
			i = j
		case c >= '0' && c <= '9' || c == '.':
			for i < len(s) && (isIdentChar(s[i]) || s[i] == '.') {
				i++
			}
		default:
			if i+1 < len(s) {
				switch two := s[i : i+2]; two {
				case "=~", "!~", "!=", "==", ">=", "<=":
					toks = append(toks, token{tPunct, two})
					i += 2
					continue
				}
			}
			if !strings.ContainsRune("(){},=<>+-*/%^@", rune(c)) {
				return nil, fmt.Errorf("unexpected %q in %q", c, expr)
			}
			toks = append(toks, token{tPunct, string(c)})
			i++
		}
	}
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// scanPromQL returns the selectors and grouping labels of expr. An unknown
// function (a typo like histogramquantile) is an error, as it is to Prometheus.
func scanPromQL(expr string) (exprRefs, error) {
	toks, err := lex(expr)
	if err != nil {
		return exprRefs{}, err
	}
	var out exprRefs
	is := func(i int, punct string) bool {
		return i < len(toks) && toks[i].kind == tPunct && toks[i].text == punct
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == tIdent && groupingKeywords[t.text]:
			if !is(i+1, "(") {
				continue // group_left with no labels
			}
			j := i + 2
			for ; j < len(toks) && !is(j, ")"); j++ {
				if toks[j].kind == tIdent {
					out.grouping = append(out.grouping, toks[j].text)
				} else if !is(j, ",") {
					return exprRefs{}, fmt.Errorf("%s (...) holds %q, not a label name", t.text, toks[j].text)
				}
			}
			i = j
		case t.kind == tIdent && (operatorKeywords[t.text] || aggregations[t.text]):
		case t.kind == tIdent && is(i+1, "("):
			if !functions[t.text] {
				return exprRefs{}, fmt.Errorf("unknown function %s()", t.text)
			}
		case t.kind == tIdent:
			sel := selector{metric: t.text}
			if is(i+1, "{") {
				ms, next, err := readMatchers(toks, i+2)
				if err != nil {
					return exprRefs{}, err
				}
				sel.matchers, i = ms, next
			}
			out.selectors = append(out.selectors, sel)
		case is(i, "{"): // {__name__="x", ...}
			ms, next, err := readMatchers(toks, i+1)
			if err != nil {
				return exprRefs{}, err
			}
			sel := selector{}
			for _, m := range ms {
				if m.label == "__name__" && m.op == "=" {
					sel.metric = m.value
				} else {
					sel.matchers = append(sel.matchers, m)
				}
			}
			if sel.metric == "" {
				return exprRefs{}, fmt.Errorf("a selector without a metric name in %q", expr)
			}
			out.selectors = append(out.selectors, sel)
			i = next
		}
	}
	if len(out.selectors) == 0 {
		return exprRefs{}, fmt.Errorf("no series selected by %q", expr)
	}
	return out, nil
}

// readMatchers reads label op "value" pairs from toks[i:] up to the closing
// brace, and returns the index of that brace.
func readMatchers(toks []token, i int) ([]matcher, int, error) {
	var ms []matcher
	for ; i < len(toks); i++ {
		if toks[i].kind == tPunct && toks[i].text == "}" {
			return ms, i, nil
		}
		if toks[i].kind == tPunct && toks[i].text == "," {
			continue
		}
		if i+2 >= len(toks) || toks[i].kind != tIdent || toks[i+1].kind != tPunct || toks[i+2].kind != tString {
			return nil, 0, fmt.Errorf("malformed label matcher near %q", toks[i].text)
		}
		switch op := toks[i+1].text; op {
		case "=", "!=", "=~", "!~":
			ms = append(ms, matcher{toks[i].text, op, toks[i+2].text})
		default:
			return nil, 0, fmt.Errorf("label matcher operator %q", op)
		}
		i += 2
	}
	return nil, 0, fmt.Errorf("unterminated {")
}

func TestScanPromQL(t *testing.T) {
	tests := []struct {
		name         string
		expr         string
		wantMetrics  []string
		wantGrouping []string
		wantErr      string
	}{
		{
			name:        "bare series",
			expr:        "go_goroutines",
			wantMetrics: []string{"go_goroutines"},
		},
		{
			name:         "histogram quantile with grafana variables",
			expr:         `histogram_quantile(0.95, sum by (listener, route, le) (rate(authd_http_request_duration_seconds_bucket{job=~"$job", listener="public"}[$__rate_interval])))`,
			wantMetrics:  []string{"authd_http_request_duration_seconds_bucket"},
			wantGrouping: []string{"listener", "route", "le"},
		},
		{
			name:         "binary operation with vector matching and a trailing by",
			expr:         "sum(rate(a_total[5m])) by (job) / on (job) group_left sum(rate(b_total[1h:5m] offset 1d)) > 0.1 and c == bool 1",
			wantMetrics:  []string{"a_total", "b_total", "c"},
			wantGrouping: []string{"job", "job"},
		},
		{
			name:        "name matcher and comment",
			expr:        "{__name__=\"up\", job='authd'} # the scrape itself\n== 0",
			wantMetrics: []string{"up"},
		},
		{
			name:        "grafana braces variable and arithmetic",
			expr:        `process_resident_memory_bytes{instance=~"${instance:regex}"} > 0.9 * 1024 * 1e3`,
			wantMetrics: []string{"process_resident_memory_bytes"},
		},
		{name: "unknown function", expr: "histogramquantile(0.9, x_bucket)", wantErr: "unknown function"},
		{name: "no series", expr: "vector(1)", wantErr: "no series"},
		{name: "malformed matcher", expr: `x{job=}`, wantErr: "malformed"},
		{name: "unterminated string", expr: `x{job="a}`, wantErr: "unterminated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scanPromQL(tc.expr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var metrics []string
			for _, s := range got.selectors {
				metrics = append(metrics, s.metric)
			}
			if !reflect.DeepEqual(metrics, tc.wantMetrics) {
				t.Errorf("metrics = %q, want %q", metrics, tc.wantMetrics)
			}
			if !reflect.DeepEqual(got.grouping, tc.wantGrouping) {
				t.Errorf("grouping = %q, want %q", got.grouping, tc.wantGrouping)
			}
		})
	}
}
