package mtls

import (
	"net/mail"
	"net/netip"
	"net/url"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Metadata is a client's RFC 8705 registration metadata (§2.1.2, §3.4),
// with the RFC 7591 member names, to be embedded in the client's metadata.
// token_endpoint_auth_method and jwks/jwks_uri belong to RFC 7591 and other
// methods too, so they stay with the embedding struct and are passed to
// Validate and Verifier.Authenticate.
type Metadata struct {
	SubjectDN string `json:"tls_client_auth_subject_dn,omitempty"`
	SANDNS    string `json:"tls_client_auth_san_dns,omitempty"`
	SANURI    string `json:"tls_client_auth_san_uri,omitempty"`
	SANIP     string `json:"tls_client_auth_san_ip,omitempty"`
	SANEmail  string `json:"tls_client_auth_san_email,omitempty"`
	// CertificateBoundAccessTokens is the client's intention to use
	// certificate-bound access tokens (§3.4; default false). Any client may
	// ask, public ones included (§4).
	CertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
}

// InvalidMetadata is metadata that cannot be registered (RFC 7591 §3.2.2
// invalid_client_metadata). Reason is fit to show the caller.
type InvalidMetadata struct {
	Field  string
	Reason string
}

func (e *InvalidMetadata) Error() string { return "mtls: invalid " + e.Field + ": " + e.Reason }

func invalid(field, reason string) error { return &InvalidMetadata{Field: field, Reason: reason} }

func (m *Metadata) subjectFields() int {
	n := 0
	for _, s := range []string{m.SubjectDN, m.SANDNS, m.SANURI, m.SANIP, m.SANEmail} {
		if s != "" {
			n++
		}
	}
	return n
}

const maxSubjectValue = 2000

// Validate checks m for a client registered with token_endpoint_auth_method
// method, jwks keys (nil if none) and jwks_uri jwksURI ("" if none).
//
//   - tls_client_auth: exactly one tls_client_auth_* member, well formed
//     (RFC 8705 §2.1.2: "MUST use exactly one").
//   - self_signed_tls_client_auth: no tls_client_auth_* member, and jwks or
//     jwks_uri but not both (§2.2.2; RFC 7591 §2); jwks must hold public keys
//     only, at least one of them usable for signatures.
//   - any other method: no tls_client_auth_* member; they would say nothing.
//
// Errors: *InvalidMetadata.
func (m *Metadata) Validate(method string, keys *jose.JSONWebKeySet, jwksURI string) error {
	n := m.subjectFields()
	switch method {
	case MethodTLSClientAuth:
		if n != 1 {
			return invalid("tls_client_auth_subject_dn", "tls_client_auth needs exactly one of tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip, tls_client_auth_san_email")
		}
		return m.validateSubject()
	case MethodSelfSignedTLSClientAuth:
		if n != 0 {
			return invalid("tls_client_auth_subject_dn", "tls_client_auth_* members are for tls_client_auth only")
		}
		switch {
		case keys != nil && jwksURI != "":
			return invalid("jwks", "jwks and jwks_uri must not both be present")
		case keys == nil && jwksURI == "":
			return invalid("jwks", "self_signed_tls_client_auth needs jwks or jwks_uri")
		case jwksURI != "":
			u, err := url.Parse(jwksURI)
			if err != nil || u.Scheme != "https" || u.Host == "" || u.Fragment != "" || len(jwksURI) > maxSubjectValue {
				return invalid("jwks_uri", "jwks_uri must be an absolute https URL without fragment")
			}
			return nil
		}
		usable := 0
		for i := range keys.Keys {
			k := &keys.Keys[i]
			if !k.IsPublic() {
				return invalid("jwks", "jwks must hold public keys only")
			}
			if k.Use != "enc" && k.Valid() {
				usable++
			}
		}
		if usable == 0 {
			return invalid("jwks", "jwks holds no key usable for authentication")
		}
		return nil
	default:
		if n != 0 {
			return invalid("tls_client_auth_subject_dn", "tls_client_auth_* members are for tls_client_auth only")
		}
		return nil
	}
}

func (m *Metadata) validateSubject() error {
	for _, f := range []struct{ name, value string }{
		{"tls_client_auth_subject_dn", m.SubjectDN}, {"tls_client_auth_san_dns", m.SANDNS},
		{"tls_client_auth_san_uri", m.SANURI}, {"tls_client_auth_san_ip", m.SANIP},
		{"tls_client_auth_san_email", m.SANEmail},
	} {
		if len(f.value) > maxSubjectValue {
			return invalid(f.name, "must be at most 2000 bytes")
		}
	}
	switch {
	case m.SubjectDN != "":
		d, err := parseDN(m.SubjectDN)
		if err != nil {
			return invalid("tls_client_auth_subject_dn", "not an RFC 4514 distinguished name: "+err.Error())
		}
		if len(d) == 0 {
			return invalid("tls_client_auth_subject_dn", "the empty DN names no one")
		}
	case m.SANDNS != "":
		if !validDNSName(m.SANDNS) {
			return invalid("tls_client_auth_san_dns", "not a DNS name (use the A-label of an internationalised name)")
		}
	case m.SANURI != "":
		if _, ok := normURI(m.SANURI); !ok || !printableASCII(m.SANURI) {
			return invalid("tls_client_auth_san_uri", "not an absolute URI")
		}
	case m.SANIP != "":
		a, err := netip.ParseAddr(m.SANIP)
		if err != nil || a.Zone() != "" {
			return invalid("tls_client_auth_san_ip", "not an IPv4 or IPv6 address")
		}
	case m.SANEmail != "":
		a, err := mail.ParseAddress(m.SANEmail)
		if err != nil || a.Address != m.SANEmail || a.Name != "" || !printableASCII(m.SANEmail) {
			return invalid("tls_client_auth_san_email", "not an email address (addr-spec, ASCII)")
		}
	}
	return nil
}

// validDNSName accepts what a dNSName SAN holds (RFC 5280 §4.2.1.6, IA5):
// LDH labels, '_' tolerated, a leading "*." wildcard label, an optional
// trailing dot.
func validDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for i, l := range strings.Split(s, ".") {
		if i == 0 && l == "*" {
			continue
		}
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for j := 0; j < len(l); j++ {
			c := l[j]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// ValidateEndpointAliases checks authorization server metadata's
// mtls_endpoint_aliases (RFC 8705 §5): endpoint parameter names, as at the
// top level of the metadata ("token_endpoint", ...), to absolute https URLs.
// Errors: *InvalidMetadata naming the bad entry.
func ValidateEndpointAliases(aliases map[string]string) error {
	for k, v := range aliases {
		if !strings.HasSuffix(k, "_endpoint") || !isEndpointName(k) {
			return &InvalidMetadata{Field: "mtls_endpoint_aliases", Reason: quote(k) + " is not an endpoint metadata parameter"}
		}
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.Fragment != "" || u.User != nil {
			return &InvalidMetadata{Field: "mtls_endpoint_aliases", Reason: k + " must be an absolute https URL without fragment or userinfo"}
		}
	}
	return nil
}

func isEndpointName(k string) bool {
	for i := 0; i < len(k); i++ {
		if !(k[i] >= 'a' && k[i] <= 'z' || k[i] == '_') {
			return false
		}
	}
	return true
}
