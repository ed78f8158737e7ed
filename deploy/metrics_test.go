package deploy_test

import (
	"bufio"
	"fmt"
	"sort"
	"strings"
)

// exposition is what one scrape of /metrics held: for every sample name
// (histograms as _bucket, _sum and _count), the labels its series carry and
// the values each label took.
type exposition map[string]map[string]map[string]bool

// parseExposition reads the Prometheus text format.
func parseExposition(text string) (exposition, error) {
	exp := exposition{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		end := strings.IndexAny(line, "{ ")
		if end <= 0 {
			return nil, fmt.Errorf("line %d: no sample name in %q", n, line)
		}
		name := line[:end]
		labels := exp[name]
		if labels == nil {
			labels = map[string]map[string]bool{}
			exp[name] = labels
		}
		if line[end] != '{' {
			continue
		}
		rest := line[end+1:]
		for {
			rest = strings.TrimLeft(rest, ", ")
			if strings.HasPrefix(rest, "}") {
				break
			}
			eq := strings.Index(rest, `="`)
			if eq <= 0 {
				return nil, fmt.Errorf("line %d: malformed labels in %q", n, line)
			}
			label := rest[:eq]
			rest = rest[eq+2:]
			var v strings.Builder
			i := 0
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
					if rest[i] == 'n' {
						v.WriteByte('\n')
						continue
					}
				}
				v.WriteByte(rest[i])
			}
			if i == len(rest) {
				return nil, fmt.Errorf("line %d: unterminated label value in %q", n, line)
			}
			if labels[label] == nil {
				labels[label] = map[string]bool{}
			}
			labels[label][v.String()] = true
			rest = rest[i+1:]
		}
	}
	return exp, sc.Err()
}

// shape is a deployment shape: some series and label values exist in one only.
type shape string

const (
	embedded  shape = "embedded (SQLite, in-process cache and limits)"
	withRedis shape = "PostgreSQL + Redis"
)

// onlyIn are the series and label values (label="value") that exist in one
// shape only. In the other shape, a query may use them and find nothing. Each
// entry is checked too: present in its own shape, absent from the other.
var onlyIn = map[string]shape{
	"authd_cache_redis_up":            withRedis,
	"authd_ratelimit_fallback_total":  withRedis,
	"authd_store_breaker_trips_total": withRedis, // PostgreSQL only; the shape runs both
	`tier="memory"`:                   embedded,
	`tier="l1"`:                       withRedis,
	`tier="redis"`:                    withRedis,
	`tier="tiered"`:                   withRedis,
	`limiter="memory"`:                embedded,
	`limiter="redis"`:                 withRedis,
	`limiter="local"`:                 withRedis,
}

// scrapeSeries are the series Prometheus records for every target it scrapes,
// with their labels.
var scrapeSeries = map[string][]string{"up": {"job", "instance"}}

// targetLabels are attached by Prometheus to every series it scrapes.
var targetLabels = set("job", "instance")

// valueChecked are the labels whose values are authd's own vocabulary (route
// patterns, tiers, limiters …): a query matching one of them exactly must
// name a value authd exports. Status codes, job and instance are not in it:
// they depend on traffic and on Prometheus.
var valueChecked = set("listener", "route", "tier", "kind", "limiter", "result", "type")

// matchedValues are the exact values a matcher names: its value for =, each
// alternative of a regular expression that is only literal alternatives
// (type=~"refresh.reused|code.reused", where a dot in an event type is
// matched as any character, itself included). Other matchers name none.
func matchedValues(op, value string) []string {
	switch op {
	case "=":
		return []string{value}
	case "=~":
		alts := strings.Split(value, "|")
		for _, a := range alts {
			if a == "" || strings.ContainsAny(a, `*+?()[]{}^\`) {
				return nil
			}
		}
		return alts
	}
	return nil
}

// checkQueries returns what the queries use that exp (a scrape of authd in
// shape sh) does not have.
func checkQueries(qs []query, exp exposition, sh shape) []string {
	var problems []string
	report := func(q query, format string, args ...any) {
		problems = append(problems, q.where+": "+fmt.Sprintf(format, args...))
	}
	tolerated := func(key string) bool {
		s, ok := onlyIn[key]
		return ok && s != sh
	}
	labelsOf := func(metric string) (map[string]bool, bool) {
		if ls, ok := scrapeSeries[metric]; ok {
			return set(ls...), true
		}
		series, ok := exp[metric]
		if !ok {
			return nil, false
		}
		have := map[string]bool{}
		for l := range series {
			have[l] = true
		}
		for l := range targetLabels {
			have[l] = true
		}
		return have, true
	}
	for _, q := range qs {
		seen := map[string]bool{} // labels of every metric q uses
		absent := false           // a series q uses is not in this shape
		for _, sel := range q.refs.selectors {
			have, ok := labelsOf(sel.metric)
			if !ok {
				if !tolerated(sel.metric) {
					report(q, "%s is not exported by authd (%s)", sel.metric, sh)
				}
				absent = true
				continue
			}
			for l := range have {
				seen[l] = true
			}
			for _, m := range sel.matchers {
				if !have[m.label] {
					report(q, "%s has no label %q", sel.metric, m.label)
					continue
				}
				if !valueChecked[m.label] || strings.Contains(m.value, "$") {
					continue
				}
				for _, v := range matchedValues(m.op, m.value) {
					key := m.label + `="` + v + `"`
					if !exp[sel.metric][m.label][v] && !tolerated(key) {
						report(q, "%s{%s}: authd exports no such value (%s); it has %s",
							sel.metric, key, sh, sortedKeys(exp[sel.metric][m.label]))
					}
				}
			}
		}
		groupsLe := false
		for _, l := range q.refs.grouping {
			groupsLe = groupsLe || l == "le"
			if !seen[l] && !absent { // an absent series' labels are checked in its shape
				report(q, "groups by %q, a label none of its series has", l)
			}
		}
		// Summing buckets without le leaves histogram_quantile nothing to read.
		if hasBucket(q) && len(q.refs.grouping) > 0 && !groupsLe {
			report(q, "aggregates histogram buckets without keeping le")
		}
	}
	// The shape allowlist must stay true, or it hides mistakes.
	for key, s := range onlyIn {
		present := false
		if label, value, ok := strings.Cut(key, `="`); ok {
			value = strings.TrimSuffix(value, `"`)
			for _, series := range exp {
				present = present || series[label][value]
			}
		} else {
			_, present = exp[key]
		}
		if s == sh && !present {
			problems = append(problems, fmt.Sprintf("onlyIn: %s should exist in %s but does not", key, sh))
		}
		if s != sh && present {
			problems = append(problems, fmt.Sprintf("onlyIn: %s is said to exist in %s only, but %s has it too", key, s, sh))
		}
	}
	return problems
}

func hasBucket(q query) bool {
	for _, s := range q.refs.selectors {
		if strings.HasSuffix(s.metric, "_bucket") {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "[" + strings.Join(keys, " ") + "]"
}
