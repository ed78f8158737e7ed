package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestClassifiers(t *testing.T) {
	tests := []struct {
		name     string
		classify classifier
		res      vegeta.Result
		want     string
		wantOK   bool
	}{
		{"introspect active", introspectActive, vegeta.Result{Code: 200, Body: []byte(`{"active":true,"scope":"read"}`)}, "active", true},
		{"introspect inactive", introspectActive, vegeta.Result{Code: 200, Body: []byte(`{"active":false}`)}, "inactive", false},
		{"introspect odd body", introspectActive, vegeta.Result{Code: 200, Body: []byte(`<html>`)}, "200-unexpected-body", false},
		{"introspect 429", introspectActive, vegeta.Result{Code: 429}, "throttled-429", false},
		{"introspect no answer", introspectActive, vegeta.Result{Error: "connection refused"}, "transport-error", false},
		{"token issued", expect200(`"access_token"`, "issued"), vegeta.Result{Code: 200, Body: []byte(`{"access_token":"x"}`)}, "issued", true},
		{"token 503", expect200(`"access_token"`, "issued"), vegeta.Result{Code: 503}, "unavailable-503", false},
		{"enum inactive", enumerationOutcome, vegeta.Result{Code: 200, Body: []byte(`{"active":false}`)}, "inactive", true},
		{"enum batch with one active", enumerationOutcome, vegeta.Result{Code: 200, Body: []byte(`{"results":[{"active":false},{"active":true}]}`)}, "ACTIVE", false},
		{"enum throttled", enumerationOutcome, vegeta.Result{Code: 429}, "throttled-429", true},
		{"enum client refused", enumerationOutcome, vegeta.Result{Code: 401}, "http-401", true},
		{"enum 500", enumerationOutcome, vegeta.Result{Code: 500}, "http-500", false},
		{"stuffing grant refused", stuffingOutcome, vegeta.Result{Code: 400, URL: "http://127.0.0.1/oauth2/token?lt=guess"}, "grant/guess/refused-400", true},
		{"stuffing form leaked through", stuffingOutcome, vegeta.Result{Code: 200, URL: "http://127.0.0.1/login?lt=leaked"}, "form/leaked/got-through", true},
		{"stuffing form redirect", stuffingOutcome, vegeta.Result{Code: 303, URL: "http://127.0.0.1/login?lt=real"}, "form/real/got-through", true},
		{"stuffing csrf", stuffingOutcome, vegeta.Result{Code: 403, URL: "http://127.0.0.1/login?lt=guess"}, "form/guess/csrf-refused-403", true},
		{"stuffing throttled", stuffingOutcome, vegeta.Result{Code: 429, URL: "http://127.0.0.1/oauth2/token?lt=guess"}, "grant/guess/throttled-429", true},
		{"stuffing busy", stuffingOutcome, vegeta.Result{Code: 503, URL: "http://127.0.0.1/oauth2/token?lt=guess"}, "grant/guess/busy-503", true},
		{"stuffing fault", stuffingOutcome, vegeta.Result{Code: 500, URL: "http://127.0.0.1/oauth2/token?lt=guess"}, "grant/guess/http-500", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.classify(&tc.res)
			if got != tc.want || ok != tc.wantOK {
				t.Fatalf("= %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestFloodClassifier(t *testing.T) {
	kinds := junkKinds("http://127.0.0.1:1", Credentials{ClientID: "c", ClientSecret: "s"})
	classify := floodClassifier(kinds)
	tests := []struct {
		url    string
		code   uint16
		want   string
		wantOK bool
	}{
		{"?junk=wrong-secret", 401, "wrong-secret/401", true},
		{"?junk=wrong-secret", 200, "wrong-secret/200", false},
		{"?junk=wrong-secret", 429, "wrong-secret/429", true},
		{"?junk=wrong-secret", 500, "wrong-secret/500", false},
		{"?junk=oversized-form", 413, "oversized-form/413", true},
		{"?junk=oversized-form", 0, "oversized-form/closed", true},
		{"?junk=wrong-secret", 0, "wrong-secret/closed", false},
		{"?junk=wrong-method", 404, "wrong-method/404", false},
		{"?junk=no-such-kind", 400, "no-such-kind/400", false},
	}
	for _, tc := range tests {
		got, ok := classify(&vegeta.Result{URL: "http://127.0.0.1:1/x" + tc.url, Code: tc.code})
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("%s %d: %q, %v; want %q, %v", tc.url, tc.code, got, ok, tc.want, tc.wantOK)
		}
	}
	seen := map[string]bool{}
	for _, k := range tagged(kinds) {
		kind := k.URL[strings.LastIndex(k.URL, "junk=")+5:]
		if seen[kind] {
			t.Errorf("kind %s twice", kind)
		}
		seen[kind] = true
	}
}

func TestStuffingListSpraysAndLeaks(t *testing.T) {
	grant := postForm("http://127.0.0.1:1"+pathToken, "Basic x", nil)
	form := postForm("http://127.0.0.1:1"+pathLogin, "", nil)
	l := &stuffingList{
		usernames:   []string{"u1", "u2", "u3"},
		passwords:   []string{"p1", "p2"},
		leaked:      []User{{Username: "real", Password: "secret"}},
		leakedEvery: 4,
		grant:       &grant,
		form:        &form,
		formCSRF:    "tok",
	}
	tr := l.targeter()
	var leaked, viaForm, viaGrant int
	var order []string
	for i := range 400 {
		var tg vegeta.Target
		if err := tr(&tg); err != nil {
			t.Fatal(err)
		}
		v, err := url.ParseQuery(string(tg.Body))
		if err != nil {
			t.Fatal(err)
		}
		isForm := strings.Contains(tg.URL, pathLogin)
		switch {
		case isForm && (v.Get("csrf_token") != "tok" || v.Has("grant_type")):
			t.Fatalf("form attempt %v", v)
		case !isForm && v.Get("grant_type") != "password":
			t.Fatalf("grant attempt %v", v)
		}
		if isForm {
			viaForm++
		} else {
			viaGrant++
		}
		if strings.HasSuffix(tg.URL, "lt=leaked") {
			leaked++
			if v.Get("username") != "real" || v.Get("password") != "secret" || i%4 != 3 {
				t.Fatalf("attempt %d leaked %v", i, v)
			}
			continue
		}
		if i < 8 {
			order = append(order, v.Get("username")+":"+v.Get("password"))
		}
	}
	if leaked != 100 {
		t.Errorf("%d leaked attempts of 400; want 100", leaked)
	}
	if viaForm < 150 || viaGrant < 150 {
		t.Errorf("form %d, grant %d: want about half each", viaForm, viaGrant)
	}
	// A spray: every username with the first password before the second.
	if got := strings.Join(order, " "); got != "u1:p1 u2:p1 u3:p1 u1:p2 u2:p2 u3:p2" {
		t.Errorf("first attempts %q", got)
	}
}

func TestStuffingLeakedPairsUseBothChannels(t *testing.T) {
	grant := postForm("http://127.0.0.1:1"+pathToken, "", nil)
	form := postForm("http://127.0.0.1:1"+pathLogin, "", nil)
	l := &stuffingList{usernames: []string{"u"}, passwords: []string{"p"}, leaked: []User{{"r", "s"}}, leakedEvery: 50, grant: &grant, form: &form}
	tr := l.targeter()
	channels := map[bool]int{}
	for range 5000 {
		var tg vegeta.Target
		_ = tr(&tg)
		if strings.HasSuffix(tg.URL, "lt=leaked") {
			channels[strings.Contains(tg.URL, pathLogin)]++
		}
	}
	if channels[true] == 0 || channels[false] == 0 {
		t.Fatalf("leaked attempts by channel (form=true): %v; want both", channels)
	}
}

func TestBatchBodies(t *testing.T) {
	tests := []struct {
		name      string
		pool      int
		wantCount int
	}{
		{"smaller than a batch", 7, 1},
		{"one batch", 100, 1},
		{"not a multiple", 250, 2},
		{"many", 1000, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pool := make([]string, tc.pool)
			for i := range pool {
				pool[i] = "t" + itoa(i)
			}
			bodies := batchBodies(pool)
			if len(bodies) != tc.wantCount {
				t.Fatalf("%d bodies; want %d", len(bodies), tc.wantCount)
			}
			seen := map[string]bool{}
			for _, b := range bodies {
				var req struct{ Tokens []string }
				if err := json.Unmarshal(b, &req); err != nil || len(req.Tokens) != batchSize {
					t.Fatalf("body %s (%v)", b, err)
				}
				for _, tok := range req.Tokens {
					seen[tok] = true
				}
			}
			if want := min(tc.pool, tc.wantCount*batchSize); len(seen) != want {
				t.Errorf("%d distinct tokens used; want %d", len(seen), want)
			}
		})
	}
}

func TestBatchPoolMixed(t *testing.T) {
	fx := &Fixture{Tokens: map[string][]string{roleOpaque: {"o1", "o2", "o3"}, roleJWT: {"j1"}}}
	if got := strings.Join(batchPool(fx, "mixed"), ","); got != "o1,j1,o2,o3" {
		t.Fatalf("mixed pool %s", got)
	}
	if got := strings.Join(batchPool(fx, "jwt"), ","); got != "j1" {
		t.Fatalf("jwt pool %s", got)
	}
}

func TestUnsupportedAnswer(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   bool
	}{
		{http.StatusNotFound, `{"error":"not_found"}`, true},
		{http.StatusMethodNotAllowed, ``, true},
		{http.StatusBadRequest, `{"error":"unsupported_grant_type","error_description":"grant_type \"password\" is not supported"}`, true},
		{http.StatusBadRequest, `{"error":"unauthorized_client"}`, true},
		{http.StatusBadRequest, `{"error":"invalid_grant"}`, false},
		{http.StatusUnauthorized, `{"error":"invalid_client"}`, false},
		{http.StatusOK, `{}`, false},
	}
	for _, tc := range tests {
		if why, got := unsupportedAnswer(tc.status, []byte(tc.body)); got != tc.want {
			t.Errorf("unsupportedAnswer(%d, %s) = %q, %v; want %v", tc.status, tc.body, why, got, tc.want)
		}
	}
}

func TestCalmDuration(t *testing.T) {
	for in, want := range map[string]string{"1s": "1s", "4s": "2s", "20s": "5s", "5m0s": "10s"} {
		d := mustDuration(t, in)
		if got := calmDuration(d).String(); got != want {
			t.Errorf("calmDuration(%s) = %s; want %s", in, got, want)
		}
	}
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
