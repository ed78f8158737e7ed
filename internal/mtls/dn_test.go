package mtls

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestParseDN(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    [][]string // per RDN, "oid=value"
		wantErr bool
	}{
		{"plain", "CN=client,O=Example,C=US", [][]string{{"2.5.4.3=client"}, {"2.5.4.10=Example"}, {"2.5.4.6=US"}}, false},
		{"spaces around separators", " cn = client , o=Example ", [][]string{{"2.5.4.3=client"}, {"2.5.4.10=Example"}}, false},
		{"escaped comma", `O=Example\, Inc.`, [][]string{{"2.5.4.10=Example, Inc."}}, false},
		{"hex-escaped comma", `O=Example\2C Inc.`, [][]string{{"2.5.4.10=Example, Inc."}}, false},
		{"escaped specials", `CN=\"a\+b\;c\<d\>e\=f\\g\#`, [][]string{{`2.5.4.3="a+b;c<d>e=f\g#`}}, false},
		{"UTF-8 by hex escapes", `CN=Zo\C3\AB`, [][]string{{"2.5.4.3=Zoë"}}, false},
		{"UTF-8 as is", `CN=Zoë`, [][]string{{"2.5.4.3=Zoë"}}, false},
		{"unescaped = and inner #", `CN=a=b#c`, [][]string{{"2.5.4.3=a=b#c"}}, false},
		{"#hex of a UTF8String", "CN=#0C06636C69656E74", [][]string{{"2.5.4.3=client"}}, false},
		{"numeric OID", "2.5.4.3=client", [][]string{{"2.5.4.3=client"}}, false},
		{"multi-valued RDN", "CN=a+UID=42,DC=example", [][]string{{"2.5.4.3=a", "0.9.2342.19200300.100.1.1=42"}, {"0.9.2342.19200300.100.1.25=example"}}, false},
		{"emailAddress and E", "E=a@example.com,emailAddress=b@example.com", [][]string{{"1.2.840.113549.1.9.1=a@example.com"}, {"1.2.840.113549.1.9.1=b@example.com"}}, false},
		{"empty value", "CN=", [][]string{{"2.5.4.3="}}, false},
		{"empty DN", "", [][]string{}, false},
		{"no =", "CN", nil, true},
		{"unescaped ;", "CN=a;O=b", nil, true},
		{"unescaped quote", `CN=a"b`, nil, true},
		{"unescaped <", "CN=a<b", nil, true},
		{"unknown type", "XX=a", nil, true},
		{"type with a bad character", "C N=a", nil, true},
		{"OID with leading zero", "2.05.4.3=a", nil, true},
		{"OID of one arc", "2=a", nil, true},
		{"no type", "=a", nil, true},
		{"escape at the end", `CN=a\`, nil, true},
		{"escape of a plain letter", `CN=\q`, nil, true},
		{"hex escapes that are not UTF-8", `CN=\FF\FE`, nil, true},
		{"bad #hex", "CN=#zz", nil, true},
		{"empty #hex", "CN=#", nil, true},
		{"#hex not one element", "CN=#0C0161FF", nil, true},
		{"#hex not a string", "CN=#020105", nil, true},
		{"empty RDN", "CN=a,,O=b", nil, true},
		{"trailing comma", "CN=a,", nil, true},
		{"not UTF-8", "CN=\xff", nil, true},
		{"too long", "CN=" + strings.Repeat("a", maxDNLength), nil, true},
		{"too many attributes", strings.Repeat("CN=a,", maxDNAVAs) + "CN=a", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDN(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parsed as %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d RDNs, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, rdn := range got {
				if len(rdn) != len(tc.want[i]) {
					t.Fatalf("RDN %d: %+v, want %v", i, rdn, tc.want[i])
				}
				for j, a := range rdn {
					if s := a.oid + "=" + a.normed; s != tc.want[i][j] {
						t.Fatalf("RDN %d AVA %d = %q, want %q", i, j, s, tc.want[i][j])
					}
				}
			}
		})
	}
}

// atv builds one attribute of a certificate subject with an explicit string type.
type atv struct {
	oid   asn1.ObjectIdentifier
	tag   int
	value string
}

var (
	oidCN    = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidC     = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidO     = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU    = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidUID   = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	oidEmail = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

// rawSubject encodes RDNs given in sequence order (the reverse of RFC 4514's).
func rawSubject(t testing.TB, rdns ...[]atv) []byte {
	t.Helper()
	var seq rawRDNSequence
	for _, rdn := range rdns {
		var set rawRDNSET
		for _, a := range rdn {
			v := asn1.RawValue{Class: asn1.ClassUniversal, Tag: a.tag, Bytes: []byte(a.value)}
			if a.tag == asn1.TagBMPString {
				var b []byte
				for _, u := range utf16.Encode([]rune(a.value)) {
					b = append(b, byte(u>>8), byte(u))
				}
				v.Bytes = b
			}
			set = append(set, rawATV{Type: a.oid, Value: v})
		}
		seq = append(seq, set)
	}
	der, err := asn1.Marshal(seq)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestMatchDN(t *testing.T) {
	root := newCA(t, "root")
	issue := func(subject []byte) *x509.Certificate {
		c, _ := root.issue(t, &x509.Certificate{RawSubject: subject})
		return c
	}
	plain := issue(rawSubject(t,
		[]atv{{oid: oidC, tag: asn1.TagPrintableString, value: "US"}},
		[]atv{{oid: oidO, tag: asn1.TagUTF8String, value: "Example Corp"}},
		[]atv{{oid: oidOU, tag: asn1.TagUTF8String, value: "Payments"}},
		[]atv{{oid: oidCN, tag: asn1.TagUTF8String, value: "client-1"}},
	))
	multi := issue(rawSubject(t,
		[]atv{{oid: oidO, tag: asn1.TagUTF8String, value: "Example"}},
		[]atv{{oid: oidCN, tag: asn1.TagUTF8String, value: "client"}, {oid: oidUID, tag: asn1.TagUTF8String, value: "42"}},
	))
	types := issue(rawSubject(t,
		[]atv{{oid: oidC, tag: asn1.TagPrintableString, value: "FR"}},
		[]atv{{oid: oidEmail, tag: asn1.TagIA5String, value: "Ops@Example.com"}},
		[]atv{{oid: oidCN, tag: asn1.TagBMPString, value: "Zoë  Ünal"}},
	))
	other := issue(rawSubject(t,
		[]atv{{oid: oidO, tag: asn1.TagUTF8String, value: "Example, Inc."}},
		[]atv{{oid: asn1.ObjectIdentifier{1, 2, 3, 4}, tag: asn1.TagUTF8String, value: "opaque"}},
	))
	tests := []struct {
		name string
		cert *x509.Certificate
		dn   string
		want bool
	}{
		{"exact", plain, "CN=client-1,OU=Payments,O=Example Corp,C=US", true},
		{"attribute types in any case", plain, "cn=client-1,ou=Payments,o=Example Corp,c=US", true},
		{"long attribute names", plain, "commonName=client-1,organizationalUnitName=Payments,organizationName=Example Corp,countryName=US", true},
		{"values in any case", plain, "CN=CLIENT-1,OU=payments,O=example corp,C=us", true},
		{"insignificant spaces", plain, "CN = client-1 , OU=Payments,  O= Example   Corp ,C=US", true},
		{"numeric OIDs", plain, "2.5.4.3=client-1,2.5.4.11=Payments,2.5.4.10=Example Corp,2.5.4.6=US", true},
		{"#hex of a UTF8String against a PrintableString", plain, "CN=client-1,OU=Payments,O=Example Corp,C=#0C025553", true},
		{"sequence order (RDNs reversed)", plain, "C=US,O=Example Corp,OU=Payments,CN=client-1", false},
		{"two RDNs swapped", plain, "CN=client-1,O=Example Corp,OU=Payments,C=US", false},
		{"an RDN missing", plain, "CN=client-1,O=Example Corp,C=US", false},
		{"an RDN more", plain, "CN=client-1,OU=Payments,O=Example Corp,L=Paris,C=US", false},
		{"wrong value", plain, "CN=client-2,OU=Payments,O=Example Corp,C=US", false},
		{"value with a space more inside a word", plain, "CN=client -1,OU=Payments,O=Example Corp,C=US", false},
		{"right value, wrong type", plain, "O=client-1,OU=Payments,O=Example Corp,C=US", false},
		{"only the CN", plain, "CN=client-1", false},
		{"multi-valued RDN", multi, "CN=client+UID=42,O=Example", true},
		{"multi-valued RDN in other order", multi, "UID=42+CN=client,O=Example", true},
		{"multi-valued RDN split", multi, "CN=client,UID=42,O=Example", false},
		{"multi-valued RDN part only", multi, "CN=client,O=Example", false},
		{"multi-valued RDN with a duplicate", multi, "CN=client+CN=client,O=Example", false},
		{"BMPString, IA5String, Unicode case", types, "CN=ZOË ÜNAL,E=ops@example.COM,C=fr", true},
		{"Unicode value differs", types, "CN=Zoe Unal,E=ops@example.com,C=FR", false},
		{"escaped comma, unnamed attribute", other, `1.2.3.4=opaque,O=Example\, Inc.`, true},
		{"unnamed attribute as #hex", other, `1.2.3.4=#0C066F7061717565,O=Example\, Inc.`, true},
		{"value without its final dot", other, `1.2.3.4=opaque,O=Example\, Inc`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := parseDN(tc.dn)
			if err != nil {
				t.Fatal(err)
			}
			got, err := subjectDN(tc.cert.RawSubject)
			if err != nil {
				t.Fatal(err)
			}
			if m := matchDN(want, got); m != tc.want {
				t.Fatalf("match = %v, want %v (cert %s)", m, tc.want, tc.cert.Subject)
			}
		})
	}
}

// What Go writes for a subject (pkix.Name.String, RFC 4514 style) matches
// that subject: the string an operator is most likely to paste.
func TestMatchDNGoString(t *testing.T) {
	root := newCA(t, "root")
	names := []pkix.Name{
		{CommonName: "client"},
		{CommonName: "client", Organization: []string{"Example, Inc."}, Country: []string{"US"}},
		{CommonName: " lead space", OrganizationalUnit: []string{"a+b", "#c"}, Locality: []string{`back\slash`}},
		{SerialNumber: "1234", Province: []string{"Île-de-France"}, StreetAddress: []string{"1 rue \"X\""}, PostalCode: []string{"75001"}},
	}
	for _, n := range names {
		t.Run(n.String(), func(t *testing.T) {
			c, _ := root.issue(t, &x509.Certificate{Subject: n})
			want, err := parseDN(c.Subject.String())
			if err != nil {
				t.Fatal(err)
			}
			got, err := subjectDN(c.RawSubject)
			if err != nil {
				t.Fatal(err)
			}
			if !matchDN(want, got) {
				t.Fatalf("%s does not match its own certificate", c.Subject)
			}
		})
	}
}
