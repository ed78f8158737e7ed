package client

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/oauth"
)

// Limits on what a client may register: metadata is stored and parsed on
// every authentication, so none of it may grow without bound.
const (
	maxJWKSBytes           = 32 << 10
	maxJWKSKeys            = 20
	maxFederatedCredential = 10
	maxContacts            = 10
	maxURILength           = 2000
	maxSubjectLength       = 1024
)

// assertionAlgs are the JWS algorithms a client's keys may carry in their
// "alg" member: asymmetric only (RFC 7523 §3 lets the server choose; RFC
// 9864 names Ed25519).
var assertionAlgs = []string{"ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA", "Ed25519"}

// validKeyMetadata checks the members that say how a client proves itself
// without a shared secret and how its tokens are bound, against its
// token_endpoint_auth_method, and returns them normalised.
func (s *Service) validKeyMetadata(method string, in oauth.ClientMetadata) (oauth.ClientMetadata, error) {
	out := in
	// Members authd does not serve yet are not kept, so that nothing
	// unvalidated is stored; each is validated where it is served.
	resources, err := validAllowedResources(in.AllowedResources)
	if err != nil {
		return out, err
	}
	out.AllowedResources = resources
	// RFC 7591 §2: "The jwks_uri and jwks parameters MUST NOT both be present".
	if len(in.JWKS) > 0 && in.JWKSURI != "" {
		return out, invalid("jwks", "jwks and jwks_uri must not both be present")
	}
	if len(in.JWKS) > 0 {
		jwks, err := validJWKS(in.JWKS)
		if err != nil {
			return out, err
		}
		out.JWKS = jwks
	}
	if in.JWKSURI != "" {
		if why := s.validFetchURI(in.JWKSURI); why != "" {
			return out, invalid("jwks_uri", "jwks_uri "+quote(in.JWKSURI)+" "+why)
		}
	}
	if len(in.FederatedCredentials) > maxFederatedCredential {
		return out, invalid("federated_credentials", "at most "+itoa(maxFederatedCredential)+" federated credentials")
	}
	out.FederatedCredentials = nil
	for i, fc := range in.FederatedCredentials {
		field := "federated_credentials[" + itoa(int64(i)) + "]"
		if why := validIssuer(fc.Issuer); why != "" {
			return out, invalid("federated_credentials", field+".issuer "+why)
		}
		if fc.Subject == "" || len(fc.Subject) > maxSubjectLength || !printable(fc.Subject) {
			return out, invalid("federated_credentials", field+".subject must be 1 to "+itoa(maxSubjectLength)+" printable characters")
		}
		if len(fc.Audience) > maxSubjectLength || !printable(fc.Audience) {
			return out, invalid("federated_credentials", field+".audience must be at most "+itoa(maxSubjectLength)+" printable characters")
		}
		if fc.JWKSURI != "" {
			if why := s.validFetchURI(fc.JWKSURI); why != "" {
				return out, invalid("federated_credentials", field+".jwks_uri "+why)
			}
		}
		for _, prev := range out.FederatedCredentials {
			if prev.Issuer == fc.Issuer && prev.Subject == fc.Subject && prev.Audience == fc.Audience {
				return out, invalid("federated_credentials", field+" repeats an earlier one")
			}
		}
		out.FederatedCredentials = append(out.FederatedCredentials, fc)
	}
	hasKeys := len(out.JWKS) > 0 || out.JWKSURI != ""
	tlsFields := map[string]string{
		"tls_client_auth_subject_dn": in.TLSClientAuthSubjectDN,
		"tls_client_auth_san_dns":    in.TLSClientAuthSANDNS,
		"tls_client_auth_san_uri":    in.TLSClientAuthSANURI,
		"tls_client_auth_san_ip":     in.TLSClientAuthSANIP,
		"tls_client_auth_san_email":  in.TLSClientAuthSANEmail,
	}
	var tlsSet []string
	for name, v := range tlsFields {
		if v != "" {
			tlsSet = append(tlsSet, name)
			if len(v) > maxSubjectLength || !printable(v) {
				return out, invalid(name, name+" must be at most "+itoa(maxSubjectLength)+" printable characters")
			}
		}
	}
	slices.Sort(tlsSet)
	if in.TLSClientAuthSANIP != "" {
		a, err := netip.ParseAddr(in.TLSClientAuthSANIP)
		if err != nil || a.Zone() != "" {
			return out, invalid("tls_client_auth_san_ip", "tls_client_auth_san_ip must be an IPv4 or IPv6 address")
		}
		out.TLSClientAuthSANIP = a.String()
	}
	if in.TLSClientAuthSANURI != "" {
		if u, err := url.Parse(in.TLSClientAuthSANURI); err != nil || !u.IsAbs() {
			return out, invalid("tls_client_auth_san_uri", "tls_client_auth_san_uri must be an absolute URI")
		}
	}

	switch method {
	case oauth.AuthMethodPrivateKeyJWT:
		// RFC 7523 §2.2 with keys from jwks or jwks_uri, or a workload token
		// named by a federated credential.
		if !hasKeys && len(out.FederatedCredentials) == 0 {
			return out, invalid("jwks", "private_key_jwt needs jwks, jwks_uri or federated_credentials")
		}
	case oauth.AuthMethodSelfSignedTLS:
		// RFC 8705 §2.2: the certificate is matched against the registered keys.
		if !hasKeys {
			return out, invalid("jwks", "self_signed_tls_client_auth needs jwks or jwks_uri holding the certificate's key")
		}
	case oauth.AuthMethodTLS:
		// RFC 8705 §2.1.2: exactly one of the subject parameters.
		if len(tlsSet) != 1 {
			return out, invalid("tls_client_auth_subject_dn", "tls_client_auth needs exactly one of tls_client_auth_subject_dn, _san_dns, _san_uri, _san_ip, _san_email")
		}
	}
	if method != oauth.AuthMethodTLS && len(tlsSet) > 0 {
		return out, invalid(tlsSet[0], tlsSet[0]+" is only for token_endpoint_auth_method tls_client_auth")
	}
	if method != oauth.AuthMethodPrivateKeyJWT && len(out.FederatedCredentials) > 0 {
		return out, invalid("federated_credentials", "federated_credentials need token_endpoint_auth_method private_key_jwt")
	}

	for _, u := range []struct{ name, v string }{
		{"client_uri", in.ClientURI}, {"logo_uri", in.LogoURI}, {"policy_uri", in.PolicyURI}, {"tos_uri", in.TOSURI},
	} {
		if u.v != "" {
			if why := validWebURI(u.v); why != "" {
				return out, invalid(u.name, u.name+" "+why)
			}
		}
	}
	if len(in.Contacts) > maxContacts {
		return out, invalid("contacts", "at most "+itoa(maxContacts)+" contacts")
	}
	for _, c := range in.Contacts {
		if c == "" || len(c) > 254 || !printable(c) {
			return out, invalid("contacts", "each contact must be 1 to 254 printable characters")
		}
	}
	for _, f := range []struct{ name, v string }{{"software_id", in.SoftwareID}, {"software_version", in.SoftwareVersion}} {
		if len(f.v) > 200 || !printable(f.v) {
			return out, invalid(f.name, f.name+" must be at most 200 printable characters")
		}
	}
	if err := validRequestMetadata(out); err != nil {
		return out, err
	}
	return out, nil
}

