package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DefaultRefreshInterval is how often, at most, JWKS fetches one URI again
// because a key id was not in it.
const DefaultRefreshInterval = 30 * time.Second

// jwksAccept are the media types of a JWK Set: its own (RFC 7517 §8.5.1)
// and plain JSON, which most servers send.
var jwksAccept = []string{"application/jwk-set+json", "application/json"}

// JWKSOptions configure a JWKS.
type JWKSOptions struct {
	// RefreshInterval bounds how often one URI is fetched outside of its
	// HTTP freshness: at most once per interval, whatever key ids callers
	// ask for, and a set is kept at least this long whatever its
	// Cache-Control says (DefaultRefreshInterval).
	RefreshInterval time.Duration

	// MaxURIs bounds the key sets held (DefaultMaxEntries).
	MaxURIs int
}

// JWKS holds the public keys of JWK Sets (RFC 7517) fetched through a
// Fetcher, parsed once per version of each set. Its methods are safe for
// concurrent use.
type JWKS struct {
	f        *Fetcher
	interval time.Duration
	maxURIs  int

	mu   sync.RWMutex
	sets map[string]*jwksEntry
}

// jwksEntry is the state of one URI, guarded by JWKS.mu.
type jwksEntry struct {
	set      *keySet     // the last good set; nil before one
	until    time.Time   // set is used without asking the fetcher until then
	err      error       // the last version did not parse…
	errUntil time.Time   // …and is not parsed again before then
	forcedAt time.Time   // the last refresh for an unknown key id
	flight   *jwksFlight // the fetch in progress, if any
}

type jwksFlight struct {
	done chan struct{}
	set  *keySet // set when done, err nil
	err  error
}

// NewJWKS returns key sets fetched through f.
func NewJWKS(f *Fetcher, opts JWKSOptions) *JWKS {
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = DefaultRefreshInterval
	}
	if opts.MaxURIs <= 0 {
		opts.MaxURIs = DefaultMaxEntries
	}
	return &JWKS{f: f, interval: opts.RefreshInterval, maxURIs: opts.MaxURIs, sets: map[string]*jwksEntry{}}
}

// Keys returns the public keys of the JWK Set at uri whose "kid" is kid
// (every key when kid is ""). The keys are shared: read them, never modify
// them. They are what the set says; the caller checks "use", "alg" and the
// key type against what it verifies.
//
// A key id not in a fresh set makes Keys fetch the set again, as a
// rotation would need, but at most once per RefreshInterval per URI:
// concurrent callers share that fetch, and an unknown kid asked again
// within the interval is ErrKeyNotFound at once, so random key ids cannot
// make authd hammer the URI.
//
// Errors wrap ErrKeyNotFound, or those of Fetcher.Get; a JWK Set with
// private or symmetric key material is ErrBadResponse.
func (s *JWKS) Keys(ctx context.Context, uri, kid string) ([]jose.JSONWebKey, error) {
	now := s.f.opts.Now()
	s.mu.RLock()
	var set *keySet
	throttled := false
	if e := s.sets[uri]; e != nil && e.set != nil && now.Before(e.until) {
		set = e.set
		throttled = e.flight == nil && now.Sub(e.forcedAt) < s.interval
	}
	s.mu.RUnlock()
	if set != nil {
		if keys := set.lookup(kid); keys != nil {
			return keys, nil
		}
		if throttled { // the common answer to random key ids: no write lock
			s.f.m.kidThrottled.Inc()
			return nil, notFound(uri, kid)
		}
	}
	return s.slow(ctx, uri, kid)
}

func (s *JWKS) slow(ctx context.Context, uri, kid string) ([]jose.JSONWebKey, error) {
	s.mu.Lock()
	now := s.f.opts.Now()
	e := s.entry(uri)
	fl := e.flight
	if fl == nil {
		fresh := e.set != nil && now.Before(e.until)
		switch {
		case fresh:
			if keys := e.set.lookup(kid); keys != nil { // a flight filled it meanwhile
				s.mu.Unlock()
				return keys, nil
			}
			// OIDC Core 1.0 §10.1.1: a kid the verifier does not know is
			// the signal to fetch the set again — bounded here.
			if now.Sub(e.forcedAt) < s.interval {
				s.mu.Unlock()
				s.f.m.kidThrottled.Inc()
				return nil, notFound(uri, kid)
			}
			e.forcedAt = now
			s.f.m.kidRefreshed.Inc()
		case e.err != nil && now.Before(e.errUntil):
			err := e.err
			s.mu.Unlock()
			return nil, err
		}
		fl = &jwksFlight{done: make(chan struct{})}
		e.flight = fl
		// The fetch runs on its own so that a caller who gives up does
		// not fail the others; the fetcher's Timeout bounds it.
		go s.run(context.WithoutCancel(ctx), uri, e, fl, fresh)
	}
	s.mu.Unlock()
	select {
	case <-fl.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w: %w", uri, ErrUnavailable, ctx.Err())
	}
	if fl.err != nil {
		return nil, fl.err
	}
	if keys := fl.set.lookup(kid); keys != nil {
		return keys, nil
	}
	return nil, notFound(uri, kid)
}

