package login

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/login.css
var cssFile []byte

// pageNames are the templates, each parsed with the shared layout.
func pageNames() []string {
	return []string{"login", "consent", "logout", "message", "password", "device", "device_confirm"}
}

func parseTemplates() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range pageNames() {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("login: parse template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// htmlCSP allows our own stylesheet and nothing else: no script, no inline
// style, no framing (clickjacking on the login and consent forms), no <base>.
// There is deliberately no form-action: Chrome applies it to the redirect
// that follows a form POST, which would block sending the code to the client.
const htmlCSP = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"

// pageData is what every template receives; each uses the fields it needs.
type pageData struct {
	Title      string
	Message    string
	Error      string
	ClientName string
	Username   string
	CSRF       string
	Hidden     []hiddenField
	Scopes     []string
	// Resources are the APIs (RFC 8707 resource indicators) the consent is
	// for; none: the server's default audience.
	Resources []string
	// UserCode is the device verification page's code (RFC 8628 §3.3).
	UserCode string
	// Links are where a message page lets the user go next; their targets
	// are our own paths, never anything a request carried.
	Links []pageLink
	// RequestID is shown on error pages, so that a user who reports the
	// problem can quote what the operator finds in the log.
	RequestID string
	// SignedOut draws the logout page for a browser with no session.
	SignedOut bool
	// FrontChannel are the iframes of the signed-out page (Front-Channel
	// Logout §3), and Continue the relying party's post_logout_redirect_uri
	// to offer once they are drawn; frameSrc their origins for the CSP.
	FrontChannel []string
	Continue     string
	frameSrc     []string
	// Set by render for the layout.
	CSS     string
	Product string
	Logo    string // PathLogo, or "" without one
}

type hiddenField struct{ Name, Value string }

type pageLink struct{ Href, Text string }

// The links pages offer.
var (
	linkSignIn         = pageLink{PathLogin, "Sign in"}
	linkSignOut        = pageLink{PathLogout, "Sign out"}
	linkChangePassword = pageLink{PathAccountPassword, "Change password"}
)

// noStore marks a response that must not be cached or framed: every page
// here and every redirect carrying a code.
func noStore(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Pragma", "no-cache")
	hd.Set("Referrer-Policy", "no-referrer")
}

// render writes a page. The template runs into a buffer first so a template
// failure becomes a clean 500, not half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, d *pageData) {
	d.CSS, d.Product = PathCSS, h.product
	if h.logo != nil {
		d.Logo = PathLogo
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		h.fault(w, r, "render "+name, err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("<!doctype html><title>Error</title><p>Something went wrong. Request id: " +
			html.EscapeString(w.Header().Get("X-Request-Id")) + "</p>")
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	csp := htmlCSP
	if len(d.frameSrc) > 0 {
		// Only the origins of this page's logout iframes may be framed.
		csp += "; frame-src " + strings.Join(d.frameSrc, " ")
	}
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	noStore(w)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderMessage shows a page with a title, a sentence and links onward. An
// error page (status 400 and up) also shows the request id the shared
// middleware put on the response, and, when given no links, a way back to
// signing in.
func (h *Handler) renderMessage(w http.ResponseWriter, r *http.Request, status int, title, msg string, links ...pageLink) {
	d := &pageData{Title: title, Message: msg, Links: links}
	if status >= 400 {
		d.RequestID = w.Header().Get("X-Request-Id")
		if len(d.Links) == 0 {
			d.Links = []pageLink{linkSignIn}
		}
	}
	h.render(w, r, status, "message", d)
}

// NotFound is the page for a browser that asked for an address with nothing
// behind it. httpapi serves it, for requests that prefer HTML, where no
// route matched (httpapi.Options.NotFoundPage).
func (h *Handler) NotFound(w http.ResponseWriter, r *http.Request) {
	h.renderMessage(w, r, http.StatusNotFound, "Page not found",
		"There is nothing at this address. Check the link, or go back to the application and start again.")
}

func (h *Handler) renderPageError(w http.ResponseWriter, r *http.Request, e *pageError) {
	h.renderMessage(w, r, e.status, e.title, e.message)
}

func (h *Handler) renderServerError(w http.ResponseWriter, r *http.Request) {
	h.renderMessage(w, r, http.StatusInternalServerError, "Something went wrong",
		"The server could not complete your request. Please try again later.")
}

// renderBusy is the answer to password.ErrBusy and a store that is down:
// nothing is wrong with the request, so the browser may simply retry.
func (h *Handler) renderBusy(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "1")
	h.renderMessage(w, r, http.StatusServiceUnavailable, "Server busy",
		"The server is busy. Please wait a moment and try again.")
}

// asset is an embedded file served with a validator, so a browser revalidates
// cheaply after max-age.
type asset struct {
	body []byte
	etag string
}

func loadCSS() (asset, error) {
	if len(cssFile) == 0 {
		return asset{}, fmt.Errorf("login: embedded stylesheet is empty")
	}
	sum := sha256.Sum256(cssFile)
	return asset{body: cssFile, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}, nil
}

func (h *Handler) handleCSS(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", "text/css; charset=utf-8")
	hd.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(24*time.Hour/time.Second)))
	hd.Set("ETag", h.css.etag)
	http.ServeContent(w, r, "login.css", time.Time{}, bytes.NewReader(h.css.body))
}
