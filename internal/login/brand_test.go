package login

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// Logo files: only the first bytes matter to NewLogo.
var (
	pngLogo  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR rest of the image")
	jpegLogo = []byte("\xff\xd8\xff\xe0\x00\x10JFIF rest of the image")
	webpLogo = []byte("RIFF\x24\x00\x00\x00WEBPVP8 rest of the image")
	svgLogo  = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!-- drawn by hand -->
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" style="fill:#2453d6"/></svg>
`)
)

func TestNewLogo(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		data     []byte
		wantType string // "" for an error
		wantErr  string
	}{
		{"png", "logo.png", pngLogo, "image/png", ""},
		{"jpeg", "logo.jpg", jpegLogo, "image/jpeg", ""},
		{"jpeg, long extension, upper case", "LOGO.JPEG", jpegLogo, "image/jpeg", ""},
		{"webp", "logo.webp", webpLogo, "image/webp", ""},
		{"svg", "logo.svg", svgLogo, "image/svg+xml", ""},
		{"svg with a byte order mark", "logo.svg", append([]byte("\xef\xbb\xbf"), svgLogo...), "image/svg+xml", ""},
		{"svg without a prolog", "logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), "image/svg+xml", ""},
		{"no extension: the contents say", "logo", pngLogo, "image/png", ""},
		{"largest allowed", "logo.png", append(bytes.Clone(pngLogo), make([]byte, MaxLogoBytes-len(pngLogo))...), "image/png", ""},

		{"empty", "logo.png", nil, "", "empty"},
		{"too large", "logo.png", append(bytes.Clone(pngLogo), make([]byte, MaxLogoBytes)...), "", "larger than 256 KiB"},
		{"unsupported extension", "logo.gif", []byte("GIF89a...."), "", `".gif" is not supported`},
		{"html named svg", "logo.svg", []byte("<html><script>alert(1)</script></html>"), "", "not a PNG, JPEG, WebP or SVG"},
		{"png named svg", "logo.svg", pngLogo, "", "named .svg but its contents are image/png"},
		{"svg named png", "logo.png", svgLogo, "", "named .png but its contents are image/svg+xml"},
		{"text", "logo", []byte("just some text"), "", "not a PNG, JPEG, WebP or SVG"},
		{"svg without namespace", "logo.svg", []byte(`<svg viewBox="0 0 1 1"/>`), "", "xmlns"},
		{"svg in another namespace", "logo.svg", []byte(`<svg xmlns="http://www.w3.org/1999/xhtml"/>`), "", "xmlns"},
		{"svg that is not well-formed", "logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><g></svg>`), "", "not well-formed"},
		{"svg with an entity declaration", "logo.svg", []byte(`<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>`), "", "entities"},
		{"svg that is not UTF-8", "logo.svg", []byte("<svg xmlns=\"http://www.w3.org/2000/svg\">\xff</svg>"), "", "not a PNG, JPEG, WebP or SVG"},
		{"truncated webp", "logo.webp", []byte("RIFF\x24\x00"), "", "not a PNG, JPEG, WebP or SVG"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewLogo(tc.file, tc.data)
			if tc.wantType == "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("NewLogo = %v, %v; want an error containing %q", l, err, tc.wantErr)
				}
				return
			}
			if err != nil || l.ContentType() != tc.wantType {
				t.Fatalf("NewLogo = %v, %v; want %s", l, err, tc.wantType)
			}
		})
	}
	// The caller's buffer is not kept.
	data := bytes.Clone(pngLogo)
	l, err := NewLogo("logo.png", data)
	if err != nil {
		t.Fatal(err)
	}
	data[0] = 'X'
	if l.body[0] != 0x89 {
		t.Error("NewLogo kept the caller's buffer")
	}
}

func TestProductName(t *testing.T) {
	for _, name := range []string{" padded", "tab\tname", "line\nbreak", strings.Repeat("x", MaxProductNameRunes+1), "\xff"} {
		db := openStore(t)
		_, err := New(Deps{Clients: db, Accounts: &countingAccounts{}, Sessions: db, Consents: db, Codes: db, IDTokens: newKeys(t, db, nil)},
			Options{Issuer: testIssuer, CSRFKey: make([]byte, 32), ProductName: name})
		if err == nil {
			t.Errorf("ProductName %q accepted", name)
		}
	}
}

// TestBranding: the product name and logo appear on every page; the logo is
// served at its fixed path with its own type, caching, no sniffing and, for
// SVG, a policy of its own.
func TestBranding(t *testing.T) {
	svg, err := NewLogo("logo.svg", svgLogo)
	if err != nil {
		t.Fatal(err)
	}
	png, err := NewLogo("logo.png", pngLogo)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("default", func(t *testing.T) {
		e := newEnv(t, testIssuer)
		r := e.get(e.client, PathLogin)
		wantPage(t, r, http.StatusOK, "<title>Sign in · authd</title>")
		if strings.Contains(r.body, "<img") {
			t.Errorf("a logo without one configured:\n%s", r.body)
		}
		if r := e.get(e.client, PathLogo); r.status != http.StatusNotFound {
			t.Errorf("GET %s without a logo: %d", PathLogo, r.status)
		}
	})
	for _, tc := range []struct {
		name    string
		logo    *Logo
		body    []byte
		wantCT  string
		wantCSP string // "" : the shared middleware's policy is left alone
	}{
		{"svg", svg, svgLogo, "image/svg+xml", "default-src 'none'; style-src 'unsafe-inline'"},
		{"png", png, pngLogo, "image/png", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvConfig(t, envConfig{issuer: testIssuer, opts: func(o *Options) {
				o.ProductName, o.Logo = "Acme <ID>", tc.logo
			}})
			pages := []*response{
				e.get(e.client, PathLogin),
				e.authorize(e.client, authParams("ghost")), // an error page
				e.get(e.client, PathLogout),
			}
			e.signIn(e.client)
			pages = append(pages, e.authorize(e.client, authParams("web")), e.get(e.client, PathAccountPassword))
			for i, p := range pages {
				for _, want := range []string{"· Acme &lt;ID&gt;</title>", `<span class="product">Acme &lt;ID&gt;</span>`, `<img class="logo" src="/assets/logo" alt="">`} {
					if !strings.Contains(p.body, want) {
						t.Errorf("page %d lacks %q:\n%s", i, want, p.body)
					}
				}
				wantPageHeaders(t, p.header)
			}

			r := e.get(e.client, PathLogo)
			if r.status != http.StatusOK || r.body != string(tc.body) {
				t.Fatalf("GET %s: %d %q", PathLogo, r.status, r.body)
			}
			h := r.header
			if h.Get("Content-Type") != tc.wantCT || h.Get("X-Content-Type-Options") != "nosniff" ||
				h.Get("Cache-Control") != "public, max-age=86400" || h.Get("ETag") == "" {
				t.Errorf("logo headers: %v", h)
			}
			wantCSP := tc.wantCSP
			if wantCSP == "" {
				wantCSP = "default-src 'none'; frame-ancestors 'none'" // the harness's stand-in for the middleware
			}
			if got := h.Get("Content-Security-Policy"); got != wantCSP {
				t.Errorf("logo CSP = %q, want %q", got, wantCSP)
			}
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+PathLogo, nil)
			req.Header.Set("If-None-Match", h.Get("ETag"))
			if r := e.do(e.client, req); r.status != http.StatusNotModified {
				t.Errorf("revalidation: %d", r.status)
			}
		})
	}
}
