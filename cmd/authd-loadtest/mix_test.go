package main

import (
	"strings"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestParseMix(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		want    string // kind:weight,… as parsed
		wantErr string
	}{
		{name: "default", spec: defaultMix, want: "token:20,introspect:70,jwks:10"},
		{name: "spaces", spec: " token : 1 , introspect-jwt:3", want: "token:1,introspect-jwt:3"},
		{name: "every kind", spec: "token:1,token-opaque:1,introspect:1,introspect-jwt:1,introspect-batch:1,userinfo:1,jwks:1",
			want: "token:1,token-opaque:1,introspect:1,introspect-jwt:1,introspect-batch:1,userinfo:1,jwks:1"},
		{name: "empty", spec: "", wantErr: "at least one"},
		{name: "the brief's example", spec: "token:20,introspect:70,userinfo:10", want: "token:20,introspect:70,userinfo:10"},
		{name: "unknown kind", spec: "token:20,userinfo2:10", wantErr: `unknown kind "userinfo2"`},
		{name: "no weight", spec: "token", wantErr: "KIND:WEIGHT"},
		{name: "zero weight", spec: "token:0", wantErr: "from 1 to 1000"},
		{name: "negative weight", spec: "token:-1", wantErr: "from 1 to 1000"},
		{name: "weight too big", spec: "token:1001", wantErr: "from 1 to 1000"},
		{name: "fraction", spec: "token:1.5", wantErr: "whole number"},
		{name: "twice", spec: "token:1,jwks:1,token:2", wantErr: "named twice"},
		{name: "trailing comma", spec: "token:1,", wantErr: "KIND:WEIGHT"},
		{name: "too long", spec: "token:1" + strings.Repeat(" ", 600), wantErr: "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMix(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v; want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := mixSpecOf(got); s != tc.want {
				t.Fatalf("parsed %s; want %s", s, tc.want)
			}
		})
	}
}

func mixSpecOf(entries []mixEntry) string {
	parts := make([]string, len(entries))
	for i, e := range entries {
		parts[i] = e.kind.name + ":" + itoa(e.weight)
	}
	return strings.Join(parts, ",")
}

func TestMixSequence(t *testing.T) {
	tests := []struct {
		spec    string
		wantLen int
		// longest run of one kind allowed: the mix must be spread out
		maxRun int
	}{
		{"token:20,introspect:70,jwks:10", 10, 3},
		{"token:1", 1, 1},
		{"token:1,jwks:1", 2, 1},
		{"token:999,jwks:1000", 1999, 2},
		{"token:3,jwks:1", 4, 3},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			entries, err := parseMix(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			seq := mixSequence(entries)
			if len(seq) != tc.wantLen {
				t.Fatalf("cycle of %d; want %d", len(seq), tc.wantLen)
			}
			count := make([]int, len(entries))
			run, longest := 0, 0
			for i, k := range seq {
				count[k]++
				if i > 0 && seq[i-1] == k {
					run++
				} else {
					run = 1
				}
				longest = max(longest, run)
			}
			g := 0
			for _, e := range entries {
				g = gcd(g, e.weight)
			}
			for i, e := range entries {
				if count[i] != e.weight/g {
					t.Errorf("%s: %d in the cycle; want %d", e.kind.name, count[i], e.weight/g)
				}
			}
			if longest > tc.maxRun {
				t.Errorf("a run of %d of one kind; want at most %d (%v)", longest, tc.maxRun, seq)
			}
		})
	}
}

