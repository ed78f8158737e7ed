package dpop_test

import (
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/dpop"
)

// The example proofs of RFC 9449, both signed by the key of its examples.
// Their iat is in 2019: they are verified at that time.
const (
	// rfcTokenProof is the DPoP header of the token request in RFC 9449 §5
	// (its claims decoded in §4.2): POST https://server.example.com/token.
	rfcTokenProof = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"
	// rfcResourceProof is the DPoP header of the protected resource request
	// in RFC 9449 §7.1: GET https://resource.example.org/protectedresource
	// with rfcAccessToken.
	rfcResourceProof = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA"
	rfcAccessToken   = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
	// rfcATH is that token's ath (RFC 9449 §7.1).
	rfcATH = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
	// rfcJKT is the thumbprint of the examples' key: the cnf.jkt of RFC 9449
	// §6.1 and the dpop_jkt of §10.
	rfcJKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
)

var (
	rfcTokenRequest = dpop.Request{
		Method: "POST", URI: "https://server.example.com/token", Now: time.Unix(1562262616, 0),
	}
	rfcResourceRequest = dpop.Request{
		Method: "GET", URI: "https://resource.example.org/protectedresource", Now: time.Unix(1562262618, 0),
		AccessToken: rfcAccessToken, JKT: rfcJKT,
	}
)

func TestRFC9449Examples(t *testing.T) {
	p, err := dpop.Verify(rfcTokenProof, rfcTokenRequest, dpop.Options{})
	if err != nil {
		t.Fatalf("§5 token request proof: %v", err)
	}
	want := dpop.Proof{
		JKT: rfcJKT, JTI: "-BwC3ESc6acc2lTc", IssuedAt: time.Unix(1562262616, 0),
		Expires: time.Unix(1562262616+60, 0), Algorithm: "ES256",
	}
	if *p != want {
		t.Fatalf("§5 proof = %+v; want %+v", *p, want)
	}
	if _, err := dpop.Verify(rfcResourceProof, rfcResourceRequest, dpop.Options{}); err != nil {
		t.Fatalf("§7.1 resource request proof: %v", err)
	}
	if got := dpop.AccessTokenHash(rfcAccessToken); got != rfcATH {
		t.Fatalf("AccessTokenHash = %s; want %s", got, rfcATH)
	}

	// The same proofs, with one thing wrong each.
	tests := []struct {
		name    string
		proof   string
		req     func(r *dpop.Request)
		wantErr error
	}{
		{"token proof a minute and a second later", rfcTokenProof, func(r *dpop.Request) { r.Now = r.Now.Add(61 * time.Second) }, dpop.ErrIssuedAt},
		{"token proof at another endpoint", rfcTokenProof, func(r *dpop.Request) { r.URI = "https://server.example.com/par" }, dpop.ErrURI},
		{"token proof with GET", rfcTokenProof, func(r *dpop.Request) { r.Method = "GET" }, dpop.ErrMethod},
		{"token proof for a code bound to another key", rfcTokenProof, func(r *dpop.Request) { r.JKT = rfcATH }, dpop.ErrKeyMismatch},
		{"token proof at a resource, with a token", rfcTokenProof, func(r *dpop.Request) { r.AccessToken = rfcAccessToken }, dpop.ErrAccessTokenHash},
		{"resource proof with another token", rfcResourceProof, func(r *dpop.Request) { r.AccessToken = "another" }, dpop.ErrAccessTokenHash},
		{"resource proof for a token bound to another key", rfcResourceProof, func(r *dpop.Request) { r.JKT = rfcATH }, dpop.ErrKeyMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := rfcTokenRequest
			if tc.proof == rfcResourceProof {
				req = rfcResourceRequest
			}
			tc.req(&req)
			if _, err := dpop.Verify(tc.proof, req, dpop.Options{}); !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v; want %v", err, tc.wantErr)
			}
		})
	}
}

