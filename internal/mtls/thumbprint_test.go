package mtls

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"
)

// The fixture is a certificate made once with
//
//	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
//	  -subj "/CN=authd thumbprint fixture" -days 36500 -outform DER -out client.der
//
// and its thumbprint was computed outside Go with
//
//	openssl dgst -sha256 -binary client.der | basenc --base64url | tr -d =
const fixtureThumbprint = "ZCioBPndIcmq1PzxjSNLDXXHYvxXB-pJJ39i62gIgy4"

func fixture(t testing.TB) *x509.Certificate {
	t.Helper()
	der, err := os.ReadFile("testdata/client.der")
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestThumbprintKnownValue(t *testing.T) {
	c := fixture(t)
	if got := Thumbprint(c); got != fixtureThumbprint {
		t.Fatalf("Thumbprint = %s, want %s", got, fixtureThumbprint)
	}
	// RFC 8705 §3.1 by its own words, independently of Thumbprint.
	sum := sha256.Sum256(c.Raw)
	if want := base64.RawURLEncoding.EncodeToString(sum[:]); want != fixtureThumbprint || len(want) != ThumbprintLength {
		t.Fatalf("fixture value %s disagrees with SHA-256 of the DER (%s)", fixtureThumbprint, want)
	}
	cc := &Certificate{Leaf: c}
	b, err := json.Marshal(cc.Confirmation())
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"x5t#S256":"`+fixtureThumbprint+`"}` {
		t.Fatalf("cnf = %s", b)
	}
}

func TestBound(t *testing.T) {
	c := fixture(t)
	other, _ := selfSigned(t, "other")
	tests := []struct {
		name string
		cert *x509.Certificate
		x5t  string
		want bool
	}{
		{"same certificate", c, fixtureThumbprint, true},
		{"other certificate", other, fixtureThumbprint, false},
		{"one character off", c, fixtureThumbprint[:42] + "5", false},
		{"padded", c, fixtureThumbprint + "=", false},
		{"empty", c, "", false},
		{"no certificate", nil, fixtureThumbprint, false},
		{"standard base64 is not base64url", c, base64.RawStdEncoding.EncodeToString(func() []byte { s := sha256.Sum256(c.Raw); return s[:] }()), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Bound(tc.cert, tc.x5t); got != tc.want {
				t.Fatalf("Bound = %v, want %v", got, tc.want)
			}
		})
	}
}
