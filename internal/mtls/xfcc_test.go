package mtls

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func parseAll(v string) ([]xfccElement, error) {
	var out []xfccElement
	err := parseXFCC(v, func(el xfccElement) bool { out = append(out, el); return true })
	return out, err
}

func TestParseXFCC(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []xfccElement
		wantErr bool
	}{
		{
			name: "Envoy's documented example",
			in:   `By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com`,
			want: []xfccElement{{by: "http://frontend.lyft.com", hash: "468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688", subject: "/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client", uri: "http://testclient.lyft.com"}},
		},
		{
			name: "two elements, DNS repeated",
			in:   `By=spiffe://a;Cert="x";DNS=a.example;DNS=b.example,By=spiffe://b;URI=spiffe://c`,
			want: []xfccElement{{by: "spiffe://a", cert: "x", dns: []string{"a.example", "b.example"}}, {by: "spiffe://b", uri: "spiffe://c"}},
		},
		{
			name: "quoted commas, semicolons, equals and escaped quotes",
			in:   `Subject="CN=a,O=b;c=\"d\"";URI="spiffe://x/y?a=b,c"`,
			want: []xfccElement{{subject: `CN=a,O=b;c="d"`, uri: "spiffe://x/y?a=b,c"}},
		},
		{
			name: "unquoted value with '='",
			in:   `URI=spiffe://x/y?a=b`,
			want: []xfccElement{{uri: "spiffe://x/y?a=b"}},
		},
		{
			name: "keys in any case, unknown keys skipped, spaces around separators",
			in:   ` by=p ; CERT="c" ; X-Future=1 , hash=h`,
			want: []xfccElement{{by: "p", cert: "c"}, {hash: "h"}},
		},
		{name: "empty value", in: `Cert=;By=x`, want: []xfccElement{{by: "x"}}},
		{name: "Cert twice in one element", in: `Cert=a;Cert=b`, wantErr: true},
		{name: "Cert twice, other case", in: `Cert=a;cert=b`, wantErr: true},
		{name: "Cert smuggled in an unquoted URI", in: `Cert=real;URI=spiffe://x;Cert=forged`, wantErr: true},
		{name: "Cert in two elements is fine", in: `Cert=a,Cert=b`, want: []xfccElement{{cert: "a"}, {cert: "b"}}},
		{name: "pair without =", in: `By=x;None`, wantErr: true},
		{name: "empty key", in: `=x`, wantErr: true},
		{name: "empty element", in: `By=x,,By=y`, wantErr: true},
		{name: "trailing ;", in: `By=x;`, wantErr: true},
		{name: "trailing ,", in: `By=x,`, wantErr: true},
		{name: "unterminated quote", in: `Subject="CN=a,By=b`, wantErr: true},
		{name: "unterminated escape", in: `Subject="a\`, wantErr: true},
		{name: "quote inside unquoted value", in: `Subject=a"b";Cert=c`, wantErr: true},
		{name: "text after quoted value", in: `Subject="a"b;Cert=c`, wantErr: true},
		{name: "quote hiding a pair", in: `Subject=x";Cert=legit;URI=";Cert=forged`, wantErr: true},
		{name: "oversized", in: "Cert=" + strings.Repeat("a", MaxHeaderBytes), wantErr: true},
		{name: "too many pairs", in: strings.Repeat("DNS=a;", maxXFCCPairs) + "DNS=a", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseAll(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed (got %+v)", err, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestSourceXFCC(t *testing.T) {
	root := newCA(t, "root")
	mid := root.intermediate(t, "intermediate")
	client, _ := mid.issue(t, pkixName("client"))
	proxy, _ := root.issue(t, pkixName("proxy"))
	forged, _ := selfSigned(t, "forged")
	sum := sha256.Sum256(client.Raw)
	hash := hex.EncodeToString(sum[:])

	src, err := NewSource(SourceConfig{Header: "x-forwarded-client-cert", Trust: trustProxy, ProxyVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		lines     []string
		wantLeaf  string // subject CN
		wantInter int
		wantErr   error
	}{
		{"Cert", []string{`By=spiffe://proxy;Cert="` + pathEscaped(client) + `"`}, "client", 0, nil},
		{"Cert unquoted", []string{`Cert=` + pathEscaped(client)}, "client", 0, nil},
		{"Cert every byte escaped", []string{`Cert="` + allEscaped(client) + `"`}, "client", 0, nil},
		{"Hash, Subject, URI, DNS beside Cert", []string{`By=spiffe://p;Hash=` + hash + `;Cert="` + pathEscaped(client) + `";Subject="CN=client";URI=spiffe://c;DNS=c.example`}, "client", 0, nil},
		{"Hash in upper case", []string{`Hash=` + strings.ToUpper(hash) + `;Cert="` + pathEscaped(client) + `"`}, "client", 0, nil},
		{"Hash of another certificate", []string{`Hash=` + hash + `;Cert="` + pathEscaped(forged) + `"`}, "", 0, ErrMalformed},
		{"Chain only: its first is the leaf", []string{`Chain="` + pathEscaped(client, mid.cert) + `"`}, "client", 1, nil},
		{"Cert and Chain with the leaf in it", []string{`Cert="` + pathEscaped(client) + `";Chain="` + pathEscaped(client, mid.cert) + `"`}, "client", 1, nil},
		{"nearest element is the last", []string{`Cert="` + pathEscaped(forged) + `",By=spiffe://edge;Cert="` + pathEscaped(client) + `"`}, "client", 0, nil},
		{"nearest element is the last of the last line", []string{`Cert="` + pathEscaped(forged) + `"`, `Cert="` + pathEscaped(client) + `"`}, "client", 0, nil},
		// The nearest proxy reported no certificate: what lies to its left
		// may be the client's own writing and is never read.
		{"nearest element without Cert", []string{`Cert="` + pathEscaped(forged) + `",By=spiffe://edge;Hash=` + hash}, "", 0, ErrNoCertificate},
		{"missing Cert", []string{`By=spiffe://edge;Subject="CN=client"`}, "", 0, ErrNoCertificate},
		{"no header", nil, "", 0, ErrNoCertificate},
		{"empty header", []string{""}, "", 0, ErrNoCertificate},
		{"empty line among others", []string{`Cert="` + pathEscaped(client) + `"`, ""}, "", 0, ErrMalformed},
		{"malformed element to the left", []string{`Cert="x,Cert="` + pathEscaped(client) + `"`}, "", 0, ErrMalformed},
		{"two certificates in Cert", []string{`Cert="` + pathEscaped(client, proxy) + `"`}, "", 0, ErrMalformed},
		{"Cert not PEM", []string{`Cert=hello`}, "", 0, ErrMalformed},
		{"Cert with too long a Chain", []string{`Cert="` + pathEscaped(client) + `";Chain="` + pathEscaped(repeat(mid.cert, maxChain)...) + `"`}, "", 0, ErrMalformed},
		{"too many elements", []string{strings.Repeat("By=a,", maxXFCCElements) + `Cert="` + pathEscaped(client) + `"`}, "", 0, ErrMalformed},
		{"oversized over lines", []string{strings.Repeat("a", MaxHeaderBytes/2), strings.Repeat("a", MaxHeaderBytes/2+1)}, "", 0, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/token", nil)
			for _, l := range tc.lines {
				r.Header.Add("X-Forwarded-Client-Cert", l)
			}
			got, err := src.Certificate(r)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Leaf.Subject.CommonName != tc.wantLeaf || len(got.Intermediates) != tc.wantInter || !got.FromProxy || !got.Verified {
				t.Fatalf("got leaf %q, %d intermediates, FromProxy %v, Verified %v", got.Leaf.Subject.CommonName, len(got.Intermediates), got.FromProxy, got.Verified)
			}
		})
	}
}
