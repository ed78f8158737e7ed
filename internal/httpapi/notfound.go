package httpapi

import (
	"html"
	"net/http"
	"strconv"
	"strings"
)

// A request that matches no route gets JSON, unless it prefers HTML: a person
// who mistyped an address in a browser gets a page (Options.NotFoundPage, the
// login pages' look; or a plain one), while API clients, which send Accept:
// application/json, */* or nothing, keep the JSON they can parse.

// maxAcceptRanges bounds the media ranges read from one Accept header;
// browsers send fewer than ten.
const maxAcceptRanges = 32

// prefersHTML reports whether an Accept header (RFC 9110 §12.5.1) gives
// text/html a higher quality than application/json. Each type takes the
// quality of the most specific range that matches it (type/subtype, then
// type/*, then */*); a tie is not a preference, so */* alone means JSON.
func prefersHTML(accept string) bool {
	if accept == "" {
		return false
	}
	var htmlQ, jsonQ acceptMatch
	for i := 0; accept != "" && i < maxAcceptRanges; i++ {
		var part string
		part, accept, _ = strings.Cut(accept, ",")
		mediaRange, params, _ := strings.Cut(part, ";")
		typ, sub, ok := strings.Cut(strings.ToLower(strings.TrimSpace(mediaRange)), "/")
		if !ok {
			continue
		}
		q := acceptQuality(params)
		htmlQ.consider(typ, sub, "text", "html", q)
		jsonQ.consider(typ, sub, "application", "json", q)
	}
	return htmlQ.q > 0 && htmlQ.q > jsonQ.q
}

// acceptMatch is the best match so far of one media type in an Accept header.
type acceptMatch struct {
	specificity int // 0 none, 1 */*, 2 type/*, 3 type/subtype
	q           float64
}

func (m *acceptMatch) consider(typ, sub, wantTyp, wantSub string, q float64) {
	s := 0
	switch {
	case typ == wantTyp && sub == wantSub:
		s = 3
	case typ == wantTyp && sub == "*":
		s = 2
	case typ == "*" && sub == "*":
		s = 1
	}
	if s > m.specificity {
		m.specificity, m.q = s, q
	}
}

// acceptQuality returns the q parameter of a media range's parameters, 1
// when absent (RFC 9110 §12.4.2); a malformed one counts as 0.
func acceptQuality(params string) float64 {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) > 5 {
			return 0
		}
		q, err := strconv.ParseFloat(v, 64)
		if err != nil || q < 0 || q > 1 {
			return 0
		}
		return q
	}
	return 1
}

// notFound answers a request no route matched.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	// The answer depends on Accept, so caches must key on it.
	w.Header().Add("Vary", "Accept")
	if !prefersHTML(r.Header.Get("Accept")) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "not_found"})
		return
	}
	if s.opts.NotFoundPage != nil {
		s.opts.NotFoundPage.ServeHTTP(w, r)
		return
	}
	// Without the login pages: a plain page under the middleware's policy,
	// which allows nothing, not even a stylesheet.
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h["Cache-Control"] = hdrNoStore
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Page not found</title></head>` +
		`<body><h1>Page not found</h1><p>There is nothing at this address.</p><p>Request id: <code>` +
		html.EscapeString(requestID(r.Context())) + `</code></p></body></html>`))
}
