package keys_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv/clocktest"
	"github.com/authd/authd/internal/testenv/dbtest"

	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/store/sqlite"
)

func TestSealer(t *testing.T) {
	s, err := keys.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ct := s.Seal([]byte("private"), []byte("kid-1"))
	if bytes.Contains(ct, []byte("private")) {
		t.Fatal("plaintext visible in ciphertext")
	}
	if pt, err := s.Open(ct, []byte("kid-1")); err != nil || string(pt) != "private" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	other, _ := keys.NewSealer(bytes.Repeat([]byte{8}, 32))
	tampered := bytes.Clone(ct)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name string
		s    *keys.Sealer
		ct   []byte
		aad  string
	}{
		{"wrong aad (moved to another record)", s, ct, "kid-2"},
		{"wrong key", other, ct, "kid-1"},
		{"tampered", s, tampered, "kid-1"},
		{"truncated", s, ct[:10], "kid-1"},
	}
	for _, tc := range tests {
		if _, err := tc.s.Open(tc.ct, []byte(tc.aad)); err != keys.ErrDecrypt {
			t.Errorf("%s: err = %v, want ErrDecrypt", tc.name, err)
		}
	}
	if _, err := keys.NewSealer(make([]byte, 16)); err == nil {
		t.Error("16-byte key accepted")
	}
	a, _ := keys.DeriveKey(make([]byte, 32), "signing keys")
	b, _ := keys.DeriveKey(make([]byte, 32), "csrf")
	if len(a) != 32 || bytes.Equal(a, b) {
		t.Error("derived keys must be 32 bytes and differ per label")
	}
}

