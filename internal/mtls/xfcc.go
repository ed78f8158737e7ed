package mtls

import (
	"crypto/x509"
	"strings"
)

// xfccElement is one element of an x-forwarded-client-cert header: what one
// proxy said of the certificate presented to it. Values are unquoted but not
// percent-decoded.
type xfccElement struct {
	by, hash, cert, chain, subject, uri string
	dns                                 []string
}

// lastXFCCElement returns the element the nearest proxy wrote. Envoy appends
// its element to the end of the header (and a proxy configured to sanitize
// first replaces the header with it), so the last element is the one written
// by the trusted peer; anything to its left came from further away, possibly
// from the client, and is never read for a certificate. The whole header must
// parse all the same: an unbalanced quote to the left could otherwise decide
// where the last element starts. Several header lines are one comma-separated
// list (RFC 9110 §5.3), so the last element of the last line is the nearest.
func lastXFCCElement(lines []string) (xfccElement, error) {
	if len(lines) == 0 || (len(lines) == 1 && strings.Trim(lines[0], " \t") == "") {
		return xfccElement{}, ErrNoCertificate
	}
	var last xfccElement
	n := 0
	for _, line := range lines {
		if strings.Trim(line, " \t") == "" {
			return xfccElement{}, fail(kindMalformed, "XFCC: empty header line")
		}
		err := parseXFCC(line, func(el xfccElement) bool {
			n++
			last = el
			return n <= maxXFCCElements
		})
		if err != nil {
			return xfccElement{}, err
		}
		if n > maxXFCCElements {
			return xfccElement{}, fail(kindMalformed, "XFCC: too many elements")
		}
	}
	return last, nil
}

// certificates decodes the element's certificate: Cert, or else the first of
// Chain; the rest of Chain are intermediates. An element without either is a
// proxy that had no client certificate to report.
func (el *xfccElement) certificates() ([]*x509.Certificate, error) {
	if el.cert == "" && el.chain == "" {
		return nil, ErrNoCertificate
	}
	var certs []*x509.Certificate
	if el.cert != "" {
		c, err := parseEscapedPEM(el.cert)
		if err != nil {
			return nil, err
		}
		if len(c) != 1 {
			return nil, fail(kindMalformed, "XFCC: Cert holds more than one certificate")
		}
		certs = c
	}
	if el.chain != "" {
		chain, err := parseEscapedPEM(el.chain)
		if err != nil {
			return nil, err
		}
		if certs == nil {
			return chain, nil
		}
		for _, c := range chain {
			if !c.Equal(certs[0]) { // Envoy's Chain includes the leaf
				certs = append(certs, c)
			}
		}
		if len(certs) > maxChain {
			return nil, fail(kindMalformed, "XFCC: too many certificates")
		}
	}
	return certs, nil
}

// parseXFCC parses an x-forwarded-client-cert header value, as Envoy
// documents it: elements separated by ',', key=value pairs by ';', a value
// containing ',', ';' or '=' in double quotes with '"' escaped as '\"'. It
// calls yield for each element in order and stops early when yield returns
// false (which is not an error: the caller caps what it reads).
//
// It is strict where leniency would let a value smuggle a pair: a quote may
// only open a value and must close it right before ';', ',' or the end; a pair
// must have a key and '='; By, Hash, Cert, Chain, Subject and URI may appear
// once per element (a second Cert could otherwise come from inside a
// certificate's own URI SAN, if a proxy failed to quote it). Unknown keys are
// skipped. Keys are matched without regard to case.
func parseXFCC(v string, yield func(xfccElement) bool) error {
	if len(v) > MaxHeaderBytes {
		return fail(kindMalformed, "XFCC over the size cap")
	}
	var el xfccElement
	var seen uint8
	pairs := 0
	i := 0
	for {
		i = skipOWS(v, i)
		// key
		k := i
		for i < len(v) && isKeyChar(v[i]) {
			i++
		}
		key := v[k:i]
		if key == "" || i == len(v) || v[i] != '=' {
			return fail(kindMalformed, "XFCC: pair without key=")
		}
		i++
		// value
		var val string
		if i < len(v) && v[i] == '"' {
			var err error
			if val, i, err = quotedValue(v, i); err != nil {
				return err
			}
			i = skipOWS(v, i)
		} else {
			s := i
			for i < len(v) && v[i] != ';' && v[i] != ',' {
				if v[i] == '"' || v[i] == '\\' {
					return fail(kindMalformed, "XFCC: quote inside an unquoted value")
				}
				i++
			}
			val = strings.TrimRight(v[s:i], " \t")
		}
		if pairs++; pairs > maxXFCCPairs {
			return fail(kindMalformed, "XFCC: too many pairs in one element")
		}
		if err := el.set(key, val, &seen); err != nil {
			return err
		}
		if i == len(v) {
			yield(el)
			return nil
		}
		switch v[i] {
		case ';':
			i++
		case ',':
			if !yield(el) {
				return nil
			}
			el, seen, pairs = xfccElement{}, 0, 0
			i++
		default:
			return fail(kindMalformed, "XFCC: text after a quoted value")
		}
	}
}

func (el *xfccElement) set(key, val string, seen *uint8) error {
	var dst *string
	var bit uint8
	switch {
	case strings.EqualFold(key, "By"):
		dst, bit = &el.by, 1
	case strings.EqualFold(key, "Hash"):
		dst, bit = &el.hash, 2
	case strings.EqualFold(key, "Cert"):
		dst, bit = &el.cert, 4
	case strings.EqualFold(key, "Chain"):
		dst, bit = &el.chain, 8
	case strings.EqualFold(key, "Subject"):
		dst, bit = &el.subject, 16
	case strings.EqualFold(key, "URI"):
		dst, bit = &el.uri, 32
	case strings.EqualFold(key, "DNS"):
		el.dns = append(el.dns, val)
		return nil
	default:
		return nil
	}
	if *seen&bit != 0 {
		return fail(kindMalformed, "XFCC: "+key+" twice in one element")
	}
	*seen |= bit
	*dst = val
	return nil
}

// quotedValue reads the quoted string starting at v[i] == '"' and returns it
// unescaped ('\x' is x) with the index after the closing quote.
func quotedValue(v string, i int) (string, int, error) {
	i++
	s := i
	var b *strings.Builder
	for i < len(v) {
		switch v[i] {
		case '"':
			if b == nil {
				return v[s:i], i + 1, nil
			}
			b.WriteString(v[s:i])
			return b.String(), i + 1, nil
		case '\\':
			if i+1 == len(v) {
				return "", 0, fail(kindMalformed, "XFCC: unterminated escape")
			}
			if b == nil {
				b = &strings.Builder{}
			}
			b.WriteString(v[s:i])
			b.WriteByte(v[i+1])
			i += 2
			s = i
		default:
			i++
		}
	}
	return "", 0, fail(kindMalformed, "XFCC: unterminated quote")
}

func skipOWS(v string, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	return i
}

func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
