package token

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/authd/authd/internal/cache"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// Cache keys. Every key is a kind prefix and a hash or id, never a raw token.
const (
	kindClient = "client:" // client by id
	kindAT     = "at:"     // opaque access token by SHA-256: introspection answer
	kindJWT    = "jwt:"    // JWT by SHA-256: verified claims (immutable until exp)
	kindRev    = "rev:"    // revocation state of a jti or grant id: "1" or "0"
	kindUser   = "user:"   // what introspection needs of a user, by subject
)

// negative marks a cached "no such thing".
var negative = []byte{'-'}

const (
	// mutableTTL bounds how long shared state that revocation changes (token
	// records, revocation flags) lives in a cache tier; every change also
	// deletes the entry, this bounds the damage when a delete cannot reach a tier.
	mutableTTL = time.Minute
	// negativeTTL keeps a flood of one junk token off the store.
	negativeTTL = 5 * time.Second
	// loadBudget: a load slower than this is not cached. With the delayed
	// second delete below, it bounds how long a load that raced a revocation
	// can keep a stale answer in the cache.
	loadBudget = 500 * time.Millisecond
	// RedeleteAfter is when a change deletes its cache entries again
	// (invalidator.Options.Redelete).
	RedeleteAfter = 2 * loadBudget
	// MutableTTL is exported for invalidator.Options.EntryTTL.
	MutableTTL = mutableTTL
)

func hashKey(kind string, h []byte) string {
	b := make([]byte, len(kind)+base64.RawURLEncoding.EncodedLen(len(h)))
	copy(b, kind)
	base64.RawURLEncoding.Encode(b[len(kind):], h)
	return string(b)
}

// load reads key through the cache. fetch, given arg, returns the value to
// cache (nil: a negative entry) and its TTL; loads slower than loadBudget are
// not cached. fetch captures nothing, so a hit allocates no closure: this is
// on every request (the caller, its audiences, the token's client and user).
func load[A any](ctx context.Context, s *Service, key string, arg A, fetch func(context.Context, *Service, A) ([]byte, time.Duration, error)) ([]byte, error) {
	if v, ok := s.loader.Cached(ctx, key); ok {
		return v, nil
	}
	return s.loader.Load(ctx, key, func(ctx context.Context) ([]byte, time.Duration, error) {
		start := time.Now()
		v, ttl, err := fetch(ctx, s, arg)
		if err != nil {
			return nil, 0, err
		}
		if v == nil {
			v = negative
		}
		if time.Since(start) > loadBudget {
			ttl = 0
		}
		return v, ttl, nil
	})
}

// invalidate deletes keys from every tier, through the Invalidator: it
// repeats the deletion a moment later (to catch a load that read the store
// before the change and wrote the cache after the first delete) and, when a
// tier cannot be reached, records the deletion durably before returning, so
// that a revocation stays effective on every replica whatever restarts.
func (s *Service) invalidate(ctx context.Context, keys ...string) error {
	return s.inval.Invalidate(ctx, keys...)
}

// InvalidateClient drops a client from the caches after an admin change.
func (s *Service) InvalidateClient(ctx context.Context, id string) {
	if err := s.invalidate(ctx, kindClient+id); err != nil {
		s.log.Warn("client change not yet visible everywhere: cache deletion failed", "client_id", id, "error", err.Error())
	}
}

// client returns a client through the cache (shared: callers must not modify
// it); unknown ids are cached briefly so
// a flood of made-up client ids cannot reach the store.
func (s *Service) client(ctx context.Context, id string) (*oauth.Client, error) {
	key := kindClient + id
	v, err := load(ctx, s, key, id, func(ctx context.Context, s *Service, id string) ([]byte, time.Duration, error) {
		c, err := s.clients.Client(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, negativeTTL, nil
		}
		if err != nil {
			return nil, 0, err
		}
		b, err := json.Marshal(c)
		return b, mutableTTL, err
	})
	if err != nil {
		return nil, err
	}
	if isNegative(v) {
		return nil, store.ErrNotFound
	}
	if c, ok := s.memo.get(key, v); ok {
		return c.(*oauth.Client), nil
	}
	var c oauth.Client
	if err := json.Unmarshal(v, &c); err != nil {
		return nil, err
	}
	s.memo.put(key, v, &c)
	return &c, nil
}

func isNegative(v []byte) bool { return len(v) == 1 && v[0] == '-' }

// cachedInfo is an introspection answer as cached: the RFC 7662 fields and the
// grant it belongs to, for the revocation check.
type cachedInfo struct {
	Info
	Gid  string `json:"gid,omitempty"`
	Ugen int64  `json:"ugen,omitempty"`
}

func encodeInfo(info *Info) ([]byte, error) {
	return json.Marshal(cachedInfo{Info: *info, Gid: info.grantID, Ugen: info.userGen})
}