func newManager(t testing.TB, db *sqlite.DB, clk *clocktest.Clock, master byte, algs ...string) *keys.Manager {
	t.Helper()
	sealer, _ := keys.NewSealer(bytes.Repeat([]byte{master}, 32))
	m, err := keys.NewManager(db, sealer, keys.Options{Algorithms: algs, Retain: time.Hour, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func openDB(t testing.TB) *sqlite.DB {
	t.Helper()
	return dbtest.SQLite(t)
}

func TestRotationAndRetention(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	clk := clocktest.New(time.Now())
	m := newManager(t, db, clk, 1, keys.ES256, keys.RS256)
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	es1, rs1 := m.CurrentKeyID(keys.ES256), m.CurrentKeyID(keys.RS256)
	if es1 == "" || rs1 == "" || es1 == rs1 {
		t.Fatalf("current keys %q %q", es1, rs1)
	}
	old, err := m.Sign("", "at+jwt", []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if _, err := m.Rotate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if m.CurrentKeyID(keys.ES256) == es1 || m.CurrentKeyID(keys.RS256) != rs1 {
		t.Fatal("rotating ES256 must replace only the ES256 key")
	}
	// Tokens signed by the replaced key verify until it leaves the JWKS.
	if _, err := m.Verify(ctx, old, "at+jwt"); err != nil {
		t.Fatalf("old token after rotation: %v", err)
	}
	if !strings.Contains(string(m.JWKS()), es1) {
		t.Fatal("replaced key left the JWKS at once")
	}
	clk.Advance(time.Hour + time.Second)
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(m.JWKS()), es1) {
		t.Fatal("replaced key still published after Retain")
	}
	if _, err := m.Verify(ctx, old, "at+jwt"); err == nil {
		t.Fatal("token of a retired key still verifies")
	}
	// Private material never reaches the JWKS.
	if strings.Contains(string(m.JWKS()), `"d"`) {
		t.Fatal("JWKS contains a private key")
	}
}

func TestReplicaSeesRotation(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	clk := clocktest.New(time.Now())
	a, b := newManager(t, db, clk, 1, keys.ES256), newManager(t, db, clk, 1, keys.ES256)
	if err := a.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Rotate(ctx, ""); err != nil {
		t.Fatal(err)
	}
	tok, err := a.Sign("", "at+jwt", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	// b has never seen the new kid: it reloads once on the miss.
	if _, err := b.Verify(ctx, tok, "at+jwt"); err != nil {
		t.Fatalf("replica did not pick up the rotated key: %v", err)
	}
}

func TestWrongMasterKey(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	clk := clocktest.New(time.Now())
	if err := newManager(t, db, clk, 1, keys.ES256).Load(ctx); err != nil {
		t.Fatal(err)
	}
	err := newManager(t, db, clk, 2, keys.ES256).Load(ctx)
	if err == nil || !strings.Contains(err.Error(), "AUTHD_MASTER_KEY") {
		t.Fatalf("loading with another master key: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	clk := clocktest.New(time.Now())
	m := newManager(t, db, clk, 1, keys.ES256, keys.EdDSA)
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	good, _ := m.Sign(keys.ES256, "at+jwt", []byte(`{"x":1}`))
	idt, _ := m.Sign(keys.EdDSA, "JWT", []byte(`{"x":1}`))
	parts := strings.Split(good, ".")
	tests := []struct {
		name, tok, typ string
		want           error
	}{
		{"wrong typ", idt, "at+jwt", keys.ErrType},
		{"garbage", "abc", "at+jwt", keys.ErrMalformed},
		{"alg none", "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + parts[1] + ".", "at+jwt", keys.ErrMalformed},
		{"bad signature", parts[0] + "." + parts[1] + "." + parts[2][:10] + strings.Repeat("A", len(parts[2])-10), "at+jwt", keys.ErrSignature},
	}
	for _, tc := range tests {
		if _, err := m.Verify(ctx, tc.tok, tc.typ); err != tc.want {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := m.Verify(ctx, idt, "JWT"); err != nil {
		t.Errorf("EdDSA id_token: %v", err)
	}
}

// A rotated-in key is published first and signs only after Prepublish, so a
// resource server's cached JWKS already holds it when its first token comes.
func TestPrepublishedRotation(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	clk := clocktest.New(time.Now())
	sealer, _ := keys.NewSealer(bytes.Repeat([]byte{1}, 32))
	m, err := keys.NewManager(db, sealer, keys.Options{Retain: time.Hour, Prepublish: 10 * time.Minute, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	old := m.CurrentKeyID("")
	k, err := m.Rotate(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m.JWKS()), k.ID) {
		t.Fatal("the new key is not published at once")
	}
	if m.CurrentKeyID("") != old {
		t.Fatal("the new key signs before its pre-publication is over")
	}
	kidOf := func(tok string) string {
		h, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		var hdr struct{ Kid string }
		_ = json.Unmarshal(h, &hdr)
		return hdr.Kid
	}
	tok, _ := m.Sign("", "at+jwt", []byte(`{}`))
	if kidOf(tok) != old {
		t.Fatalf("signed with %s during pre-publication", kidOf(tok))
	}
	// No reload needed: the switch happens at the activation time.
	clk.Advance(10 * time.Minute)
	tok, _ = m.Sign("", "at+jwt", []byte(`{}`))
	if kidOf(tok) != k.ID || m.CurrentKeyID("") != k.ID {
		t.Fatalf("after pre-publication signed with %s, want %s", kidOf(tok), k.ID)
	}
	// The old key stays published for Retain after the switch, then goes.
	clk.Advance(59 * time.Minute)
	_ = m.Reload(ctx)
	if !strings.Contains(string(m.JWKS()), old) {
		t.Fatal("old key left before Retain after the switch")
	}
	clk.Advance(2 * time.Minute)
	_ = m.Reload(ctx)
	if strings.Contains(string(m.JWKS()), old) {
		t.Fatal("old key still published after Retain")
	}
	// RotateNow is for a compromised key: it signs at once.
	now, err := m.RotateNow(ctx, "")
	if err != nil || m.CurrentKeyID("") != now.ID {
		t.Fatalf("RotateNow: %v, current %s", err, m.CurrentKeyID(""))
	}
}

func TestScheduledRotation(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	clk := clocktest.New(time.Now())
	sealer, _ := keys.NewSealer(bytes.Repeat([]byte{1}, 32))
	m, err := keys.NewManager(db, sealer, keys.Options{Algorithms: []string{keys.ES256, keys.RS256},
		Retain: time.Hour, Prepublish: time.Minute, RotateEvery: 24 * time.Hour, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	es, rs := m.CurrentKeyID(keys.ES256), m.CurrentKeyID(keys.RS256)
	clk.Advance(23 * time.Hour)
	if err := m.RotateDue(ctx); err != nil || strings.Count(string(m.JWKS()), `"kid"`) != 2 {
		t.Fatalf("rotated early: %v %s", err, m.JWKS())
	}
	clk.Advance(time.Hour)
	if err := m.RotateDue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(m.JWKS()), `"kid"`); n != 4 {
		t.Fatalf("%d keys published after the due rotation, want 4", n)
	}
	// A successor is waiting: no second rotation.
	if err := m.RotateDue(ctx); err != nil || strings.Count(string(m.JWKS()), `"kid"`) != 4 {
		t.Fatal("rotated again while a successor was pre-published")
	}
	clk.Advance(time.Minute)
	if m.CurrentKeyID(keys.ES256) == es || m.CurrentKeyID(keys.RS256) == rs {
		t.Fatal("the due keys did not take over")
	}
}
