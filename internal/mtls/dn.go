package mtls

import (
	"encoding/asn1"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A distinguished name as RFC 4514 writes it, and its comparison with a
// certificate's subject. RFC 8705 §2.1 asks for "a predictable treatment of
// DN values, such as the distinguishedNameMatch rule from [RFC4517]"; this is
// that rule (RFC 4517 §4.2.15) with a simplified string preparation:
//
//   - Same number of RDNs, compared by position. The string lists RDNs from
//     the last of the certificate's RDNSequence to the first (RFC 4514 §2.1),
//     so "CN=x,O=y" names a subject whose sequence is O=y then CN=x; a
//     different order is a different name.
//   - Within an RDN ("OU=a+CN=x") the order of attributes does not matter.
//   - Attribute types by OID: a numeric OID or one of the names below, in any
//     case ("cn" is CN).
//   - String values, after RFC 4514 unescaping, have whitespace runs folded
//     to one space and leading and trailing whitespace removed (RFC 4518
//     §2.6.1, insignificant space handling), then compare case-insensitively
//     under Unicode simple folding (the caseIgnoreMatch of almost every
//     attribute a certificate subject uses). There is no NFKC step: values
//     that differ only in Unicode normal form do not match.
//   - A "#hex" value (RFC 4514 §2.4, the BER encoding) is compared as the
//     string it encodes, whatever the string type on either side; one that
//     encodes no directory string is refused (Go's x509 refuses such values
//     in a certificate subject anyway).
//
// Writing the DN: RFC 4514 order, as `openssl x509 -noout -subject -nameopt
// RFC2253` prints it. Go's pkix.Name.String is the same for the usual
// attributes but moves attributes it has no field for to the end of the
// string, whatever their place in the certificate.
//
// The parser accepts spaces around ',', '+' and '=' (RFC 2253 habits), and
// refuses unescaped '"', ';', '<', '>' and escapes of anything RFC 4514 does
// not list, so a registration says exactly one thing.

const (
	maxDNLength = 4096
	maxDNAVAs   = 64
)

type ava struct {
	oid    string // dotted
	value  string // unescaped, or decoded from BER
	normed string // value prepared for comparison
}

type dn [][]ava // RDNs in RFC 4514 string order (last of the sequence first)

var attributeTypes = map[string]string{
	"cn":                     "2.5.4.3",
	"commonname":             "2.5.4.3",
	"sn":                     "2.5.4.4",
	"surname":                "2.5.4.4",
	"serialnumber":           "2.5.4.5",
	"c":                      "2.5.4.6",
	"countryname":            "2.5.4.6",
	"l":                      "2.5.4.7",
	"localityname":           "2.5.4.7",
	"st":                     "2.5.4.8",
	"stateorprovincename":    "2.5.4.8",
	"street":                 "2.5.4.9",
	"streetaddress":          "2.5.4.9",
	"o":                      "2.5.4.10",
	"organizationname":       "2.5.4.10",
	"ou":                     "2.5.4.11",
	"organizationalunitname": "2.5.4.11",
	"title":                  "2.5.4.12",
	"postalcode":             "2.5.4.17",
	"gn":                     "2.5.4.42",
	"givenname":              "2.5.4.42",
	"initials":               "2.5.4.43",
	"generationqualifier":    "2.5.4.44",
	"dnqualifier":            "2.5.4.46",
	"pseudonym":              "2.5.4.65",
	"organizationidentifier": "2.5.4.97",
	"uid":                    "0.9.2342.19200300.100.1.1",
	"dc":                     "0.9.2342.19200300.100.1.25",
	"emailaddress":           "1.2.840.113549.1.9.1",
	"e":                      "1.2.840.113549.1.9.1",
}

// parseDN parses an RFC 4514 §3 distinguished name. The empty string is the
// empty DN.
func parseDN(s string) (dn, error) {
	if len(s) > maxDNLength {
		return nil, errDN("longer than 4096 bytes")
	}
	if !utf8.ValidString(s) {
		return nil, errDN("not UTF-8")
	}
	if strings.TrimSpace(s) == "" {
		return dn{}, nil
	}
	p := dnParser{s: s}
	var out dn
	var rdn []ava
	n := 0
	for {
		a, err := p.ava()
		if err != nil {
			return nil, err
		}
		if n++; n > maxDNAVAs {
			return nil, errDN("too many attributes")
		}
		rdn = append(rdn, a)
		p.skipSpace()
		if p.i == len(p.s) {
			return append(out, rdn), nil
		}
		switch p.s[p.i] {
		case '+':
			p.i++
		case ',':
			p.i++
			out = append(out, rdn)
			rdn = nil
		default:
			return nil, errDN("unexpected " + quote(p.s[p.i:p.i+1]))
		}
	}
}

type dnParser struct {
	s string
	i int
}

func (p *dnParser) skipSpace() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *dnParser) ava() (ava, error) {
	p.skipSpace()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '=' && p.s[p.i] != ' ' && p.s[p.i] != ',' && p.s[p.i] != '+' {
		p.i++
	}
	oid, ok := attributeOID(p.s[start:p.i])
	if !ok {
		return ava{}, errDN("unknown attribute type " + quote(p.s[start:p.i]))
	}
	p.skipSpace()
	if p.i == len(p.s) || p.s[p.i] != '=' {
		return ava{}, errDN("attribute without '='")
	}
	p.i++
	p.skipSpace()
	a := ava{oid: oid}
	if p.i < len(p.s) && p.s[p.i] == '#' {
		p.i++
		start := p.i
		for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != '+' && p.s[p.i] != ' ' {
			p.i++
		}
		ber, err := hex.DecodeString(p.s[start:p.i])
		if err != nil || len(ber) == 0 {
			return ava{}, errDN("bad #hex value")
		}
		var rv asn1.RawValue
		if rest, err := asn1.Unmarshal(ber, &rv); err != nil || len(rest) != 0 {
			return ava{}, errDN("#hex value is not one BER element")
		}
		v, ok := berString(rv)
		if !ok {
			return ava{}, errDN("#hex value is not a directory string")
		}
		a.value = v
	} else {
		var b []byte
		for p.i < len(p.s) {
			c := p.s[p.i]
			if c == ',' || c == '+' {
				break
			}
			switch c {
			case '"', ';', '<', '>':
				return ava{}, errDN(quote(string(c)) + " must be escaped")
			case '\\':
				if p.i+1 == len(p.s) {
					return ava{}, errDN("escape at the end")
				}
				if p.i+2 < len(p.s) && isHex(p.s[p.i+1]) && isHex(p.s[p.i+2]) {
					x, _ := hex.DecodeString(p.s[p.i+1 : p.i+3])
					b = append(b, x[0])
					p.i += 3
					continue
				}
				if !strings.ContainsRune(`\ "#+,;<=>`, rune(p.s[p.i+1])) {
					return ava{}, errDN("escape of " + quote(p.s[p.i+1:p.i+2]))
				}
				b = append(b, p.s[p.i+1])
				p.i += 2
				continue
			}
			b = append(b, c)
			p.i++
		}
		if !utf8.Valid(b) {
			return ava{}, errDN("escaped value is not UTF-8")
		}
		a.value = string(b)
	}
	a.normed = foldSpace(a.value)
	return a, nil
}

