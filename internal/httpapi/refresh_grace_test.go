package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/httpapi"
)

func withGrace(d time.Duration) func(*harnessConfig) {
	return func(c *harnessConfig) { c.reuseGrace = d }
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"spa"}}
}

// A retried refresh (a timeout, two tabs) must not sign the person out: of
// N concurrent refreshes of one token, everyone who gets 200 holds tokens
// that work, and the family stays alive.
func TestConcurrentRefreshesAllGetWorkingTokens(t *testing.T) {
	for _, n := range []int{2, 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			h, u := userSetup(t, withGrace(2*time.Second))
			_, tok := h.exchange(codeForm(h.code("c", "spa", u.ID, "openid read", nil), "spa"))
			rt := tok["refresh_token"].(string)
			type result struct {
				status int
				body   map[string]any
			}
			results := make([]result, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					w := h.postForm(httpapi.PathToken, refreshForm(rt))
					var m map[string]any
					_ = json.Unmarshal(w.Body.Bytes(), &m)
					results[i] = result{w.Code, m}
				})
			}
			close(start)
			wg.Wait()
			ok := 0
			for i, r := range results {
				if r.status != 200 {
					t.Errorf("refresh %d: %d %v", i, r.status, r.body)
					continue
				}
				ok++
			}
			// Everyone who got 200 holds working tokens: the access token is
			// active and the refresh token refreshes (each once, in turn).
			for i, r := range results {
				if r.status != 200 {
					continue
				}
				if got := h.introspect("web", "web-secret", r.body["access_token"].(string)); got["active"] != true {
					t.Fatalf("refresh %d: access token inactive: %v", i, got)
				}
				if status, body := h.exchange(refreshForm(r.body["refresh_token"].(string))); status != 200 {
					t.Fatalf("refresh %d: its refresh token does not refresh: %d %v", i, status, body)
				}
			}
			if ok != n {
				t.Fatalf("%d of %d concurrent refreshes succeeded", ok, n)
			}
		})
	}
}

func TestRefreshReuseGrace(t *testing.T) {
	t.Run("retry within the window gets a sibling", func(t *testing.T) {
		h, u := userSetup(t, withGrace(2*time.Second))
		_, tok := h.exchange(codeForm(h.code("c", "spa", u.ID, "openid read", nil), "spa"))
		rt := tok["refresh_token"].(string)
		_, first := h.exchange(refreshForm(rt))
		h.clock.Advance(1900 * time.Millisecond)
		status, retry := h.exchange(refreshForm(rt))
		if status != 200 || retry["refresh_token"] == first["refresh_token"] {
			t.Fatalf("retry within the window: %d %v", status, retry)
		}
		for _, r := range []map[string]any{first, retry} {
			if h.introspect("web", "web-secret", r["access_token"].(string))["active"] != true {
				t.Fatal("an access token of the family is inactive")
			}
			if status, body := h.exchange(refreshForm(r["refresh_token"].(string))); status != 200 {
				t.Fatalf("a refresh token of the family is dead: %d %v", status, body)
			}
		}
	})
	t.Run("reuse after the window revokes the family", func(t *testing.T) {
		h, u := userSetup(t, withGrace(2*time.Second))
		_, tok := h.exchange(codeForm(h.code("c", "spa", u.ID, "openid read", nil), "spa"))
		rt := tok["refresh_token"].(string)
		_, next := h.exchange(refreshForm(rt))
		h.clock.Advance(2*time.Second + time.Millisecond)
		status, body := h.exchange(refreshForm(rt))
		if status != 400 || body["error"] != "invalid_grant" || !strings.Contains(body["error_description"].(string), "reuse") {
			t.Fatalf("reuse after the window: %d %v", status, body)
		}
		if h.introspect("web", "web-secret", next["access_token"].(string))["active"] != false {
			t.Fatal("the family's access token survived a replay")
		}
		status, body = h.exchange(refreshForm(next["refresh_token"].(string)))
		if status != 400 || !strings.Contains(body["error_description"].(string), "revoked") {
			t.Fatalf("successor after the replay: %d %v", status, body)
		}
	})
	t.Run("another client within the window is a theft", func(t *testing.T) {
		h, u := userSetup(t, withGrace(2*time.Second))
		_, tok := h.exchange(codeForm(h.code("c", "spa", u.ID, "openid read", nil), "spa"))
		rt := tok["refresh_token"].(string)
		_, next := h.exchange(refreshForm(rt))
		status, _ := h.exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, withBasic("web", "web-secret"))
		if status != 400 {
			t.Fatalf("another client presenting a rotated token: %d", status)
		}
		if status, _ := h.exchange(refreshForm(next["refresh_token"].(string))); status != 400 {
			t.Fatal("the family survived a presentation by another client")
		}
	})
	t.Run("grace off: immediate reuse revokes", func(t *testing.T) {
		h, u := userSetup(t) // reuseGrace 0
		_, tok := h.exchange(codeForm(h.code("c", "spa", u.ID, "openid read", nil), "spa"))
		rt := tok["refresh_token"].(string)
		_, next := h.exchange(refreshForm(rt))
		if status, _ := h.exchange(refreshForm(rt)); status != 400 {
			t.Fatalf("reuse with the grace off: %d", status)
		}
		if status, _ := h.exchange(refreshForm(next["refresh_token"].(string))); status != 400 {
			t.Fatal("the family survived a reuse with the grace off")
		}
	})
}

// The refresh error says what happened: revoked is not "already used".
func TestRefreshErrorSaysWhatHappened(t *testing.T) {
	h, u := userSetup(t)
	tests := []struct {
		name    string
		setup   func() string
		want    string
		wantNot string
	}{
		{"revoked by the client (RFC 7009)", func() string {
			_, tok := h.exchange(codeForm(h.code("a", "spa", u.ID, "read", nil), "spa"))
			rt := tok["refresh_token"].(string)
			if w := h.postForm(httpapi.PathRevoke, url.Values{"token": {rt}, "client_id": {"spa"}}); w.Code != 200 {
				t.Fatalf("revoke: %d %s", w.Code, w.Body)
			}
			return rt
		}, "has been revoked", "already used"},
		{"its grant revoked by a replayed code", func() string {
			code := h.code("b", "spa", u.ID, "read", nil)
			_, tok := h.exchange(codeForm(code, "spa"))
			if status, _ := h.exchange(codeForm(code, "spa")); status != 400 {
				t.Fatal("replayed code accepted")
			}
			return tok["refresh_token"].(string)
		}, "has been revoked", "already used"},
		{"used, then its grant revoked for the reuse", func() string {
			_, tok := h.exchange(codeForm(h.code("c", "spa", u.ID, "read", nil), "spa"))
			rt := tok["refresh_token"].(string)
			h.exchange(refreshForm(rt))
			h.exchange(refreshForm(rt)) // the reuse that revokes the family
			return rt
		}, "already used, and its grant has since been revoked", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := tc.setup()
			status, body := h.exchange(refreshForm(rt))
			desc, _ := body["error_description"].(string)
			if status != 400 || body["error"] != "invalid_grant" || !strings.Contains(desc, tc.want) ||
				(tc.wantNot != "" && strings.Contains(desc, tc.wantNot)) {
				t.Fatalf("got %d %v, want invalid_grant saying %q", status, body, tc.want)
			}
		})
	}
}
