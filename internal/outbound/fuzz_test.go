package outbound

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseKeySet: whatever a jwks_uri serves, parsing never panics and
// never yields anything but public keys.
func FuzzParseKeySet(f *testing.F) {
	ed, ec := newEd25519(f, "ed"), newEC(f, "ec")
	for _, s := range []string{
		jwkSet(ed.pub, ec.pub), jwkSet(ec.private), `{"keys":[]}`, `{"keys":null}`, `{"keys":[{"kty":"oct","k":"AA"}]}`,
		`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`, `{"keys":[{"kty":"OKP","crv":"X25519","x":"AA"}]}`, `[]`, `nul`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		set, err := parseKeySet(&Document{Body: body})
		if err != nil {
			return
		}
		for _, k := range set.all {
			if !k.IsPublic() || !k.Valid() {
				t.Fatalf("key %q is not a valid public key", k.KeyID)
			}
			out, err := json.Marshal(k)
			if err != nil {
				t.Fatalf("a parsed key does not marshal: %v", err)
			}
			if bytes.Contains(out, []byte(`"d":`)) || bytes.Contains(out, []byte(`"k":`)) {
				t.Fatalf("private material in %s", out)
			}
		}
		for kid, keys := range set.byKid {
			for _, k := range keys {
				if k.KeyID != kid {
					t.Fatalf("key %q indexed under %q", k.KeyID, kid)
				}
			}
		}
	})
}