// validJWKS checks a jwks value: a JWK Set (RFC 7517 §5) of at most
// maxJWKSKeys public keys for signature algorithms authd accepts, with
// distinct key ids. It returns the set compacted.
func validJWKS(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) > maxJWKSBytes {
		return nil, invalid("jwks", "jwks must be at most "+itoa(maxJWKSBytes)+" bytes")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, invalid("jwks", "jwks must be a JWK Set ({\"keys\": [...]}) of valid keys: "+oneLine(err.Error()))
	}
	if len(set.Keys) == 0 || len(set.Keys) > maxJWKSKeys {
		return nil, invalid("jwks", "jwks must hold 1 to "+itoa(maxJWKSKeys)+" keys")
	}
	kids := map[string]bool{}
	for i, k := range set.Keys {
		at := "jwks key " + itoa(int64(i))
		if !k.IsPublic() {
			// A private key sent to a server is a private key leaked.
			return nil, invalid("jwks", at+" is a private or symmetric key; register public keys only")
		}
		if !k.Valid() {
			return nil, invalid("jwks", at+" is not a valid public key")
		}
		if k.Use != "" && k.Use != "sig" {
			return nil, invalid("jwks", at+` has "use" other than "sig"`)
		}
		if k.Algorithm != "" && !slices.Contains(assertionAlgs, k.Algorithm) {
			return nil, invalid("jwks", at+" has alg "+quote(k.Algorithm)+"; supported: "+strings.Join(assertionAlgs, ", "))
		}
		if kids[k.KeyID] && len(set.Keys) > 1 {
			return nil, invalid("jwks", at+" repeats kid "+quote(k.KeyID)+"; keys need distinct kids to be told apart")
		}
		kids[k.KeyID] = true
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, invalid("jwks", "jwks must be JSON")
	}
	return buf.Bytes(), nil
}

// validFetchURI checks a URI authd will fetch (jwks_uri): https, or http on
// loopback when outbound loopback is allowed (tests, single-host setups).
// The fetcher checks the address it resolves to again at connect time.
func (s *Service) validFetchURI(raw string) string {
	if len(raw) > maxURILength {
		return "is too long"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "must be an absolute https URL"
	}
	if u.User != nil {
		return "must not carry credentials"
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "must not contain a fragment"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if s.opts.AllowLoopbackFetch && isLoopbackHost(u.Host) {
			return ""
		}
	}
	return "must be an https URL"
}

// validIssuer checks a trusted issuer identifier: an https URL without query
// or fragment (OpenID Connect Discovery §2; RFC 8414 §2).
func validIssuer(raw string) string {
	if raw == "" || len(raw) > maxURILength {
		return "must be an https URL"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return "must be an https URL without credentials"
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(raw, "?#") {
		return "must not have a query or fragment"
	}
	return ""
}

// validWebURI checks a descriptive URI shown to people: https (or http on
// loopback), no credentials.
func validWebURI(raw string) string {
	if len(raw) > maxURILength {
		return "is too long"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil {
		return "must be an absolute https URL without credentials"
	}
	if u.Scheme == "https" || (u.Scheme == "http" && isLoopbackHost(u.Host)) {
		return ""
	}
	return "must be an https URL"
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
