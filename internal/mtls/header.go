package mtls

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"net/url"
	"strings"
)

// parseEscapedPEM reads a URL-escaped PEM certificate, as nginx's
// $ssl_client_escaped_cert and Envoy's XFCC Cert and Chain write it: the
// leaf first, then any intermediates, nothing else. Percent-decoding is RFC
// 3986's, not a form's: a '+' in base64 stays a '+'.
func parseEscapedPEM(v string) ([]*x509.Certificate, error) {
	if len(v) > MaxHeaderBytes {
		return nil, fail(kindMalformed, "escaped PEM over the size cap")
	}
	s, err := url.PathUnescape(v)
	if err != nil {
		return nil, fail(kindMalformed, "escaped PEM: bad percent-encoding")
	}
	rest := []byte(s)
	var certs []*x509.Certificate
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) == 0 {
			break
		}
		// pem.Decode skips whatever precedes a block; we do not.
		if !bytes.HasPrefix(rest, []byte("-----BEGIN ")) {
			return nil, fail(kindMalformed, "escaped PEM: data outside a PEM block")
		}
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil || b.Type != "CERTIFICATE" || len(b.Headers) != 0 {
			return nil, fail(kindMalformed, "escaped PEM: not a CERTIFICATE block")
		}
		if len(certs) == maxChain {
			return nil, fail(kindMalformed, "escaped PEM: too many certificates")
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fail(kindMalformed, "escaped PEM: certificate does not parse")
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fail(kindMalformed, "escaped PEM: no certificate")
	}
	return certs, nil
}

// fromRFC9440 reads Client-Cert and Client-Cert-Chain (RFC 9440 §2): each
// certificate a structured-field byte sequence (RFC 8941 §3.3.5), the chain a
// list of them.
func (s *Source) fromRFC9440(leaf, chain []string) (*Certificate, error) {
	if err := checkSize(leaf, chain); err != nil {
		return nil, err
	}
	if len(leaf) == 0 || (len(leaf) == 1 && strings.Trim(leaf[0], " \t") == "") {
		return nil, ErrNoCertificate
	}
	if len(leaf) > 1 {
		return nil, fail(kindMalformed, "Client-Cert sent more than once")
	}
	c, err := parseByteSequenceCert(leaf[0])
	if err != nil {
		return nil, err
	}
	out := &Certificate{Leaf: c, Verified: s.proxyVerified, FromProxy: true}
	for _, line := range chain {
		for item := range strings.SplitSeq(line, ",") {
			if len(out.Intermediates)+1 == maxChain {
				return nil, fail(kindMalformed, "Client-Cert-Chain: too many certificates")
			}
			c, err := parseByteSequenceCert(item)
			if err != nil {
				return nil, err
			}
			out.Intermediates = append(out.Intermediates, c)
		}
	}
	return out, nil
}

func parseByteSequenceCert(item string) (*x509.Certificate, error) {
	item = strings.Trim(item, " \t")
	if len(item) < 2 || item[0] != ':' || item[len(item)-1] != ':' {
		return nil, fail(kindMalformed, "Client-Cert: not a byte sequence")
	}
	b64 := item[1 : len(item)-1]
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		// RFC 8941 §4.2.7: parsers may accept missing padding.
		if der, err = base64.RawStdEncoding.DecodeString(b64); err != nil {
			return nil, fail(kindMalformed, "Client-Cert: bad base64")
		}
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fail(kindMalformed, "Client-Cert: certificate does not parse")
	}
	return c, nil
}

// hashMatches compares an XFCC Hash (hex SHA-256 of the DER) with cert.
func hashMatches(cert *x509.Certificate, h string) bool {
	sum := sha256.Sum256(cert.Raw)
	var b [2 * sha256.Size]byte
	hex.Encode(b[:], sum[:])
	return strings.EqualFold(string(b[:]), h)
}
