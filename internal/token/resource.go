package token

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// ResourceStore reads API resources (store.Resources).
type ResourceStore interface {
	ResourceByIndicator(ctx context.Context, indicator string) (*store.Resource, error)
	ListResources(ctx context.Context) ([]*store.Resource, error)
}

// Cache kinds of resources: a resource by the SHA-256 of its indicator, and
// the indicators a client introspects for, by client id.
const (
	kindResource  = "res:"
	kindAudiences = "rsaud:"
)

// maxRequestedResources bounds the resource parameters one request may
// carry; a token is for one, an authorization request for a few.
const maxRequestedResources = 10

// CheckResources is RFC 8707 §2 for the resource parameters of a request:
// each must be an absolute URI without a fragment, registered, and allowed to
// the client (allowed_resources; absent: any registered one); anything else
// is invalid_target. It returns them sorted without duplicates. The
// authorization endpoint calls it too, so both refuse alike.
func (s *Service) CheckResources(ctx context.Context, c *oauth.Client, indicators []string) ([]string, error) {
	if len(indicators) == 0 {
		return nil, nil
	}
	if len(indicators) > maxRequestedResources {
		return nil, oauth.InvalidTarget("at most 10 resource parameters")
	}
	out := slices.Compact(slices.Sorted(slices.Values(indicators)))
	for _, ind := range out {
		if _, err := s.resolveResource(ctx, c, ind); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// resolveResource returns the registered resource that ind names, if c may
// have tokens for it.
func (s *Service) resolveResource(ctx context.Context, c *oauth.Client, ind string) (*store.Resource, error) {
	if why := oauth.ResourceIndicatorProblem(ind); why != "" {
		return nil, oauth.InvalidTarget("resource " + quote(ind) + " " + why)
	}
	if allowed := c.Metadata.AllowedResources; len(allowed) > 0 && !slices.Contains(allowed, ind) {
		return nil, oauth.InvalidTarget("the client may not ask for resource " + quote(ind))
	}
	r, err := s.resource(ctx, ind)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oauth.InvalidTarget("resource " + quote(ind) + " is not registered")
	}
	return r, err
}

// target picks the one resource an access token is for: the one the token
// request names, which must be among those granted when the grant was for
// some (RFC 8707 §2.2: a token request may narrow, never widen), or the one
// resource granted. Several granted and none named is refused rather than
// guessed. nil: no resource, the server's default audience.
func (s *Service) target(ctx context.Context, c *oauth.Client, requested, granted []string) (*store.Resource, error) {
	var ind string
	switch {
	case len(requested) > 1:
		return nil, oauth.InvalidTarget("one resource per access token: ask for each with its own token request")
	case len(requested) == 1:
		ind = requested[0]
		if len(granted) > 0 && !slices.Contains(granted, ind) {
			return nil, oauth.InvalidTarget("resource " + quote(ind) + " was not granted")
		}
	case len(granted) == 1:
		ind = granted[0]
	case len(granted) > 1:
		return nil, oauth.InvalidTarget("several resources were granted: name the one this token is for with resource")
	default:
		return nil, nil
	}
	return s.resolveResource(ctx, c, ind)
}

// cutScope is the scope of a token for r: what the grant decided, less what
// r does not define.
func cutScope(scopes []string, r *store.Resource) []string {
	out := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		if slices.Contains(r.Scopes, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// resource returns a resource by indicator through the cache (shared:
// callers must not modify it); unknown ones are cached briefly.
func (s *Service) resource(ctx context.Context, ind string) (*store.Resource, error) {
	if s.resources == nil {
		return nil, store.ErrNotFound
	}
	key := hashKey(kindResource, Hash(ind))
	v, err := load(ctx, s, key, ind, func(ctx context.Context, s *Service, ind string) ([]byte, time.Duration, error) {
		r, err := s.resources.ResourceByIndicator(ctx, ind)
		if errors.Is(err, store.ErrNotFound) {
			return nil, negativeTTL, nil
		}
		if err != nil {
			return nil, 0, err
		}
		b, err := json.Marshal(r)
		return b, mutableTTL, err
	})
	if err != nil {
		return nil, err
	}
	if isNegative(v) {
		return nil, store.ErrNotFound
	}
	if r, ok := s.memo.get(key, v); ok {
		return r.(*store.Resource), nil
	}
	var r store.Resource
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, err
	}
	s.memo.put(key, v, &r)
	return &r, nil
}

// audiencesOf returns the indicators of the resources that list clientID
// among their introspecting clients; nil when it is listed by none.
func (s *Service) audiencesOf(ctx context.Context, clientID string) ([]string, error) {
	if s.resources == nil || clientID == "" {
		return nil, nil
	}
	key := kindAudiences + clientID
	v, err := load(ctx, s, key, clientID, func(ctx context.Context, s *Service, clientID string) ([]byte, time.Duration, error) {
		all, err := s.resources.ListResources(ctx)
		if err != nil {
			return nil, 0, err
		}
		var auds []string
		for _, r := range all {
			if slices.Contains(r.IntrospectingClients, clientID) {
				auds = append(auds, r.Indicator)
			}
		}
		if auds == nil {
			return nil, mutableTTL, nil
		}
		b, err := json.Marshal(auds)
		return b, mutableTTL, err
	})
	if err != nil || isNegative(v) {
		return nil, err
	}
	if a, ok := s.memo.get(key, v); ok {
		return a.([]string), nil
	}
	var auds []string
	if err := json.Unmarshal(v, &auds); err != nil {
		return nil, err
	}
	s.memo.put(key, v, auds)
	return auds, nil
}

// restrictAudience turns inactive the answers for a resource server that
// are about tokens not meant for it: a client listed in some resource's
// introspecting clients learns only of tokens whose aud is one of its
// resources (RFC 7662 §4: the server may tailor answers to the caller).
// A client listed by no resource keeps seeing every token.
func (s *Service) restrictAudience(ctx context.Context, callerID string, out []*Info) error {
	auds, err := s.audiencesOf(ctx, callerID)
	if err != nil || auds == nil {
		return err
	}
	for i, info := range out {
		if info.Active && !forAudience(info, auds) {
			out[i] = inactive
		}
	}
	return nil
}

// forAudience reports whether info's aud names one of auds.
func forAudience(info *Info, auds []string) bool {
	for _, a := range info.Aud {
		if slices.Contains(auds, a) {
			return true
		}
	}
	return false
}

// InvalidateResource drops what the caches hold about a resource after a
// change: the resource under its old and new indicator, and the audiences of
// every client it listed before or lists now. before or after is nil for a
// creation or a deletion.
func (s *Service) InvalidateResource(ctx context.Context, before, after *store.Resource) {
	var keys []string
	for _, r := range []*store.Resource{before, after} {
		if r == nil {
			continue
		}
		keys = append(keys, hashKey(kindResource, Hash(r.Indicator)))
		for _, id := range r.IntrospectingClients {
			keys = append(keys, kindAudiences+id)
		}
	}
	if len(keys) == 0 {
		return
	}
	if err := s.invalidate(ctx, slices.Compact(slices.Sorted(slices.Values(keys)))...); err != nil {
		s.log.Warn("resource change not yet visible everywhere: cache deletion failed", "error", err.Error())
	}
}

// IntrospectFor is Introspect answered to an authenticated caller: a
// resource server (a client some resource lists among its introspecting
// clients) is told only about tokens for its own resources.
func (s *Service) IntrospectFor(ctx context.Context, callerID, tok string) (*Info, error) {
	info, err := s.Introspect(ctx, tok)
	if err != nil || !info.Active {
		return info, err
	}
	auds, err := s.audiencesOf(ctx, callerID)
	if err != nil {
		return nil, err
	}
	if auds != nil && !forAudience(info, auds) {
		return inactive, nil
	}
	return info, nil
}

// IntrospectBatchFor is IntrospectBatch answered to an authenticated
// caller, restricted as IntrospectFor is.
func (s *Service) IntrospectBatchFor(ctx context.Context, callerID string, toks []string) ([]*Info, error) {
	out, err := s.IntrospectBatch(ctx, toks)
	if err != nil {
		return nil, err
	}
	if err := s.restrictAudience(ctx, callerID, out); err != nil {
		return nil, err
	}
	return out, nil
}
