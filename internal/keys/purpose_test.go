package keys_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/testenv/clocktest"
)

func purposeManager(t *testing.T, db keys.KeyStore, clk *clocktest.Clock, prepublish time.Duration, ps ...keys.Purpose) *keys.Manager {
	t.Helper()
	sealer, _ := keys.NewSealer(bytes.Repeat([]byte{1}, 32))
	m, err := keys.NewManager(db, sealer, keys.Options{Purposes: ps, Retain: time.Hour, Prepublish: prepublish, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// Each purpose has keys of its own, even on one algorithm, and a token
// verifies only for the purpose whose key signed it.
func TestPurposesKeepKeysApart(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(time.Now())
	m := purposeManager(t, openDB(t), clk, 0,
		keys.Purpose{Name: keys.PurposeAccess, Algorithm: keys.RS256},
		keys.Purpose{Name: keys.PurposeIDToken, Algorithm: keys.RS256})
	acc, idt := m.CurrentKeyID(keys.PurposeAccess), m.CurrentKeyID(keys.PurposeIDToken)
	if acc == "" || idt == "" || acc == idt {
		t.Fatalf("access key %q, id_token key %q: want two keys", acc, idt)
	}
	at, err := m.Sign(keys.PurposeAccess, "at+jwt", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	it, err := m.Sign(keys.PurposeIDToken, "at+jwt", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, tok, purpose string
		want               error
	}{
		{"access key, access purpose", at, keys.PurposeAccess, nil},
		{"id_token key, id_token purpose", it, keys.PurposeIDToken, nil},
		{"id_token key as an access token", it, keys.PurposeAccess, keys.ErrUnknownKey},
		{"access key as an id_token", at, keys.PurposeIDToken, keys.ErrUnknownKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.VerifyFor(ctx, tc.tok, "at+jwt", tc.purpose); !errors.Is(err, tc.want) {
				t.Fatalf("VerifyFor = %v, want %v", err, tc.want)
			}
		})
	}
	// Rotating one purpose leaves the other's key current. (Time moves on:
	// keys created in the same instant are ordered by kid, not by age.)
	clk.Advance(time.Second)
	if _, err := m.RotateNow(ctx, keys.PurposeAccess); err != nil {
		t.Fatal(err)
	}
	if m.CurrentKeyID(keys.PurposeAccess) == acc || m.CurrentKeyID(keys.PurposeIDToken) != idt {
		t.Fatal("rotating the access key must replace only it")
	}
}

// A deployment from before purposes has one unnamed key per algorithm. After
// the upgrade that key keeps signing (and verifying) for every purpose of its
// algorithm until the purposes' own keys, published first, take over.
func TestUpgradeFromUnnamedKeys(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	clk := clocktest.New(time.Now())
	old := newManager(t, db, clk, 1, keys.ES256)
	if err := old.Load(ctx); err != nil {
		t.Fatal(err)
	}
	legacy := old.CurrentKeyID(keys.ES256)
	before, err := old.Sign("", "at+jwt", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}

	m := purposeManager(t, db, clk, 10*time.Minute,
		keys.Purpose{Name: keys.PurposeAccess, Algorithm: keys.ES256},
		keys.Purpose{Name: keys.PurposeIDToken, Algorithm: keys.ES256})
	for _, p := range []string{keys.PurposeAccess, keys.PurposeIDToken} {
		if got := m.CurrentKeyID(p); got != legacy {
			t.Fatalf("%s signs with %q during pre-publication, want the old key %q", p, got, legacy)
		}
		if _, err := m.VerifyFor(ctx, before, "at+jwt", p); err != nil {
			t.Fatalf("token of the old key for %s: %v", p, err)
		}
	}
	clk.Advance(10*time.Minute + time.Second)
	acc, idt := m.CurrentKeyID(keys.PurposeAccess), m.CurrentKeyID(keys.PurposeIDToken)
	if acc == legacy || idt == legacy || acc == idt {
		t.Fatalf("after pre-publication: access %q, id_token %q, old %q", acc, idt, legacy)
	}
	// The old key's tokens still verify until it leaves the JWKS.
	if _, err := m.VerifyFor(ctx, before, "at+jwt", keys.PurposeAccess); err != nil {
		t.Fatalf("old key's token after the switch: %v", err)
	}
	// A restart does not rotate again.
	again := purposeManager(t, db, clk, 10*time.Minute,
		keys.Purpose{Name: keys.PurposeAccess, Algorithm: keys.ES256},
		keys.Purpose{Name: keys.PurposeIDToken, Algorithm: keys.ES256})
	if again.CurrentKeyID(keys.PurposeAccess) != acc || again.CurrentKeyID(keys.PurposeIDToken) != idt {
		t.Fatal("a restart rotated keys that already have a purpose")
	}
}

// A purpose kept in two algorithms (id_tokens in the configured one and in
// RS256): Sign uses the first, SignAlg the one named, both verify for the
// purpose and none for another, and an algorithm the purpose lacks is
// ErrNoKey.
func TestSignAlg(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(time.Now())
	m := purposeManager(t, openDB(t), clk, 0,
		keys.Purpose{Name: keys.PurposeAccess, Algorithm: keys.ES256},
		keys.Purpose{Name: keys.PurposeIDToken, Algorithm: keys.ES256},
		keys.Purpose{Name: keys.PurposeIDToken, Algorithm: keys.RS256})
	for _, tc := range []struct{ alg, wantAlg string }{{"", keys.ES256}, {keys.ES256, keys.ES256}, {keys.RS256, keys.RS256}} {
		var tok string
		var err error
		if tc.alg == "" {
			tok, err = m.Sign(keys.PurposeIDToken, "JWT", []byte(`{}`))
		} else {
			tok, err = m.SignAlg(keys.PurposeIDToken, tc.alg, "JWT", []byte(`{}`))
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.alg, err)
		}
		hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		var h struct{ Alg string }
		_ = json.Unmarshal(hdr, &h)
		if h.Alg != tc.wantAlg {
			t.Errorf("SignAlg(%q) signed with %s", tc.alg, h.Alg)
		}
		if _, err := m.VerifyFor(ctx, tok, "JWT", keys.PurposeIDToken); err != nil {
			t.Errorf("%q: verify as an id_token: %v", tc.alg, err)
		}
		if _, err := m.VerifyFor(ctx, tok, "JWT", keys.PurposeAccess); !errors.Is(err, keys.ErrUnknownKey) {
			t.Errorf("%q: verify as an access token: %v", tc.alg, err)
		}
	}
	if _, err := m.SignAlg(keys.PurposeIDToken, keys.EdDSA, "JWT", []byte(`{}`)); !errors.Is(err, keys.ErrNoKey) {
		t.Fatalf("an algorithm the purpose lacks: %v", err)
	}
}
