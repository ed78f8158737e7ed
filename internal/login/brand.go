package login

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Branding: an operator names the product and may give a logo, shown on every
// page. The logo is served as a separate resource at PathLogo, never inlined:
// an SVG in the page would be markup the page's CSP has to trust, while an
// SVG fetched by <img> cannot run script or load anything, and one opened
// directly gets a policy of its own.

// MaxLogoBytes bounds a logo file: a logo is a few kilobytes, and every page
// asks for it.
const MaxLogoBytes = 256 << 10

// MaxProductNameRunes bounds Options.ProductName.
const MaxProductNameRunes = 64

// svgCSP is the policy of an SVG logo opened on its own: no script, no
// external resources, but the inline style attributes that SVG editors write.
const svgCSP = "default-src 'none'; style-src 'unsafe-inline'"

// Logo is a validated logo file; build it with NewLogo.
type Logo struct {
	body        []byte
	contentType string
	etag        string
}

// ContentType is the media type the logo is served with.
func (l *Logo) ContentType() string { return l.contentType }

// logoTypes are the formats accepted, by file extension.
var logoTypes = map[string]string{
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".webp": "image/webp",
	".svg":  "image/svg+xml",
}

// NewLogo validates a logo file's contents, data, under its file name (only
// the extension is used): PNG, JPEG, WebP or SVG, at most MaxLogoBytes. The
// type comes from the contents' magic bytes (for SVG, a well-formed XML
// document whose root is an svg element in the SVG namespace), and an
// extension, when it names one of these types, must agree with it. Any
// other extension, an empty or oversized file, or contents that are none of
// these is an error saying why. data is copied.
func NewLogo(name string, data []byte) (*Logo, error) {
	switch {
	case len(data) == 0:
		return nil, errors.New("logo file is empty")
	case len(data) > MaxLogoBytes:
		return nil, fmt.Errorf("logo file is larger than %d KiB", MaxLogoBytes>>10)
	}
	ext := strings.ToLower(filepath.Ext(name))
	want, known := logoTypes[ext]
	if ext != "" && !known {
		return nil, fmt.Errorf("logo file type %q is not supported: use .png, .jpg, .webp or .svg", ext)
	}
	got, err := sniffLogo(data)
	if err != nil {
		return nil, err
	}
	if known && got != want {
		return nil, fmt.Errorf("logo file is named %s but its contents are %s", ext, got)
	}
	sum := sha256.Sum256(data)
	return &Logo{
		body:        bytes.Clone(data),
		contentType: got,
		etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
	}, nil
}

// sniffLogo returns the media type of data from its first bytes.
func sniffLogo(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", nil
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "image/jpeg", nil
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "image/webp", nil
	}
	if err := checkSVG(data); err != nil {
		return "", err
	}
	return "image/svg+xml", nil
}

const svgNamespace = "http://www.w3.org/2000/svg"

// checkSVG accepts a well-formed UTF-8 XML document whose root is <svg> in
// the SVG namespace (without it a browser does not render it as an image),
// with no entity declarations (which could only serve entity expansion).
func checkSVG(data []byte) error {
	notImage := errors.New("logo file is not a PNG, JPEG, WebP or SVG image")
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return notImage
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '<' {
		return notImage
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	root := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if !root {
				return notImage
			}
			return fmt.Errorf("logo SVG is not well-formed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			if bytes.Contains(t, []byte("ENTITY")) {
				return errors.New("logo SVG must not declare entities")
			}
		case xml.StartElement:
			if !root {
				if t.Name.Local != "svg" {
					return notImage
				}
				if t.Name.Space != svgNamespace {
					return errors.New(`logo SVG root element needs xmlns="` + svgNamespace + `"`)
				}
				root = true
			}
		}
	}
	if !root {
		return notImage
	}
	return nil
}

// validProductName checks Options.ProductName: it is shown in every page's
// title and heading, so it must be short, printable text.
func validProductName(s string) error {
	if strings.TrimSpace(s) != s || s == "" || !printable(s) || utf8.RuneCountInString(s) > MaxProductNameRunes {
		return fmt.Errorf("login: ProductName must be 1 to %d printable characters without surrounding spaces", MaxProductNameRunes)
	}
	return nil
}

// handleLogo serves the logo with a validator, as the stylesheet is served.
// Its Content-Type is fixed and sniffing is off, so a browser never takes it
// for anything but the image it was validated as.
func (h *Handler) handleLogo(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", h.logo.contentType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(24*time.Hour/time.Second)))
	hd.Set("ETag", h.logo.etag)
	if h.logo.contentType == "image/svg+xml" {
		hd.Set("Content-Security-Policy", svgCSP)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.logo.body))
}
