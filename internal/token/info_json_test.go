package token

import (
	"encoding/json"
	"testing"
)

// The hand-written encoder must say exactly what encoding/json would.
func TestInfoAppendJSONMatchesEncodingJSON(t *testing.T) {
	tests := []*Info{
		{},
		{Active: true},
		{Active: true, Scope: "read write", ClientID: "c", TokenType: "Bearer", Exp: 2, Iat: 1, Nbf: 1, Sub: "s", Aud: audience{"https://a"}, Iss: "https://i", Jti: "j"},
		{Active: true, Aud: audience{"a", "b"}, Sub: "quote\" back\\ nl\n tab\t ctl\x01 lt< amp& uni ü \u2028 bad\xff"},
		{Active: true, Username: "alice", Exp: -5},
	}
	for _, info := range tests {
		want, err := json.Marshal(info)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON = %s\nwant          %s", got, want)
		}
		info.render()
		if got := info.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("rendered = %s\nwant       %s", got, want)
		}
	}
}

func FuzzInfoAppendJSON(f *testing.F) {
	f.Add("s", "scope", "aud", int64(1))
	f.Fuzz(func(t *testing.T, sub, scope, aud string, exp int64) {
		info := &Info{Active: true, Sub: sub, Scope: scope, Aud: audience{aud}, Exp: exp}
		want, _ := json.Marshal(info)
		if got := info.AppendJSON(nil); string(got) != string(want) {
			t.Fatalf("AppendJSON = %q, want %q", got, want)
		}
	})
}