// decodeInfo decodes a cached answer, once per cached slice.
func (s *Service) decodeInfo(key string, v []byte) (*Info, error) {
	if info, ok := s.memo.get(key, v); ok {
		return info.(*Info), nil
	}
	var ci cachedInfo
	if err := json.Unmarshal(v, &ci); err != nil {
		return nil, err
	}
	info := ci.Info
	info.grantID, info.userGen = ci.Gid, ci.Ugen
	info.render()
	s.memo.put(key, v, &info)
	return &info, nil
}

// ttlUntil is how long an answer about a token expiring at exp may be cached.
func (s *Service) ttlUntil(exp int64, limit time.Duration) time.Duration {
	return min(time.Until(time.Unix(exp, 0)), limit)
}

// opaqueInfo introspects an opaque token through the cache. The answer says
// nothing of grant revocation; the caller checks that.
func (s *Service) opaqueInfo(ctx context.Context, h []byte) (*Info, error) {
	key := hashKey(kindAT, h)
	v, err := load(ctx, s, key, h, func(ctx context.Context, s *Service, h []byte) ([]byte, time.Duration, error) {
		info, err := s.opaqueFromStore(ctx, h)
		if err != nil {
			return nil, 0, err
		}
		if !info.Active {
			return nil, negativeTTL, nil
		}
		b, err := encodeInfo(info)
		return b, s.ttlUntil(info.Exp, mutableTTL), err
	})
	if err != nil {
		return nil, err
	}
	if isNegative(v) {
		return inactive, nil
	}
	return s.decodeInfo(key, v)
}

// jwtInfo verifies a JWT, remembering the result by the token's hash until it
// expires: a signature check is the expensive part of introspection, and its
// result cannot change. Revocation is checked separately.
func (s *Service) jwtInfo(ctx context.Context, tok string) (*Info, error) {
	sum := sha256.Sum256([]byte(tok))
	key := hashKey(kindJWT, sum[:])
	v, err := load(ctx, s, key, tok, func(ctx context.Context, s *Service, tok string) ([]byte, time.Duration, error) {
		info := s.verifyJWT(ctx, tok)
		if !info.Active {
			return nil, negativeTTL, nil
		}
		b, err := encodeInfo(info)
		return b, s.ttlUntil(info.Exp, s.opts.MaxTTL), err
	})
	if err != nil {
		return nil, err
	}
	if isNegative(v) {
		return inactive, nil
	}
	info, err := s.decodeInfo(key, v)
	if err != nil {
		return nil, err
	}
	// The cache may hold it a moment past exp; time is checked on every answer.
	if info.Exp <= s.opts.Now().Unix() {
		return inactive, nil
	}
	return info, nil
}

