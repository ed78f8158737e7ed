package oauth

import "testing"

// RFC 7636 Appendix B.
const (
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

func TestPKCE(t *testing.T) {
	if got := S256Challenge(rfcVerifier); got != rfcChallenge {
		t.Fatalf("S256Challenge = %s, want %s", got, rfcChallenge)
	}
	tests := []struct {
		name      string
		verifier  string
		challenge string
		want      bool
	}{
		{"rfc vector", rfcVerifier, rfcChallenge, true},
		{"wrong verifier", rfcVerifier[:42] + "Y", rfcChallenge, false},
		{"too short", "abc", S256Challenge("abc"), false},
		{"bad char", rfcVerifier[:42] + "+", S256Challenge(rfcVerifier[:42] + "+"), false},
		{"plain is not accepted", rfcVerifier, rfcVerifier, false},
		{"empty", "", rfcChallenge, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := VerifyPKCE(tc.verifier, tc.challenge); got != tc.want {
				t.Fatalf("VerifyPKCE = %v, want %v", got, tc.want)
			}
		})
	}
	if !ValidCodeChallenge(rfcChallenge) || ValidCodeChallenge("short") || ValidCodeChallenge(rfcChallenge[:42]+"=") {
		t.Error("ValidCodeChallenge wrong")
	}
}

func FuzzVerifyPKCE(f *testing.F) {
	f.Add(rfcVerifier, rfcChallenge)
	f.Add("", "")
	f.Fuzz(func(t *testing.T, v, c string) {
		if VerifyPKCE(v, c) && (!ValidCodeVerifier(v) || S256Challenge(v) != c) {
			t.Fatalf("accepted %q for %q", v, c)
		}
	})
}