// TestRFC7638Thumbprint is the example of RFC 7638 §3.1.
func TestRFC7638Thumbprint(t *testing.T) {
	const key = `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON([]byte(key)); err != nil {
		t.Fatal(err)
	}
	got, err := dpop.Thumbprint(&jwk)
	if err != nil || got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Fatalf("Thumbprint = %q, %v; want NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", got, err)
	}
}

func testRequest() dpop.Request {
	return dpop.Request{Method: "POST", URI: testURI, Now: t0}
}

// TestEveryAlgorithm: a proof signed with a fresh key of each supported
// algorithm verifies, and carries that key's thumbprint.
func TestEveryAlgorithm(t *testing.T) {
	for _, alg := range dpop.SupportedAlgorithms() {
		t.Run(alg, func(t *testing.T) {
			s := newSigner(t, alg)
			p, err := dpop.Verify(s.proof(nil), testRequest(), dpop.Options{})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if p.JKT != s.thumbprint(t) || p.Algorithm != alg || p.JTI != "e1j3V_bKic8-LAEB" || !p.IssuedAt.Equal(t0) {
				t.Fatalf("proof = %+v; want jkt %s, alg %s", *p, s.thumbprint(t), alg)
			}
			// Restricted to another algorithm, the same proof is refused.
			other := "ES256"
			if alg == "ES256" {
				other = "EdDSA"
			}
			if _, err := dpop.Verify(s.proof(nil), testRequest(), dpop.Options{Algorithms: []string{other}}); !errors.Is(err, dpop.ErrAlgorithm) {
				t.Fatalf("with only %s allowed: err = %v; want ErrAlgorithm", other, err)
			}
		})
	}
}

// TestGoJoseSignedProof: a proof signed by go-jose (not this file's signer)
// verifies, so the signer the other cases use signs as JWS says.
func TestGoJoseSignedProof(t *testing.T) {
	k := mustEC(elliptic.P256())
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, &jose.SignerOptions{
		EmbedJWK: true, ExtraHeaders: map[jose.HeaderKey]any{"typ": "dpop+jwt"},
	})
	if err != nil {
		t.Fatal(err)
	}
	jws, err := sig.Sign(mustJSON(validClaims()))
	if err != nil {
		t.Fatal(err)
	}
	proof, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	p, err := dpop.Verify(proof, testRequest(), dpop.Options{})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if want := ecSigner("ES256", k).thumbprint(t); p.JKT != want {
		t.Fatalf("JKT = %s; want %s", p.JKT, want)
	}
}

// TestRefused: every check, each case making exactly one thing wrong with an
// otherwise valid proof.
func TestRefused(t *testing.T) {
	es := newSigner(t, "ES256")
	ed := newSigner(t, "EdDSA")
	rs := newSigner(t, "RS256")
	other := newSigner(t, "ES256")
	nonces := newNonces(t)
	valid := es.proof(nil)
	h64, p64, s64 := split(valid)

	tests := []struct {
		name    string
		proof   string
		req     func(*dpop.Request) // nil: testRequest
		opts    dpop.Options
		wantErr error
	}{
		// §4.3 step 2: one well-formed JWS in compact serialization.
		{name: "empty", proof: "", wantErr: dpop.ErrMalformed},
		{name: "two segments", proof: h64 + "." + p64, wantErr: dpop.ErrMalformed},
		{name: "four segments", proof: valid + "." + s64, wantErr: dpop.ErrMalformed},
		{name: "empty signature", proof: h64 + "." + p64 + ".", wantErr: dpop.ErrMalformed},
		{name: "empty payload", proof: h64 + ".." + s64, wantErr: dpop.ErrMalformed},
		{name: "padding", proof: h64 + "." + p64 + "." + s64 + "==", wantErr: dpop.ErrMalformed},
		{name: "standard base64", proof: h64 + "." + p64 + "." + strings.NewReplacer("-", "+", "_", "/").Replace(s64) + "+/", wantErr: dpop.ErrMalformed},
		{name: "non-canonical last character", proof: h64 + "." + p64 + "." + s64[:len(s64)-1] + nonCanonical(s64), wantErr: dpop.ErrMalformed},
		{name: "whitespace", proof: h64 + ". " + p64 + "." + s64, wantErr: dpop.ErrMalformed},
		{name: "JSON serialization", proof: `{"payload":"` + p64 + `","protected":"` + h64 + `","signature":"` + s64 + `"}`, wantErr: dpop.ErrMalformed},
		{name: "two proofs in one field", proof: valid + ", " + valid, wantErr: dpop.ErrMalformed},
		{name: "longer than MaxProofLen", proof: valid, opts: dpop.Options{MaxProofLen: len(valid) - 1}, wantErr: dpop.ErrMalformed},
		{name: "header not JSON", proof: es.signJSON([]byte("typ=dpop+jwt"), mustJSON(validClaims())), wantErr: dpop.ErrMalformed},
		{name: "header a JSON array", proof: es.signJSON([]byte(`["dpop+jwt"]`), mustJSON(validClaims())), wantErr: dpop.ErrMalformed},
		{name: "header with a duplicate member", proof: es.signJSON(dupMember(es.header(), "alg", "HS256"), mustJSON(validClaims())), wantErr: dpop.ErrMalformed},
		{name: "crit header", proof: es.proof(func(h, _ map[string]any) { h["crit"] = []string{"exp"}; h["exp"] = 1 }), wantErr: dpop.ErrMalformed},
		{name: "b64 header", proof: es.proof(func(h, _ map[string]any) { h["b64"] = false }), wantErr: dpop.ErrMalformed},
		{name: "claims not JSON", proof: es.signJSON(mustJSON(es.header()), []byte("jti=1")), wantErr: dpop.ErrMalformed},
		{name: "claims a JSON array", proof: es.signJSON(mustJSON(es.header()), []byte(`[1]`)), wantErr: dpop.ErrMalformed},
		{name: "claims with a duplicate member", proof: es.signJSON(mustJSON(es.header()), dupMember(validClaims(), "htm", "GET")), wantErr: dpop.ErrMalformed},
		{name: "iat a string", proof: es.proof(func(_, c map[string]any) { c["iat"] = "1900000000" }), wantErr: dpop.ErrMalformed},
		{name: "jti a number", proof: es.proof(func(_, c map[string]any) { c["jti"] = 42 }), wantErr: dpop.ErrMalformed},

		// §4.2, §4.3 step 4: typ.
		{name: "no typ", proof: es.proof(func(h, _ map[string]any) { delete(h, "typ") }), wantErr: dpop.ErrType},
		{name: "typ JWT", proof: es.proof(func(h, _ map[string]any) { h["typ"] = "JWT" }), wantErr: dpop.ErrType},
		{name: "typ at+jwt", proof: es.proof(func(h, _ map[string]any) { h["typ"] = "at+jwt" }), wantErr: dpop.ErrType},
		{name: "typ with a suffix", proof: es.proof(func(h, _ map[string]any) { h["typ"] = "dpop+jwt2" }), wantErr: dpop.ErrType},
		{name: "typ member in another case", proof: es.proof(func(h, _ map[string]any) { delete(h, "typ"); h["TYP"] = "dpop+jwt" }), wantErr: dpop.ErrType},

		// §4.2, §4.3 step 5: alg, asymmetric and allowed.
		{name: "alg none", proof: h64none(es) + "." + p64 + "." + s64, wantErr: dpop.ErrAlgorithm},
		{name: "alg none, no signature", proof: h64none(es) + "." + p64 + ".", wantErr: dpop.ErrMalformed},
		{name: "HS256 keyed with the public key's bytes", proof: hmacProof(withAlg(es.header(), "HS256"), validClaims(), []byte(es.publicJWK()["x"].(string))), wantErr: dpop.ErrAlgorithm},
		{name: "HS256 with a symmetric jwk", proof: hmacProof(map[string]any{"typ": "dpop+jwt", "alg": "HS256", "jwk": map[string]any{"kty": "oct", "k": b64(make([]byte, 32))}}, validClaims(), make([]byte, 32)), wantErr: dpop.ErrAlgorithm},
		{name: "HS256 allowed by Options still refused", proof: hmacProof(withAlg(es.header(), "HS256"), validClaims(), make([]byte, 32)), opts: dpop.Options{Algorithms: []string{"HS256", "none"}}, wantErr: dpop.ErrAlgorithm},
		{name: "ES512, not supported", proof: es.proof(func(h, _ map[string]any) { h["alg"] = "ES512" }), wantErr: dpop.ErrAlgorithm},
		{name: "alg in lower case", proof: es.proof(func(h, _ map[string]any) { h["alg"] = "es256" }), wantErr: dpop.ErrAlgorithm},
		{name: "no alg", proof: es.proof(func(h, _ map[string]any) { delete(h, "alg") }), wantErr: dpop.ErrAlgorithm},
		{name: "alg outside Options.Algorithms", proof: valid, opts: dpop.Options{Algorithms: []string{"EdDSA"}}, wantErr: dpop.ErrAlgorithm},
		{name: "empty Options.Algorithms allows none", proof: valid, opts: dpop.Options{Algorithms: []string{}}, wantErr: dpop.ErrAlgorithm},

		// §4.2: jwk, a public key that fits alg.
		{name: "no jwk", proof: es.proof(func(h, _ map[string]any) { delete(h, "jwk") }), wantErr: dpop.ErrKey},
		{name: "jwk a string", proof: es.proof(func(h, _ map[string]any) { h["jwk"] = "key" }), wantErr: dpop.ErrKey},
		{name: "jwk null", proof: es.proof(func(h, _ map[string]any) { h["jwk"] = nil }), wantErr: dpop.ErrKey},
		{name: "jwk symmetric", proof: es.proof(func(h, _ map[string]any) { h["jwk"] = map[string]any{"kty": "oct", "k": b64(make([]byte, 32))} }), wantErr: dpop.ErrKey},
		{name: "jwk with an unknown kty", proof: es.proof(func(h, _ map[string]any) { h["jwk"] = map[string]any{"kty": "XYZ", "x": "AA"} }), wantErr: dpop.ErrKey},
		{name: "jwk point not on the curve", proof: es.proof(func(h, _ map[string]any) { j := es.publicJWK(); j["y"] = j["x"]; h["jwk"] = j }), wantErr: dpop.ErrKey},
		{name: "jwk P-384 for ES256", proof: ecSigner("ES256", mustEC(elliptic.P384())).proof(nil), wantErr: dpop.ErrKey},
		{name: "jwk EC for RS256", proof: es.proof(func(h, _ map[string]any) { h["alg"] = "RS256" }), wantErr: dpop.ErrKey},
		{name: "jwk EC for EdDSA", proof: es.proof(func(h, _ map[string]any) { h["alg"] = "EdDSA" }), wantErr: dpop.ErrKey},
		{name: "jwk Ed25519 for ES256", proof: ed.proof(func(h, _ map[string]any) { h["alg"] = "ES256" }), wantErr: dpop.ErrKey},
		{name: "RSA key of 1024 bits", proof: rsaSigner("RS256", rsa1024()).proof(nil), wantErr: dpop.ErrKey},

		// §4.3 step 7: no private key in jwk.
		{name: "EC private key", proof: es.proof(func(h, _ map[string]any) { h["jwk"] = es.privateJWK() }), wantErr: dpop.ErrPrivateKey},
		{name: "RSA private key", proof: rs.proof(func(h, _ map[string]any) { h["jwk"] = rs.privateJWK() }), wantErr: dpop.ErrPrivateKey},
		{name: "RSA public key with one private member", proof: rs.proof(func(h, _ map[string]any) { j := rs.publicJWK(); j["qi"] = "AQAB"; h["jwk"] = j }), wantErr: dpop.ErrPrivateKey},
		{name: "Ed25519 private key", proof: ed.proof(func(h, _ map[string]any) { h["jwk"] = ed.privateJWK() }), wantErr: dpop.ErrPrivateKey},

		// §4.3 step 6: the signature verifies with jwk.
		{name: "signed by another key", proof: other.signJSON(mustJSON(es.header()), mustJSON(validClaims())), wantErr: dpop.ErrSignature},
		{name: "jwk of another key", proof: es.proof(func(h, _ map[string]any) { h["jwk"] = other.publicJWK() }), wantErr: dpop.ErrSignature},
		{name: "signature with a flipped bit", proof: h64 + "." + p64 + "." + flipBit(s64), wantErr: dpop.ErrSignature},
		{name: "signature a byte short", proof: h64 + "." + p64 + "." + b64(unb64(s64)[:63]), wantErr: dpop.ErrSignature},
		{name: "claims changed after signing", proof: h64 + "." + b64(mustJSON(map[string]any{"jti": "x", "htm": "POST", "htu": testURI, "iat": t0.Unix()})) + "." + s64, wantErr: dpop.ErrSignature},
		{name: "header changed after signing (EdDSA renamed Ed25519)", proof: relabel(ed.proof(nil), ed, "Ed25519"), wantErr: dpop.ErrSignature},

		// §4.2: jti.
		{name: "no jti", proof: es.proof(func(_, c map[string]any) { delete(c, "jti") }), wantErr: dpop.ErrJTI},
		{name: "empty jti", proof: es.proof(func(_, c map[string]any) { c["jti"] = "" }), wantErr: dpop.ErrJTI},
		{name: "jti over MaxJTILen", proof: es.proof(func(_, c map[string]any) { c["jti"] = strings.Repeat("j", 129) }), wantErr: dpop.ErrJTI},
		{name: "jti over a set MaxJTILen", proof: valid, opts: dpop.Options{MaxJTILen: 8}, wantErr: dpop.ErrJTI},

		// §4.3 step 8: htm.
		{name: "htm GET on a POST", proof: es.proof(func(_, c map[string]any) { c["htm"] = "GET" }), wantErr: dpop.ErrMethod},
		{name: "htm in lower case", proof: es.proof(func(_, c map[string]any) { c["htm"] = "post" }), wantErr: dpop.ErrMethod},
		{name: "no htm", proof: es.proof(func(_, c map[string]any) { delete(c, "htm") }), wantErr: dpop.ErrMethod},
		{name: "htm member in another case", proof: es.proof(func(_, c map[string]any) { delete(c, "htm"); c["HTM"] = "POST" }), wantErr: dpop.ErrMethod},

		// §4.3 step 9: htu (see TestHTU for normalisation).
		{name: "htu another path", proof: es.proof(func(_, c map[string]any) { c["htu"] = "https://server.example.com/par" }), wantErr: dpop.ErrURI},
		{name: "htu another host", proof: es.proof(func(_, c map[string]any) { c["htu"] = "https://evil.example/token" }), wantErr: dpop.ErrURI},
		{name: "htu relative", proof: es.proof(func(_, c map[string]any) { c["htu"] = "/token" }), wantErr: dpop.ErrURI},
		{name: "no htu", proof: es.proof(func(_, c map[string]any) { delete(c, "htu") }), wantErr: dpop.ErrURI},
		{name: "htu not a URI", proof: es.proof(func(_, c map[string]any) { c["htu"] = "https://server.example.com:port/token" }), wantErr: dpop.ErrURI},

		// §4.3 step 10, §8: nonce.
		{name: "nonce required, none", proof: valid, opts: dpop.Options{Nonces: nonces}, wantErr: dpop.ErrNonceMissing},
		{name: "nonce wrong", proof: es.proof(func(_, c map[string]any) { c["nonce"] = "eyJ7S_zG.eyJH0-Z.HX4w-7v" }), opts: dpop.Options{Nonces: nonces}, wantErr: dpop.ErrNonceInvalid},
		{name: "nonce expired", proof: es.proof(func(_, c map[string]any) { c["nonce"] = nonces.Current(t0.Add(-2 * nonceWindow)) }), opts: dpop.Options{Nonces: nonces}, wantErr: dpop.ErrNonceInvalid},
		{name: "nonce of another server", proof: es.proof(func(_, c map[string]any) { c["nonce"] = newNonces(t).Current(t0) }), opts: dpop.Options{Nonces: nonces}, wantErr: dpop.ErrNonceInvalid},

		// §4.3 step 11: iat within the window.
		{name: "iat 61 s old", proof: es.proof(func(_, c map[string]any) { c["iat"] = t0.Unix() - 61 }), wantErr: dpop.ErrIssuedAt},
		{name: "iat 61 s ahead", proof: es.proof(func(_, c map[string]any) { c["iat"] = t0.Unix() + 61 }), wantErr: dpop.ErrIssuedAt},
		{name: "iat beyond a set Leeway", proof: es.proof(func(_, c map[string]any) { c["iat"] = t0.Unix() - 6 }), opts: dpop.Options{Leeway: 5 * time.Second}, wantErr: dpop.ErrIssuedAt},
		{name: "no iat", proof: es.proof(func(_, c map[string]any) { delete(c, "iat") }), wantErr: dpop.ErrIssuedAt},
		{name: "iat negative", proof: es.proof(func(_, c map[string]any) { c["iat"] = -1 }), wantErr: dpop.ErrIssuedAt},
		{name: "iat absurd", proof: es.proof(func(_, c map[string]any) { c["iat"] = 1e300 }), wantErr: dpop.ErrIssuedAt},

		// §4.3 step 12, §7: ath with an access token, the bound key.
		{name: "ath missing with a token", proof: valid, req: func(r *dpop.Request) { r.AccessToken = "token" }, wantErr: dpop.ErrAccessTokenHash},
		{name: "ath of another token", proof: es.proof(func(_, c map[string]any) { c["ath"] = dpop.AccessTokenHash("other") }), req: func(r *dpop.Request) { r.AccessToken = "token" }, wantErr: dpop.ErrAccessTokenHash},
		{name: "ath is the token itself", proof: es.proof(func(_, c map[string]any) { c["ath"] = "token" }), req: func(r *dpop.Request) { r.AccessToken = "token" }, wantErr: dpop.ErrAccessTokenHash},
		{name: "token bound to another key", proof: valid, req: func(r *dpop.Request) { r.JKT = other.thumbprint(t) }, wantErr: dpop.ErrKeyMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := testRequest()
			if tc.req != nil {
				tc.req(&req)
			}
			p, err := dpop.Verify(tc.proof, req, tc.opts)
			if !errors.Is(err, tc.wantErr) || p != nil {
				t.Fatalf("Verify = %+v, %v; want %v", p, err, tc.wantErr)
			}
			wantRefusal(t, err)
		})
	}
}

// wantRefusal checks that err is an *Error of exactly one class, the one
// its code says.
func wantRefusal(t *testing.T, err error) {
	t.Helper()
	var e *dpop.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T); want a *dpop.Error", err, err)
	}
	invalid, nonce := errors.Is(err, dpop.ErrInvalidProof), errors.Is(err, dpop.ErrUseNonce)
	switch e.Code {
	case dpop.CodeInvalidProof:
		if !invalid || nonce {
			t.Fatalf("%v: Is(ErrInvalidProof) = %v, Is(ErrUseNonce) = %v", err, invalid, nonce)
		}
	case dpop.CodeUseNonce:
		if invalid || !nonce {
			t.Fatalf("%v: Is(ErrInvalidProof) = %v, Is(ErrUseNonce) = %v", err, invalid, nonce)
		}
	default:
		t.Fatalf("code %q", e.Code)
	}
}

// TestAccepted: what a strict reading might refuse but RFC 9449 and the
// JOSE specifications allow.
func TestAccepted(t *testing.T) {
	es := newSigner(t, "ES256")
	nonces := newNonces(t)
	token := "2YotnFZFEjr1zCsicMWpAA"
	tests := []struct {
		name  string
		proof string
		req   func(*dpop.Request)
		opts  dpop.Options
	}{
		{name: "typ in another case", proof: es.proof(func(h, _ map[string]any) { h["typ"] = "DPoP+JWT" })},
		{name: "typ with application/ (RFC 7515 §4.1.9)", proof: es.proof(func(h, _ map[string]any) { h["typ"] = "application/dpop+jwt" })},
		{name: "iat exactly Leeway old", proof: es.proof(func(_, c map[string]any) { c["iat"] = t0.Unix() - 60 })},
		{name: "iat exactly Leeway ahead", proof: es.proof(func(_, c map[string]any) { c["iat"] = t0.Unix() + 60 })},
		{name: "iat with a fraction", proof: es.proof(func(_, c map[string]any) { c["iat"] = float64(t0.Unix()) + 0.25 })},
		{name: "jti of MaxJTILen", proof: es.proof(func(_, c map[string]any) { c["jti"] = strings.Repeat("j", 128) })},
		{name: "ath without a token (token endpoint)", proof: es.proof(func(_, c map[string]any) { c["ath"] = "whatever" })},
		{name: "ath with its token", proof: es.proof(func(_, c map[string]any) { c["ath"] = dpop.AccessTokenHash(token) }), req: func(r *dpop.Request) { r.AccessToken = token }},
		{name: "bound to this key", proof: es.proof(nil), req: func(r *dpop.Request) { r.JKT = es.thumbprint(t) }},
		{name: "nonce of this window", proof: es.proof(func(_, c map[string]any) { c["nonce"] = nonces.Current(t0) }), opts: dpop.Options{Nonces: nonces}},
		{name: "nonce of the previous window", proof: es.proof(func(_, c map[string]any) { c["nonce"] = nonces.Current(t0.Add(-nonceWindow)) }), opts: dpop.Options{Nonces: nonces}},
		{name: "nonce not required but sent", proof: es.proof(func(_, c map[string]any) { c["nonce"] = "anything" })},
		{name: "unknown claims and headers", proof: es.proof(func(h, c map[string]any) { h["kid"] = "k1"; c["exp"] = t0.Unix() + 30; c["x"] = []int{1} })},
		{name: "jwk with alg, use and kid members", proof: es.proof(func(h, _ map[string]any) {
			j := es.publicJWK()
			j["alg"], j["use"], j["kid"] = "ES256", "sig", "k1"
			h["jwk"] = j
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := testRequest()
			if tc.req != nil {
				tc.req(&req)
			}
			if _, err := dpop.Verify(tc.proof, req, tc.opts); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

// TestHTU: htu is compared with the target URI ignoring query and fragment,
// after RFC 3986 syntax- and scheme-based normalisation (RFC 9449 §4.3).
func TestHTU(t *testing.T) {
	es := newSigner(t, "ES256")
	tests := []struct {
		htu, uri string
		match    bool
	}{
		{"https://server.example.com/token", "https://server.example.com/token", true},
		// Query and fragment are ignored, on either side.
		{"https://server.example.com/token?a=1", "https://server.example.com/token", true},
		{"https://server.example.com/token#f", "https://server.example.com/token", true},
		{"https://server.example.com/token", "https://server.example.com/token?grant=x", true},
		{"https://server.example.com/token?", "https://server.example.com/token", true},
		// Scheme and host are case-insensitive.
		{"HTTPS://Server.Example.COM/token", "https://server.example.com/token", true},
		{"https://server.example.com/token", "https://SERVER.example.com/token", true},
		// The default port is the absent port; an empty port too.
		{"https://server.example.com:443/token", "https://server.example.com/token", true},
		{"https://server.example.com:/token", "https://server.example.com/token", true},
		{"https://server.example.com:0443/token", "https://server.example.com/token", true},
		{"http://server.example.com:80/token", "http://server.example.com/token", true},
		{"https://server.example.com:8443/token", "https://server.example.com:8443/token", true},
		{"https://server.example.com:8443/token", "https://server.example.com/token", false},
		{"https://server.example.com:80/token", "https://server.example.com/token", false},
		{"http://server.example.com:443/token", "http://server.example.com/token", false},
		// An empty path is "/".
		{"https://server.example.com", "https://server.example.com/", true},
		{"https://server.example.com?x", "https://server.example.com/", true},
		// Percent-encodings: hex case, unreserved characters decoded.
		{"https://server.example.com/%74oken", "https://server.example.com/token", true},
		{"https://server.example.com/to%2fken", "https://server.example.com/to%2Fken", true},
		{"https://server.example.com/to%2Fken", "https://server.example.com/to/ken", false},
		{"https://server.example.com/a%20b", "https://server.example.com/a%20b", true},
		// Dot segments are removed.
		{"https://server.example.com/a/../token", "https://server.example.com/token", true},
		{"https://server.example.com/./token", "https://server.example.com/token", true},
		{"https://server.example.com/%2E%2E/token", "https://server.example.com/token", true},
		// The path is otherwise exact.
		{"https://server.example.com/Token", "https://server.example.com/token", false},
		{"https://server.example.com/token/", "https://server.example.com/token", false},
		{"https://server.example.com//token", "https://server.example.com/token", false},
		// Scheme and host must be the same.
		{"http://server.example.com/token", "https://server.example.com/token", false},
		{"https://server.example.com.evil/token", "https://server.example.com/token", false},
		{"https://[2001:DB8::1]/token", "https://[2001:db8::1]:443/token", true},
		// Not http(s) URIs of a host.
		{"https://user@server.example.com/token", "https://server.example.com/token", false},
		{"ftp://server.example.com/token", "https://server.example.com/token", false},
		{"//server.example.com/token", "https://server.example.com/token", false},
		{"https:server.example.com/token", "https://server.example.com/token", false},
		{"https://server.example.com:99999/token", "https://server.example.com/token", false},
		{"https://server.example.com:0/token", "https://server.example.com/token", false},
		{"https://serv%21er.example.com/token", "https://server.example.com/token", false},
		{"https://%73erver.example.com/token", "https://server.example.com/token", false},
		{"https://serv er.example.com/token", "https://server.example.com/token", false},
	}
	for _, tc := range tests {
		proof := es.proof(func(_, c map[string]any) { c["htu"] = tc.htu })
		req := testRequest()
		req.URI = tc.uri
		_, err := dpop.Verify(proof, req, dpop.Options{})
		switch {
		case tc.match && err != nil:
			t.Errorf("htu %q at %q: %v; want a match", tc.htu, tc.uri, err)
		case !tc.match && !errors.Is(err, dpop.ErrURI):
			t.Errorf("htu %q at %q: err = %v; want ErrURI", tc.htu, tc.uri, err)
		}
	}
}

// TestBadRequest: a Request the caller built wrongly is an error of its
// own, never a refusal of the client's proof.
func TestBadRequest(t *testing.T) {
	proof := newSigner(t, "ES256").proof(nil)
	for name, edit := range map[string]func(*dpop.Request){
		"no method":    func(r *dpop.Request) { r.Method = "" },
		"no time":      func(r *dpop.Request) { r.Now = time.Time{} },
		"no URI":       func(r *dpop.Request) { r.URI = "" },
		"relative URI": func(r *dpop.Request) { r.URI = "/token" },
	} {
		req := testRequest()
		edit(&req)
		var e *dpop.Error
		if _, err := dpop.Verify(proof, req, dpop.Options{}); err == nil || errors.As(err, &e) {
			t.Errorf("%s: err = %v; want an error that is not a refusal", name, err)
		}
	}
}

func TestProofHeader(t *testing.T) {
	tests := []struct {
		name    string
		values  []string
		want    string
		wantErr error
	}{
		{"absent", nil, "", nil},
		{"one", []string{"a.b.c"}, "a.b.c", nil},
		{"two", []string{"a.b.c", "d.e.f"}, "", dpop.ErrMultipleProofs},
		{"two, one empty", []string{"a.b.c", ""}, "", dpop.ErrMultipleProofs},
		{"empty", []string{""}, "", dpop.ErrMalformed},
	}
	for _, tc := range tests {
		h := http.Header{}
		for _, v := range tc.values {
			h.Add("DPoP", v)
		}
		got, err := dpop.ProofHeader(h)
		if got != tc.want || !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: ProofHeader = %q, %v; want %q, %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestConfirmation(t *testing.T) {
	b := mustJSON(map[string]any{"cnf": dpop.Confirmation{JKT: rfcJKT}})
	if want := `{"cnf":{"jkt":"` + rfcJKT + `"}}`; string(b) != want {
		t.Fatalf("cnf = %s; want %s (RFC 9449 §6.1)", b, want)
	}
}

func split(proof string) (h, p, s string) {
	parts := strings.Split(proof, ".")
	return parts[0], parts[1], parts[2]
}

// h64none is the signer's header with alg none.
func h64none(s *signer) string { return b64(mustJSON(withAlg(s.header(), "none"))) }

func withAlg(h map[string]any, alg string) map[string]any {
	h = clone(h)
	h["alg"] = alg
	return h
}

// dupMember is m as JSON with member k appearing twice, the second time
// with value v.
func dupMember(m map[string]any, k string, v any) []byte {
	b := mustJSON(m)
	return append(b[:len(b)-1], []byte(`,"`+k+`":`+string(mustJSON(v))+`}`)...)
}

// nonCanonical returns the last character of s with a padding bit set: it
// decodes to the same bytes with a lenient decoder.
func nonCanonical(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return string(alphabet[i|1])
}

// flipBit flips one bit in the middle of a base64url string's value.
func flipBit(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := []byte(s)
	i := len(b) / 2
	b[i] = alphabet[strings.IndexByte(alphabet, b[i])^1]
	return string(b)
}

// relabel re-signs nothing: it swaps proof's header for one naming alg,
// keeping the signature over the old header.
func relabel(proof string, s *signer, alg string) string {
	_, p, sig := split(proof)
	return b64(mustJSON(withAlg(s.header(), alg))) + "." + p + "." + sig
}

func unb64(s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
