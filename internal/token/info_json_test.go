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
		{Active: true, Sub: "u", Act: &Actor{Sub: "c"}},
		{Active: true, Sub: "u", Act: &Actor{Sub: "c\"", Iss: "https://i", Act: &Actor{Sub: "b", Act: &Actor{Sub: "", Iss: "x"}}}},
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

// FuzzInfoAppendJSONAct: the act chain (RFC 8693 §4.1) is encoded as
// encoding/json would, whatever its strings.
func FuzzInfoAppendJSONAct(f *testing.F) {
	f.Add("user", "actor", "https://iss", "first")
	f.Fuzz(func(t *testing.T, sub, actor, iss, first string) {
		info := &Info{Active: true, Sub: sub, Act: &Actor{Sub: actor, Iss: iss, Act: &Actor{Sub: first}}}
		want, _ := json.Marshal(info)
		if got := info.AppendJSON(nil); string(got) != string(want) {
			t.Fatalf("AppendJSON = %q, want %q", got, want)
		}
	})
}
