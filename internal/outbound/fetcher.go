package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"
)

// Document is one fetched response body. The fetcher hands the same
// Document to every caller and keeps it in its cache: read it, never
// modify it.
type Document struct {
	URL         string    // as fetched (host in lower case, no fragment), before redirects
	Body        []byte    // at most Options.MaxBytes
	ContentType string    // the media type, lower case, without parameters
	Fetched     time.Time // when it was received or last revalidated
	Expires     time.Time // fresh until then
}

// Fetcher fetches documents over https under the SSRF rules, with size and
// time caps and an HTTP cache (RFC 9111). It is the one place authd opens
// outbound connections. Its methods are safe for concurrent use.
type Fetcher struct {
	opts      Options
	client    *http.Client
	poster    *http.Client // Post's: the same transports, no redirects
	transport schemeTransport
	cache     *lru
	flights   singleflight.Group
	sem       chan struct{}
	m         *metrics
}

// New returns a Fetcher. It fails only on invalid options or metrics that
// cannot be registered.
func New(opts Options) (*Fetcher, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	f := &Fetcher{
		opts:  opts,
		cache: newLRU(opts.MaxEntries, opts.MaxCacheBytes),
		sem:   make(chan struct{}, opts.MaxInFlight),
	}
	f.transport.https = f.newTransport(false)
	if opts.AllowLoopback {
		f.transport.http = f.newTransport(true)
	}
	f.client = &http.Client{Transport: f.transport, CheckRedirect: f.checkRedirect}
	f.poster = &http.Client{Transport: f.transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	f.m, err = newMetrics(opts.Registerer, func() float64 { return float64(f.cache.len()) })
	if err != nil {
		return nil, fmt.Errorf("outbound: metrics: %w", err)
	}
	return f, nil
}

// Close closes idle connections. The fetcher stays usable.
func (f *Fetcher) Close() { f.transport.closeIdle() }

// Get returns the document at rawURL from the cache while it is fresh, and
// fetches (or revalidates) it otherwise. accept lists the media types the
// caller can parse, sent as Accept; a response of another type is
// ErrBadResponse (none given: any type). Only a 200 is a document.
//
// Concurrent Gets of one URL share one fetch; a caller whose ctx ends stops
// waiting, but the fetch goes on for the others, within Options.Timeout.
// When a fetch fails and a document is in the cache less than
// Options.StaleFor past its freshness (and not must-revalidate), that
// document is returned without an error; a failure is remembered for
// Options.ErrorTTL, during which the URL is not fetched again.
//
// Errors wrap ErrRefused, ErrTooLarge, ErrUnavailable or ErrBadResponse.
func (f *Fetcher) Get(ctx context.Context, rawURL string, accept ...string) (*Document, error) {
	return f.get(ctx, rawURL, accept, false)
}

// Refresh is Get without the freshness check: it revalidates the cached
// document now (conditionally, when it has an ETag or Last-Modified), or
// fetches it. A remembered failure still holds it back for
// Options.ErrorTTL. Callers bound how often they refresh (JWKS does).
func (f *Fetcher) Refresh(ctx context.Context, rawURL string, accept ...string) (*Document, error) {
	return f.get(ctx, rawURL, accept, true)
}

func (f *Fetcher) get(ctx context.Context, rawURL string, accept []string, force bool) (*Document, error) {
	u, err := f.parseURL(rawURL)
	if err != nil {
		f.m.fetches[resultRefused].Inc()
		return nil, err
	}
	if slices.ContainsFunc(accept, func(a string) bool { return a != strings.ToLower(a) }) {
		lower := make([]string, len(accept))
		for i, a := range accept {
			lower[i] = strings.ToLower(a)
		}
		accept = lower // never the caller's slice
	}
	acceptHdr := strings.Join(accept, ", ")
	// The Accept field is part of the key: a server may vary its answer by
	// it (RFC 9111 §4.1), and every other request field authd sends is
	// constant.
	key := acceptHdr + " " + u.String()
	if doc, hit, err := f.cached(key, force); hit {
		return doc, err
	}
	if err := ctx.Err(); err != nil { // no fetch for a caller who has already gone
		return nil, fmt.Errorf("%s: %w: %w", u, ErrUnavailable, err)
	}
	flightKey := key
	if force {
		flightKey = "!" + key // a forced refresh must not join a fetch that may end in a cache hit
	}
	ch := f.flights.DoChan(flightKey, func() (any, error) {
		return f.flight(context.WithoutCancel(ctx), key, u, accept, acceptHdr, force)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Document), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w: %w", u, ErrUnavailable, ctx.Err())
	}
}

// cached answers from the cache when it can: a fresh document (unless
// force), or during a failure's ErrorTTL the stale document or the error.
func (f *Fetcher) cached(key string, force bool) (doc *Document, hit bool, err error) {
	e := f.cache.get(key)
	if e == nil {
		return nil, false, nil
	}
	now := f.opts.Now()
	switch {
	case e.doc != nil && !force && now.Before(e.doc.Expires):
		f.m.fresh.Inc()
		return e.doc, true, nil
	case e.err != nil && now.Before(e.retryAt) && e.doc != nil && now.Before(e.staleUntil):
		f.m.stale.Inc()
		return e.doc, true, nil
	case e.err != nil && now.Before(e.retryAt):
		f.m.negative.Inc()
		return nil, true, e.err
	}
	return nil, false, nil
}

// flight is the one fetch of a key that concurrent callers share.
func (f *Fetcher) flight(ctx context.Context, key string, u *url.URL, accept []string, acceptHdr string, force bool) (*Document, error) {
	// A flight that ended just before this one started may have filled it.
	if doc, hit, err := f.cached(key, force); hit {
		return doc, err
	}
	prev := f.cache.get(key)
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	start := time.Now()
	e, storable, result, err := f.fetch(ctx, u, accept, acceptHdr, prev)
	f.m.duration.Observe(time.Since(start).Seconds())
	if err != nil {
		if ue := (*url.Error)(nil); !errors.As(err, &ue) { // a *url.Error names the URL already
			err = fmt.Errorf("%s: %w", u, err)
		}
		f.m.fetches[resultOf(err)].Inc()
		return f.failed(key, u, prev, err)
	}
	f.m.fetches[result].Inc()
	if storable {
		f.m.evictions.Add(float64(f.cache.put(key, e)))
	} else {
		// RFC 9111 §5.2.2.5: no-store; nor may an older response stand in.
		f.cache.delete(key)
	}
	return e.doc, nil
}

// failed remembers a failure and answers with the stale document if it may
// still be served (RFC 9111 §4.2.4 allows serving stale when the origin
// cannot be reached, unless must-revalidate, §5.2.2.2).
func (f *Fetcher) failed(key string, u *url.URL, prev *entry, err error) (*Document, error) {
	now := f.opts.Now()
	e := &entry{err: err, retryAt: now.Add(f.opts.ErrorTTL)}
	if prev != nil && prev.doc != nil {
		// Keep the document and its validators: a later 304 revives it.
		e.doc, e.hdr, e.staleUntil = prev.doc, prev.hdr, prev.staleUntil
	}
	f.m.evictions.Add(float64(f.cache.put(key, e)))
	if e.doc != nil && now.Before(e.staleUntil) {
		f.m.stale.Inc()
		f.opts.Logger.Warn("outbound fetch failed; serving the stale document",
			"url", u.String(), "err", err, "expired", e.doc.Expires, "stale_until", e.staleUntil)
		return e.doc, nil
	}
	f.opts.Logger.Info("outbound fetch failed", "url", u.String(), "err", err)
	return nil, err
}

// storedFields are the response fields the cache keeps: freshness and
// validators.
var storedFields = []string{"Cache-Control", "Expires", "Date", "Age", "Etag", "Last-Modified", "Vary"}

// fetch does one request (redirects included) and turns the response into
// a cache entry.
func (f *Fetcher) fetch(ctx context.Context, u *url.URL, accept []string, acceptHdr string, prev *entry) (e *entry, storable bool, result string, err error) {
	select {
	case f.sem <- struct{}{}:
		defer func() { <-f.sem }()
	case <-ctx.Done():
		return nil, false, "", fmt.Errorf("%w: waiting for a fetch slot: %w", ErrUnavailable, ctx.Err())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, false, "", fmt.Errorf("%w: %v", ErrRefused, err)
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	if acceptHdr != "" {
		req.Header.Set("Accept", acceptHdr)
	}
	conditional := false
	if prev != nil && prev.doc != nil {
		// RFC 9111 §4.3.1: validate the stored response with its validators.
		if v := prev.hdr.Get("Etag"); v != "" {
			req.Header.Set("If-None-Match", v)
			conditional = true
		}
		if v := prev.hdr.Get("Last-Modified"); v != "" {
			req.Header.Set("If-Modified-Since", v)
			conditional = true
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrRefused) {
			return nil, false, "", err
		}
		return nil, false, "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer func() { _ = resp.Body.Close() }()
	now := f.opts.Now()
	switch code := resp.StatusCode; {
	case code == http.StatusNotModified && conditional:
		// RFC 9111 §4.3.4: freshen the stored response with the fields of
		// the 304. Date and Age describe the 304 itself.
		hdr := prev.hdr.Clone()
		hdr.Del("Age")
		hdr.Del("Date")
		for _, k := range storedFields {
			if v := resp.Header.Values(k); len(v) > 0 {
				hdr[k] = v
			}
		}
		e, storable := f.newEntry(u, prev.doc.Body, prev.doc.ContentType, hdr, now)
		return e, storable, resultNotModified, nil
	case code == http.StatusOK:
	case code >= 500, code == http.StatusTooManyRequests, code == http.StatusRequestTimeout:
		return nil, false, "", fmt.Errorf("%w: status %d", ErrUnavailable, code)
	default:
		return nil, false, "", fmt.Errorf("%w: status %d", ErrBadResponse, code)
	}
	ctype := mediaType(resp.Header.Get("Content-Type"))
	if len(accept) > 0 && !slices.Contains(accept, ctype) {
		return nil, false, "", fmt.Errorf("%w: content type %q, want %s", ErrBadResponse, ctype, acceptHdr)
	}
	if resp.ContentLength > f.opts.MaxBytes {
		return nil, false, "", fmt.Errorf("%w: %d bytes announced, limit %d", ErrTooLarge, resp.ContentLength, f.opts.MaxBytes)
	}
	// The transport has already undone any Content-Encoding: the cap is on
	// what authd would parse, so a compressed bomb stops at MaxBytes.
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBytes+1))
	if err != nil {
		return nil, false, "", fmt.Errorf("%w: reading the body: %w", ErrUnavailable, err)
	}
	if int64(len(body)) > f.opts.MaxBytes {
		return nil, false, "", fmt.Errorf("%w: more than %d bytes", ErrTooLarge, f.opts.MaxBytes)
	}
	hdr := http.Header{}
	for _, k := range storedFields {
		if v := resp.Header.Values(k); len(v) > 0 {
			hdr[k] = v
		}
	}
	e, storable = f.newEntry(u, body, ctype, hdr, now)
	return e, storable, resultOK, nil
}

// newEntry computes the freshness of a response received at now and says
// whether it may be stored.
func (f *Fetcher) newEntry(u *url.URL, body []byte, ctype string, hdr http.Header, now time.Time) (*entry, bool) {
	cc := parseCacheControl(hdr.Values("Cache-Control"))
	life := freshnessLifetime(hdr, cc, now, f.opts.DefaultTTL)
	life = min(max(life, f.opts.MinTTL), f.opts.MaxTTL)
	doc := &Document{URL: u.String(), Body: body, ContentType: ctype, Fetched: now, Expires: now.Add(life)}
	e := &entry{doc: doc, hdr: hdr, staleUntil: doc.Expires}
	if !cc.mustRevalidate {
		e.staleUntil = doc.Expires.Add(f.opts.StaleFor)
	}
	// RFC 9111 §4.1: "Vary: *" never matches a later request.
	storable := !cc.noStore && !slices.ContainsFunc(hdr.Values("Vary"), func(v string) bool {
		return strings.Contains(v, "*")
	})
	if !storable {
		doc.Expires = now // what is not stored is not fresh for anyone else either
	}
	return e, storable
}

// mediaType is the lower-case media type of a Content-Type value, "" when
// there is none or it does not parse.
func mediaType(v string) string {
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		return ""
	}
	return mt
}