// revokedAmong reports, for each of ids, whether it is revoked, through
// the cache.
func (s *Service) revokedAmong(ctx context.Context, ids []string) ([]bool, error) {
	out := make([]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = kindRev + id
	}
	vals, err := cache.GetMany(ctx, s.cache, keys)
	if err != nil {
		vals = make([][]byte, len(keys)) // a cache failure is a miss
	}
	var missing []string
	for i, v := range vals {
		switch {
		case v == nil:
			missing = append(missing, ids[i])
		case len(v) == 1 && v[0] == '1':
			out[i] = true
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	start := time.Now()
	rs, err := s.revoked.Revoked(ctx, missing)
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(rs))
	for _, id := range rs {
		set[id] = true
	}
	for i, id := range ids {
		if set[id] {
			out[i] = true
		}
	}
	if time.Since(start) <= loadBudget {
		for _, id := range missing {
			v := []byte{'0'}
			if set[id] {
				v[0] = '1'
			}
			_ = s.cache.Set(ctx, kindRev+id, v, mutableTTL)
		}
	}
	return out, nil
}

// revoke records a revocation in the store, then drops its cached state.
func (s *Service) revoke(ctx context.Context, id string, until time.Time) error {
	if err := s.revoked.Revoke(ctx, id, until); err != nil {
		return err
	}
	return s.invalidate(ctx, kindRev+id)
}

// lookupMany is lookup for a batch: one cache round trip for every token's
// entry (MGet on Redis), then the usual read-through for the misses.
func (s *Service) lookupMany(ctx context.Context, toks []string) ([]*Info, error) {
	out := make([]*Info, len(toks))
	keys := make([]string, 0, len(toks))
	idx := make([]int, 0, len(toks))
	for i, tok := range toks {
		switch {
		case tok == "" || len(tok) > MaxTokenLength:
			out[i] = inactive
		case isJWT(tok):
			sum := sha256.Sum256([]byte(tok))
			keys, idx = append(keys, hashKey(kindJWT, sum[:])), append(idx, i)
		case isSealed(tok):
			out[i] = s.sealedInfo(tok) // no lookup: the token is its record
		case !s.wellFormed(tok):
			out[i] = inactive
		default:
			keys, idx = append(keys, hashKey(kindAT, Hash(tok))), append(idx, i)
		}
	}
	var vals [][]byte
	if len(keys) > 0 {
		var err error
		if vals, err = cache.GetMany(ctx, s.cache, keys); err != nil {
			vals = make([][]byte, len(keys)) // a cache failure is a miss
		}
	}
	now := s.opts.Now().Unix()
	for j, v := range vals {
		i := idx[j]
		switch {
		case v == nil:
			continue // a miss: read through below
		case isNegative(v):
			out[i] = inactive
		default:
			info, err := s.decodeInfo(keys[j], v)
			if err != nil {
				return nil, err
			}
			if info.Exp <= now {
				info = inactive
			}
			out[i] = info
		}
	}
	for i, tok := range toks {
		if out[i] != nil {
			continue
		}
		info, err := s.lookup(ctx, tok)
		if err != nil {
			return nil, err
		}
		out[i] = info
	}
	return out, nil
}

// userState is what introspection needs of a user: enough to tell whether a
// token issued to them has ended. It holds nothing secret (no hash, no
// profile), so it may sit in Redis.
type userState struct {
	Generation int64 `json:"g"`
	Disabled   bool  `json:"d,omitempty"`
}

// user returns the state of the user with that subject through the cache; a
// nil state means there is no such user.
func (s *Service) user(ctx context.Context, sub string) (*userState, error) {
	key := kindUser + sub
	v, err := load(ctx, s, key, sub, func(ctx context.Context, s *Service, sub string) ([]byte, time.Duration, error) {
		u, err := s.accounts.User(ctx, sub)
		if errors.Is(err, store.ErrNotFound) {
			return nil, negativeTTL, nil
		}
		if err != nil {
			return nil, 0, err
		}
		b, err := json.Marshal(&userState{Generation: u.Generation, Disabled: u.Disabled})
		return b, mutableTTL, err
	})
	if err != nil {
		return nil, err
	}
	if isNegative(v) {
		return nil, nil
	}
	if st, ok := s.memo.get(key, v); ok {
		return st.(*userState), nil
	}
	var st userState
	if err := json.Unmarshal(v, &st); err != nil {
		return nil, err
	}
	s.memo.put(key, v, &st)
	return &st, nil
}

// userEnds reports whether a token issued to a person has ended with their
// account: the user is gone or disabled, or their password changed since (the
// generation moved on). Tokens of clients acting for themselves carry no grant
// and are not checked.
func (s *Service) userEnds(ctx context.Context, info *Info) (bool, error) {
	if info.grantID == "" || s.accounts == nil {
		return false, nil
	}
	st, err := s.user(ctx, info.Sub)
	if err != nil {
		return false, err
	}
	return st == nil || st.Disabled || st.Generation != info.userGen, nil
}

// InvalidateUser drops what the caches hold of a user after the account
// changed (password, disabling, deletion): their tokens end within the
// staleness bound on every replica.
func (s *Service) InvalidateUser(ctx context.Context, id string) error {
	return s.invalidate(ctx, UserCacheKey(id))
}

// UserCacheKey is the cache key of what introspection holds of a user, for
// whoever changes users without a Service at hand (the account service is
// built before it).
func UserCacheKey(id string) string { return kindUser + id }

// OriginStore answers whether some client allows a CORS origin (store.Clients).
type OriginStore interface {
	OriginAllowed(ctx context.Context, origin string) (bool, error)
}

// kindCORS caches OriginStore answers by origin.
const kindCORS = "cors:"

// corsTTL bounds how long an answer about an origin is cached, yes or no. A
// preflight carries no client, so no client change can name the entries to
// delete; browsers cache a preflight for minutes anyway (Access-Control-Max-Age).
const corsTTL = 5 * time.Second

// CachedOrigins answers OriginAllowed through s's cache, so a flood of
// preflights from one origin costs one store query per corsTTL.
func (s *Service) CachedOrigins(st OriginStore) *Origins { return &Origins{s: s, st: st} }

// Origins is httpapi.Origins over the store, cached.
type Origins struct {
	s  *Service
	st OriginStore
}

type originQuery struct {
	st     OriginStore
	origin string
}

// OriginAllowed reports whether some client allows origin.
func (o *Origins) OriginAllowed(ctx context.Context, origin string) (bool, error) {
	q := originQuery{o.st, origin}
	v, err := load(ctx, o.s, kindCORS+origin, q, func(ctx context.Context, _ *Service, q originQuery) ([]byte, time.Duration, error) {
		ok, err := q.st.OriginAllowed(ctx, q.origin)
		if err != nil || !ok {
			return nil, corsTTL, err
		}
		return []byte{'1'}, corsTTL, nil
	})
	if err != nil {
		return false, err
	}
	return !isNegative(v), nil
}
