package mtls

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestSourceEscapedPEM(t *testing.T) {
	root := newCA(t, "root")
	mid := root.intermediate(t, "intermediate")
	client, key := mid.issue(t, pkixName("client"))
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))

	src, err := NewSource(SourceConfig{Header: "X-SSL-Client-Cert", Trust: trustProxy})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		values    []string
		wantInter int
		wantErr   error
	}{
		{"nginx $ssl_client_escaped_cert", []string{allEscaped(client)}, 0, nil},
		{"'+' left literal", []string{pathEscaped(client)}, 0, nil},
		{"with its chain", []string{pathEscaped(client, mid.cert)}, 1, nil},
		{"surrounding newlines", []string{url.PathEscape("\n" + pemOf(client) + "\n\n")}, 0, nil},
		{"absent", nil, 0, ErrNoCertificate},
		{"empty (nginx without a client certificate)", []string{""}, 0, ErrNoCertificate},
		{"sent twice", []string{pathEscaped(client), pathEscaped(client)}, 0, ErrMalformed},
		{"data before the block", []string{url.PathEscape("junk\n" + pemOf(client))}, 0, ErrMalformed},
		{"data after the block", []string{url.PathEscape(pemOf(client) + "junk")}, 0, ErrMalformed},
		{"a private key block", []string{url.PathEscape(keyPEM)}, 0, ErrMalformed},
		{"a key after the certificate", []string{url.PathEscape(pemOf(client) + keyPEM)}, 0, ErrMalformed},
		{"form-encoded: spaces as '+'", []string{url.QueryEscape(pemOf(client))}, 0, ErrMalformed},
		{"bad percent-encoding", []string{pathEscaped(client) + "%zz"}, 0, ErrMalformed},
		{"raw PEM, not escaped (newlines lost)", []string{strings.ReplaceAll(pemOf(client), "\n", " ")}, 0, ErrMalformed},
		{"not a certificate inside", []string{url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("nope")})))}, 0, ErrMalformed},
		{"too many certificates", []string{pathEscaped(repeat(client, maxChain+1)...)}, 0, ErrMalformed},
		{"oversized", []string{strings.Repeat("%41", MaxHeaderBytes/3+1)}, 0, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/token", nil)
			for _, v := range tc.values {
				r.Header.Add("X-Ssl-Client-Cert", v)
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
			if !got.Leaf.Equal(client) || len(got.Intermediates) != tc.wantInter || got.Verified || !got.FromProxy {
				t.Fatalf("got leaf %q, %d intermediates, Verified %v", got.Leaf.Subject.CommonName, len(got.Intermediates), got.Verified)
			}
		})
	}
}

func repeat[T any](x T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = x
	}
	return out
}

func TestSourceRFC9440(t *testing.T) {
	root := newCA(t, "root")
	mid := root.intermediate(t, "intermediate")
	client, _ := mid.issue(t, pkixName("client"))
	sf := func(c *x509.Certificate) string { return ":" + base64.StdEncoding.EncodeToString(c.Raw) + ":" }

	src, err := NewSource(SourceConfig{Header: "client-cert", Trust: trustProxy})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		cert, chain []string
		wantInter   int
		wantErr     error
	}{
		{"leaf", []string{sf(client)}, nil, 0, nil},
		{"leaf and chain", []string{sf(client)}, []string{sf(mid.cert) + ", " + sf(root.cert)}, 2, nil},
		{"chain over two lines", []string{sf(client)}, []string{sf(mid.cert), sf(root.cert)}, 2, nil},
		{"unpadded base64", []string{":" + base64.RawStdEncoding.EncodeToString(client.Raw) + ":"}, nil, 0, nil},
		{"chain without leaf", nil, []string{sf(mid.cert)}, 0, ErrNoCertificate},
		{"empty", []string{""}, nil, 0, ErrNoCertificate},
		{"oversized", []string{sf(client)}, []string{strings.Repeat("a", MaxHeaderBytes)}, 0, ErrMalformed},
		{"not a byte sequence", []string{base64.StdEncoding.EncodeToString(client.Raw)}, nil, 0, ErrMalformed},
		{"base64url is not sf-binary", []string{":" + base64.URLEncoding.EncodeToString([]byte{0xfb, 0xff}) + ":"}, nil, 0, ErrMalformed},
		{"sent twice", []string{sf(client), sf(client)}, nil, 0, ErrMalformed},
		{"bad chain item", []string{sf(client)}, []string{sf(mid.cert) + ",nope"}, 0, ErrMalformed},
		{"too long a chain", []string{sf(client)}, []string{strings.Join(repeat(sf(mid.cert), maxChain), ",")}, 0, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/token", nil)
			for _, v := range tc.cert {
				r.Header.Add("Client-Cert", v)
			}
			for _, v := range tc.chain {
				r.Header.Add("Client-Cert-Chain", v)
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
			if !got.Leaf.Equal(client) || len(got.Intermediates) != tc.wantInter {
				t.Fatalf("got leaf %q, %d intermediates", got.Leaf.Subject.CommonName, len(got.Intermediates))
			}
		})
	}
}
