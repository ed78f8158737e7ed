package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Credential stuffing: an attacker replays a list of usernames against
// common passwords, through the password grant (RFC 6749 §4.3) and the
// browser login form, with a few genuinely leaked pairs mixed in (which is
// what makes stuffing work in the wild). Each attempt's URL carries a tag
// (?lt=guess or ?lt=leaked, ignored by the server) so answers can be told
// apart. Legitimate client_credentials traffic runs beside it, and one real
// user keeps logging in, to show what the attack costs everyone else.

// csrfField matches the login form's CSRF token field.
var csrfField = regexp.MustCompile(`name="csrf_token"\s+value="([^"]*)"`)

// loginForm is what an attacker's browser needs to post the login form.
type loginForm struct {
	csrf   string
	cookie string // Cookie header value
}

// fetchLoginForm GETs the login page and keeps its CSRF token and cookies,
// which a real attacker would reuse for every attempt.
func (e *env) fetchLoginForm(ctx context.Context) (*loginForm, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+pathLogin, nil)
	if err != nil {
		return nil, err.Error()
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		return nil, fmt.Sprintf("GET %s: %v", pathLogin, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	if err != nil {
		return nil, fmt.Sprintf("GET %s: %v", pathLogin, err)
	}
	if why, ok := unsupportedAnswer(resp.StatusCode, body); ok {
		return nil, fmt.Sprintf("GET %s %s", pathLogin, why)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Sprintf("GET %s answered %d", pathLogin, resp.StatusCode)
	}
	m := csrfField.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Sprintf("GET %s: the page has no csrf_token field", pathLogin)
	}
	var cookies []string
	for _, c := range resp.Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	return &loginForm{csrf: html.UnescapeString(string(m[1])), cookie: strings.Join(cookies, "; ")}, ""
}

// stuffingList generates attempts: a password spray (every username with the
// first password, then the second, …) with every leakedEvery-th attempt a
// real pair. Channels alternate when both are enabled. Safe for concurrent use.
type stuffingList struct {
	usernames   []string
	passwords   []string
	leaked      []User
	leakedEvery int
	grant       *vegeta.Target // template: URL and headers; nil when disabled
	form        *vegeta.Target
	formCSRF    string
	// tag, if set, replaces "guess" (the real user's stream is "real").
	tag string
	n   atomic.Uint64
}

func (s *stuffingList) targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		i := s.n.Add(1) - 1
		var user, pw, tag string
		if s.leakedEvery > 0 && len(s.leaked) > 0 && i%uint64(s.leakedEvery) == uint64(s.leakedEvery-1) {
			u := s.leaked[(i/uint64(s.leakedEvery))%uint64(len(s.leaked))]
			user, pw, tag = u.Username, u.Password, "leaked"
		} else {
			g := i // the guess's own index: attempts minus the leaked ones before it
			if s.leakedEvery > 0 && len(s.leaked) > 0 {
				g -= (i + 1) / uint64(s.leakedEvery)
			}
			nu := uint64(len(s.usernames))
			user = s.usernames[g%nu]
			pw = s.passwords[(g/nu)%uint64(len(s.passwords))]
			tag = "guess"
			if s.tag != "" {
				tag = s.tag
			}
		}
		tmpl := s.grant
		if tmpl == nil || (s.form != nil && useForm(i)) {
			tmpl = s.form
		}
		v := url.Values{"username": {user}, "password": {pw}}
		if tmpl == s.grant {
			v.Set("grant_type", "password")
		} else {
			v.Set("csrf_token", s.formCSRF)
		}
		*t = vegeta.Target{Method: http.MethodPost, URL: tmpl.URL + "?lt=" + tag, Body: []byte(v.Encode()), Header: tmpl.Header}
		return nil
	}
}

// useForm picks the channel of attempt i when both are enabled: half the
// attempts each, by a bit of a multiplicative hash, so the choice does not
// line up with the every-Nth leaked attempt.
func useForm(i uint64) bool { return (i*0x9E3779B97F4A7C15)>>63 == 1 }

// stuffingOutcome names an answer to an attempt: channel/tag/what, e.g.
// "grant/guess/refused-400" or "form/leaked/got-through". Anything but a
// server fault is an expected answer to an attack.
func stuffingOutcome(r *vegeta.Result) (string, bool) {
	channel := "grant"
	if strings.Contains(r.URL, pathLogin) {
		channel = "form"
	}
	tag := "guess"
	if i := strings.LastIndex(r.URL, "lt="); i >= 0 {
		tag = r.URL[i+3:]
	}
	var what string
	ok := true
	switch c := int(r.Code); {
	case c == http.StatusOK, c == http.StatusFound, c == http.StatusSeeOther:
		what = "got-through"
	case c == http.StatusBadRequest, c == http.StatusUnauthorized:
		what = fmt.Sprintf("refused-%d", c)
	case c == http.StatusForbidden:
		what = "csrf-refused-403"
	case c == http.StatusTooManyRequests:
		what = "throttled-429"
	case c == http.StatusServiceUnavailable:
		what = "busy-503"
	default:
		what, ok = statusOutcome(r), false
	}
	return channel + "/" + tag + "/" + what, ok
}