// entry returns uri's entry, creating it, and evicting another when the
// map is full. It is called with s.mu held.
func (s *JWKS) entry(uri string) *jwksEntry {
	if e := s.sets[uri]; e != nil {
		return e
	}
	if len(s.sets) >= s.maxURIs {
		for k, old := range s.sets { // map order: an arbitrary victim
			if old.flight == nil {
				delete(s.sets, k)
				break
			}
		}
	}
	e := &jwksEntry{}
	s.sets[uri] = e
	return e
}

func (s *JWKS) run(ctx context.Context, uri string, e *jwksEntry, fl *jwksFlight, force bool) {
	var doc *Document
	var err error
	if force {
		doc, err = s.f.Refresh(ctx, uri, jwksAccept...)
	} else {
		doc, err = s.f.Get(ctx, uri, jwksAccept...)
	}
	s.mu.RLock()
	prev := e.set
	s.mu.RUnlock()
	var set *keySet
	if err == nil {
		if prev != nil && (prev.doc == doc || bytes.Equal(prev.doc.Body, doc.Body)) {
			set = &keySet{doc: doc, all: prev.all, byKid: prev.byKid} // a 304 or the same bytes: parse once
		} else if set, err = parseKeySet(doc); err != nil {
			err = fmt.Errorf("%s: %w", uri, err)
		}
	}
	now := s.f.opts.Now()
	s.mu.Lock()
	switch {
	case err == nil:
		e.set, e.err = set, nil
		e.until = later(doc.Expires, now.Add(s.interval))
	case doc != nil: // fetched, but not a usable set: not parsed again before it could change
		e.err, e.errUntil = err, later(doc.Expires, now.Add(s.interval))
	}
	e.flight = nil
	fl.set, fl.err = set, err
	s.mu.Unlock()
	close(fl.done)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func notFound(uri, kid string) error {
	return fmt.Errorf("%w: kid %.64q in %s", ErrKeyNotFound, kid, uri)
}

// keySet is one parsed version of a JWK Set. It is immutable.
type keySet struct {
	doc   *Document
	all   []jose.JSONWebKey
	byKid map[string][]jose.JSONWebKey
}

// lookup returns the keys with kid (all for ""), nil when there is none.
// The slices are capped so that a caller's append cannot write into them.
func (s *keySet) lookup(kid string) []jose.JSONWebKey {
	keys := s.all
	if kid != "" {
		keys = s.byKid[kid]
	}
	if len(keys) == 0 {
		return nil
	}
	return keys[:len(keys):len(keys)]
}

// privateMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2; "priv" of ML-DSA).
type privateMembers struct {
	D   json.RawMessage `json:"d"`
	P   json.RawMessage `json:"p"`
	Q   json.RawMessage `json:"q"`
	DP  json.RawMessage `json:"dp"`
	DQ  json.RawMessage `json:"dq"`
	QI  json.RawMessage `json:"qi"`
	Oth json.RawMessage `json:"oth"`
	K   json.RawMessage `json:"k"`
	Pri json.RawMessage `json:"priv"`
}

func (p privateMembers) any() bool {
	return p.D != nil || p.P != nil || p.Q != nil || p.DP != nil || p.DQ != nil ||
		p.QI != nil || p.Oth != nil || p.K != nil || p.Pri != nil
}

// parseKeySet parses a JWK Set from untrusted input (go-jose parses each
// key). Keys it cannot use are skipped, as RFC 7517 §5 asks ("SHOULD
// ignore JWKs … that use kty values that are not understood … or that are
// missing required members"). A set that carries private or symmetric key
// material is refused as a whole: whoever published it has leaked it, and
// no key in it can be trusted.
func parseKeySet(doc *Document) (*keySet, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(doc.Body, &raw); err != nil {
		return nil, fmt.Errorf("%w: not a JWK Set: %v", ErrBadResponse, err)
	}
	if raw.Keys == nil {
		return nil, fmt.Errorf("%w: JWK Set without a \"keys\" member (RFC 7517 §5)", ErrBadResponse)
	}
	set := &keySet{doc: doc, byKid: map[string][]jose.JSONWebKey{}}
	for i, r := range raw.Keys {
		var priv privateMembers
		if err := json.Unmarshal(r, &priv); err != nil {
			continue // not an object
		}
		if priv.any() {
			return nil, fmt.Errorf("%w: JWK Set key %d carries private or symmetric key material", ErrBadResponse, i)
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(r); err != nil || !k.IsPublic() || !k.Valid() {
			continue
		}
		set.all = append(set.all, k)
	}
	for _, k := range set.all {
		if k.KeyID != "" {
			set.byKid[k.KeyID] = append(set.byKid[k.KeyID], k)
		}
	}
	return set, nil
}