func attributeOID(t string) (string, bool) {
	if t == "" {
		return "", false
	}
	if t[0] >= '0' && t[0] <= '9' {
		return t, validOID(t)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '-')) {
			return "", false
		}
	}
	oid, ok := attributeTypes[strings.ToLower(t)]
	return oid, ok
}

// validOID: RFC 4512 §1.4 numericoid, number *( "." number ), no leading zeros.
func validOID(t string) bool {
	parts := 0
	for p := range strings.SplitSeq(t, ".") {
		if p == "" || len(p) > 1 && p[0] == '0' || len(p) > 20 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
		parts++
	}
	return parts >= 2
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// foldSpace is insignificant space handling: whitespace runs become one
// space, none at either end.
func foldSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// berString decodes a directory string value (RFC 5280 §4.1.2.4 DirectoryString
// and the IA5, Numeric and Printable strings some attributes use).
func berString(rv asn1.RawValue) (string, bool) {
	if rv.Class != asn1.ClassUniversal || rv.IsCompound {
		return "", false
	}
	switch rv.Tag {
	case asn1.TagUTF8String, asn1.TagPrintableString, asn1.TagIA5String, asn1.TagNumericString, asn1.TagT61String, asn1.TagBMPString:
		var s string
		if _, err := asn1.Unmarshal(rv.FullBytes, &s); err != nil {
			return "", false
		}
		return s, true
	}
	return "", false
}

// The certificate side: the subject as encoded, so no attribute, order or
// string type is lost to pkix.Name.
type rawATV struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}
type rawRDNSET []rawATV // encoding/asn1 decodes a type named *SET as SET OF
type rawRDNSequence []rawRDNSET

// subjectDN parses a certificate's RawSubject into string order.
func subjectDN(raw []byte) (dn, error) {
	var seq rawRDNSequence
	rest, err := asn1.Unmarshal(raw, &seq)
	if err != nil || len(rest) != 0 {
		return nil, errDN("certificate subject does not parse")
	}
	out := make(dn, len(seq))
	for i, rdn := range seq {
		r := make([]ava, len(rdn))
		for j, atv := range rdn {
			// Go's x509 refuses a subject with a value that is not a
			// string, so this holds for any parsed certificate.
			v, ok := berString(atv.Value)
			if !ok {
				return nil, errDN("certificate subject holds a value that is not a string")
			}
			r[j] = ava{oid: atv.Type.String(), value: v, normed: foldSpace(v)}
		}
		out[len(seq)-1-i] = r // RFC 4514 §2.1: last RDN first
	}
	return out, nil
}

// matchDN is distinguishedNameMatch as described above.
func matchDN(want, got dn) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if !matchRDN(want[i], got[i]) {
			return false
		}
	}
	return true
}

func matchRDN(want, got []ava) bool {
	if len(want) != len(got) {
		return false
	}
	var used [maxDNAVAs]bool
	if len(got) > maxDNAVAs {
		return false
	}
	// The match is an equivalence, so pairing greedily finds a pairing
	// whenever one exists.
	for _, w := range want {
		found := false
		for j, g := range got {
			if !used[j] && matchAVA(w, g) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func matchAVA(w, g ava) bool {
	return w.oid == g.oid && strings.EqualFold(w.normed, g.normed)
}

type dnError string

func (e dnError) Error() string { return "distinguished name: " + string(e) }

func errDN(s string) error { return dnError(s) }