func runStuffing(ctx context.Context, e *env) *ScenarioResult {
	const name = "stuffing"
	if why, ok := e.fx.Unsupported[featureUsers]; ok {
		return e.unsupportedResult(name, "users: %s", why)
	}
	if len(e.fx.Users) < 2 {
		return e.unsupportedResult(name, "setup created %d users; stuffing needs at least 2 (see setup notes, and --users)", len(e.fx.Users))
	}
	passwords, err := loadPasswords(e.o.passwordsFile)
	if err != nil {
		r := e.result(name)
		r.Status = statusFailed
		r.note("--passwords: %v", err)
		return r
	}
	res := e.result(name)
	legitUser, victims := e.fx.Users[0], e.fx.Users[1:]
	list := &stuffingList{passwords: passwords, leakedEvery: e.o.leakedEvery, leaked: victims}
	for _, u := range victims {
		list.usernames = append(list.usernames, u.Username)
	}
	for i := range e.o.fakeUsers {
		list.usernames = append(list.usernames, fmt.Sprintf("lt-%s-ghost-%05d", e.fx.RunID, i))
	}

	// The password grant.
	var grantWhy string
	if e.o.via != "form" {
		c, ok := e.fx.client(rolePassword)
		switch {
		case !ok && e.fx.Unsupported[featurePasswordGrant] != "":
			grantWhy = e.fx.Unsupported[featurePasswordGrant]
		case !ok:
			grantWhy = "setup has no password-grant client"
		default:
			t := postForm(e.base+pathToken, basicAuth(c), nil)
			probe := t
			probe.Body = []byte(url.Values{"grant_type": {"password"}, "username": {list.usernames[len(list.usernames)-1]}, "password": {"loadtest-probe"}}.Encode())
			if r := e.preflight(ctx, name, probe); r != nil {
				grantWhy = strings.Join(r.Notes, "; ")
			} else {
				list.grant = &t
			}
		}
		if grantWhy != "" {
			res.note("password grant: %s", grantWhy)
		}
	}
	// The login form.
	if e.o.via != "grant" {
		lf, why := e.fetchLoginForm(ctx)
		if lf == nil {
			res.note("login form: %s", why)
		} else {
			t := postForm(e.base+pathLogin, "", nil)
			if lf.cookie != "" {
				t.Header.Set("Cookie", lf.cookie)
			}
			list.form, list.formCSRF = &t, lf.csrf
		}
	}
	if list.grant == nil && list.form == nil {
		res.Status = statusUnsupported
		return res
	}

	calm := calmDuration(e.settings.Duration)
	var legitCalm, legitUnder *Summary
	if p, ok := e.legitTokenPlan("legit-calm", calm); ok {
		e.logf("stuffing: legitimate traffic alone for %s", calm)
		legitCalm = e.runPlan(ctx, p)
	}
	e.logf("stuffing for %s (rate %s, %d workers): %d usernames × %d passwords, 1 in %d attempts a leaked pair",
		e.settings.Duration, rateString(e.settings.Rate), e.settings.Workers, len(list.usernames), len(passwords), e.o.leakedEvery)
	plans := []plan{{name: "attack", settings: e.settings, targeter: list.targeter(), classify: stuffingOutcome, source: attackSource}}
	if p, ok := e.legitTokenPlan("legit-under-attack", e.settings.Duration); ok {
		plans = append(plans, p)
	}
	loginTmpl := list.grant
	if loginTmpl == nil {
		loginTmpl = list.form
	}
	realLogin := &stuffingList{usernames: []string{legitUser.Username}, passwords: []string{legitUser.Password}, tag: "real"}
	if loginTmpl == list.grant {
		realLogin.grant = loginTmpl
	} else {
		realLogin.form, realLogin.formCSRF = loginTmpl, list.formCSRF
	}
	plans = append(plans, plan{name: "legit-user-login", settings: e.legitSettings(1, e.settings.Duration),
		targeter: realLogin.targeter(), classify: stuffingOutcome})
	streams := e.runConcurrently(ctx, plans...)
	res.Streams = append(res.Streams, streams[0])
	if legitCalm != nil {
		res.Streams = append(res.Streams, legitCalm)
	}
	res.Streams = append(res.Streams, streams[1:]...)
	if len(streams) == 3 {
		legitUnder = streams[1]
	}
	stuffingFindings(res, streams[0], streams[len(streams)-1])
	compareLegit(res, legitCalm, legitUnder)
	return res
}

// stuffingFindings sums the attack's outcomes into verdicts.
func stuffingFindings(res *ScenarioResult, atk, login *Summary) {
	var guessThrough, leakedSent, leakedThrough, refused, throttled, busy, faults uint64
	for k, n := range atk.Outcomes {
		parts := strings.SplitN(k, "/", 3)
		if len(parts) != 3 {
			continue
		}
		tag, what := parts[1], parts[2]
		if tag == "leaked" {
			leakedSent += n
		}
		switch {
		case what == "got-through" && tag == "guess":
			guessThrough += n
		case what == "got-through":
			leakedThrough += n
		case strings.HasPrefix(what, "refused-"), strings.HasPrefix(what, "csrf-refused"):
			refused += n
		case what == "throttled-429":
			throttled += n
		case what == "busy-503":
			busy += n
		default:
			faults += n
		}
	}
	res.info("attempts", "%d attempts: %d got through, %d refused (400/401/403), %d throttled (429), %d shed as busy (503), %d other",
		atk.Requests, guessThrough+leakedThrough, refused, throttled, busy, faults)
	res.find("guessed passwords", guessThrough == 0,
		"%d logins succeeded with a common password (every user's password is random: must be 0)", guessThrough)
	res.info("leaked pairs", "%d of %d attempts with a real leaked username and password got through", leakedThrough, leakedSent)
	res.find("server faults", faults == 0, "%d answers were 5xx other than 503, or no answer", faults)
	var ok uint64
	for k, n := range login.Outcomes {
		if strings.HasSuffix(k, "/got-through") {
			ok += n
		}
	}
	res.info("real user", "a real user logging in once a second during the attack succeeded %d of %d times (p50 %s, p99 %s)",
		ok, login.Requests, fmtMS(login.Latency.P50), fmtMS(login.Latency.P99))
}