func TestMixPlanJudgesEachKindByItsRules(t *testing.T) {
	fx := newFixture("http://127.0.0.1:1", "", "")
	fx.Clients[roleJWT] = Credentials{ClientID: "c", ClientSecret: "s"}
	fx.Tokens[roleOpaque] = []string{"o1", "o2"}
	e := &env{base: "http://127.0.0.1:1", fx: fx, o: &options{batchFormat: "opaque"}}
	entries, err := parseMix("token:1,introspect:2,jwks:1")
	if err != nil {
		t.Fatal(err)
	}
	targeter, classify, firsts, err := mixPlan(e, entries)
	if err != nil {
		t.Fatal(err)
	}
	if len(firsts) != 3 {
		t.Fatalf("%d preflight targets; want one per kind", len(firsts))
	}
	kinds := map[string]int{}
	bodies := map[string]bool{}
	for range 8 {
		var tg vegeta.Target
		if err := targeter(&tg); err != nil {
			t.Fatal(err)
		}
		_, kind, _ := strings.Cut(tg.URL, "?mix=")
		kinds[kind]++
		if kind == "introspect" {
			bodies[string(tg.Body)] = true
		}
	}
	if kinds["token"] != 2 || kinds["introspect"] != 4 || kinds["jwks"] != 2 {
		t.Errorf("8 requests by kind %v; want 2, 4, 2", kinds)
	}
	if len(bodies) != 2 {
		t.Errorf("introspection bodies %v; want the pool round-robin", bodies)
	}
	tests := []struct {
		url, body string
		code      uint16
		want      string
		wantOK    bool
	}{
		{"http://127.0.0.1:1/oauth2/token?mix=token", `{"access_token":"x"}`, 200, "token/issued", true},
		{"http://127.0.0.1:1/oauth2/introspect?mix=introspect", `{"active":true}`, 200, "introspect/active", true},
		{"http://127.0.0.1:1/oauth2/introspect?mix=introspect", `{"active":false}`, 200, "introspect/inactive", false},
		{"http://127.0.0.1:1/oauth2/jwks?mix=jwks", `{"access_token":"x"}`, 200, "jwks/200-unexpected-body", false},
		{"http://127.0.0.1:1/oauth2/jwks?mix=nope", `{}`, 500, "nope/http-500", false},
	}
	for _, tc := range tests {
		got, ok := classify(&vegeta.Result{URL: tc.url, Code: tc.code, Body: []byte(tc.body)})
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("%s %d: %q %v; want %q %v", tc.url, tc.code, got, ok, tc.want, tc.wantOK)
		}
	}
	// A kind the fixture cannot serve is named, with why.
	fx.Unsupported[featureUsers] = "POST /admin/users answered 404"
	for spec, want := range map[string]string{
		"introspect-jwt:1": "introspect-jwt: setup has no jwt tokens",
		"userinfo:1":       "userinfo: setup has no user tokens (they need users and the password grant): POST /admin/users answered 404",
	} {
		entries, _ = parseMix(spec)
		if _, _, _, err := mixPlan(e, entries); err == nil || err.Error() != want {
			t.Errorf("%s: err %v; want %q", spec, err, want)
		}
	}
	// With user tokens, userinfo sends each as a bearer token and wants a sub.
	fx.Tokens[roleUser] = []string{"u1"}
	entries, _ = parseMix("userinfo:1")
	targeter, classify, _, err = mixPlan(e, entries)
	if err != nil {
		t.Fatal(err)
	}
	var tg vegeta.Target
	_ = targeter(&tg)
	if tg.Method != "GET" || tg.URL != "http://127.0.0.1:1/oauth2/userinfo?mix=userinfo" || tg.Header.Get("Authorization") != "Bearer u1" {
		t.Errorf("userinfo request %s %s %v", tg.Method, tg.URL, tg.Header)
	}
	if got, ok := classify(&vegeta.Result{URL: tg.URL, Code: 200, Body: []byte(`{"sub":"x"}`)}); got != "userinfo/userinfo" || !ok {
		t.Errorf("userinfo answer judged %q %v", got, ok)
	}
	if !mixNeedsUsers(entries) {
		t.Error("a mix with userinfo needs users")
	}
}

// FuzzParseMix: parsed or refused, never a panic; what is accepted holds
// known kinds once each with weights in bounds, and its cycle is bounded.
func FuzzParseMix(f *testing.F) {
	for _, s := range []string{defaultMix, "token:1", "token:1000,jwks:999", "token:", ":1", "token:1,token:1", "a:b:c", ","} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		entries, err := parseMix(spec)
		if err != nil {
			return
		}
		seen := map[*mixKind]bool{}
		for _, e := range entries {
			if e.kind == nil || seen[e.kind] || e.weight < 1 || e.weight > maxMixWeight {
				t.Fatalf("%q: entry %+v accepted", spec, e)
			}
			seen[e.kind] = true
		}
		if n := len(mixSequence(entries)); n < 1 || n > maxMixWeight*len(mixKinds) {
			t.Fatalf("%q: cycle of %d", spec, n)
		}
	})
}
