package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// The files whose queries must only use what authd exports.
const (
	dashboardFile = "grafana/authd.json"
	alertsFile    = "prometheus/alerts.yaml"
)

// query is one PromQL expression of a dashboard or a rule file, read.
type query struct {
	where string // file and panel or rule, for messages
	expr  string
	refs  exprRefs
}

// loadQueries reads every expression of the dashboard and the alert rules.
func loadQueries(t *testing.T) []query {
	t.Helper()
	var qs []query
	add := func(where, expr string) {
		refs, err := scanPromQL(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return
		}
		qs = append(qs, query{where: where, expr: expr, refs: refs})
	}
	dashboardQueries(t, add)
	alertQueries(t, add)
	if len(qs) == 0 {
		t.Fatal("no queries found in the dashboard or the alert rules")
	}
	return qs
}

// dashboard is the part of a Grafana dashboard this test reads.
type dashboard struct {
	Title      string  `json:"title"`
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	GridPos *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

// labelValues is Grafana's label_values(selector, label) variable query.
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)

func dashboardQueries(t *testing.T, add func(where, expr string)) {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("%s: the dashboard needs a title and a uid", dashboardFile)
	}
	ids := map[int]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			where := fmt.Sprintf("%s: panel %d %q", dashboardFile, p.ID, p.Title)
			if other, dup := ids[p.ID]; dup || p.ID == 0 {
				t.Errorf("%s: id %d is missing or also %q's", where, p.ID, other)
			}
			ids[p.ID] = p.Title
			if p.Type == "" || p.Title == "" || p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
				t.Errorf("%s: a panel needs a type, a title and a gridPos", where)
			}
			refIDs := map[string]bool{}
			for _, tg := range p.Targets {
				if tg.RefID == "" || refIDs[tg.RefID] {
					t.Errorf("%s: target refId %q is missing or repeated", where, tg.RefID)
				}
				refIDs[tg.RefID] = true
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("%s: target %s has no expr", where, tg.RefID)
					continue
				}
				add(where+" target "+tg.RefID, tg.Expr)
			}
			if (p.Type == "timeseries" || p.Type == "stat") && len(p.Targets) == 0 {
				t.Errorf("%s: no queries", where)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		where := fmt.Sprintf("%s: variable %s", dashboardFile, v.Name)
		var q string
		if err := json.Unmarshal(v.Query, &q); err != nil {
			var obj struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal(v.Query, &obj); err != nil {
				t.Errorf("%s: query is neither a string nor {query}: %v", where, err)
				continue
			}
			q = obj.Query
		}
		m := labelValues.FindStringSubmatch(strings.TrimSpace(q))
		if m == nil {
			t.Errorf("%s: %q: only label_values(selector, label) is understood here", where, q)
			continue
		}
		// The label must exist on the selected series: check it as grouping.
		add(where, fmt.Sprintf("group by (%s) (%s)", m[2], m[1]))
	}
}

// rules is a Prometheus rule file. Unknown fields are errors, so a misspelt
// "annotations" is caught here rather than silently ignored by a reader.
type rules struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Alert         string            `yaml:"alert"`
			Record        string            `yaml:"record"`
			Expr          string            `yaml:"expr"`
			For           string            `yaml:"for"`
			KeepFiringFor string            `yaml:"keep_firing_for"`
			Labels        map[string]string `yaml:"labels"`
			Annotations   map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func alertQueries(t *testing.T, add func(where, expr string)) {
	t.Helper()
	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var rf rules
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	names := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			where := fmt.Sprintf("%s: group %s rule %s", alertsFile, g.Name, r.Alert)
			switch {
			case r.Record != "":
				// Recording rules would define series authd does not export; the
				// check below would need to know them.
				t.Errorf("%s: recording rules are not expected here (%s)", where, r.Record)
				continue
			case r.Alert == "" || names[r.Alert]:
				t.Errorf("%s: an alert needs a unique name", where)
			}
			names[r.Alert] = true
			if sev := r.Labels["severity"]; sev != "critical" && sev != "warning" && sev != "info" {
				t.Errorf("%s: severity %q, want critical, warning or info", where, sev)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs a summary and a description", where)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for: %v", where, err)
				}
			}
			add(where, r.Expr)
		}
	}
}
