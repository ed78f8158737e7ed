package httpapi_test

import (
	"encoding/json"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/store"
)

// TestIDTokenSid: the id_token carries the sid of the session its code was
// issued in (Back-Channel Logout §2.1), and none when the code has none.
func TestIDTokenSid(t *testing.T) {
	h, u := userSetup(t)
	tests := []struct {
		name, sid string
	}{{"with a session", "sid-abc"}, {"without", ""}}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := h.code("sid-code-"+string(rune('a'+i)), "spa", u.ID, "openid", func(c *store.AuthCode) { c.SID = tc.sid })
			status, tok := h.exchange(codeForm(code, "spa"))
			if status != 200 {
				t.Fatalf("exchange: %d %v", status, tok)
			}
			jws, err := jose.ParseSignedCompact(tok["id_token"].(string), []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256})
			if err != nil {
				t.Fatal(err)
			}
			var claims map[string]any
			if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil {
				t.Fatal(err)
			}
			got, has := claims["sid"]
			if tc.sid == "" && has || tc.sid != "" && got != tc.sid {
				t.Fatalf("sid = %v (present %v), want %q", got, has, tc.sid)
			}
		})
	}
}
