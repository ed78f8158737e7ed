package token

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// Token type identifiers (RFC 8693 §3).
const (
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
)

// party is a verified subject or actor token: who it names and what it
// allows.
type party struct {
	sub  string // authd's subject (a user id or client id), or the issuer's sub for an actor
	iss  string // the token's issuer
	user *store.User
	// scopes is the token's scope; hasScope false when it carries none
	// (an id_token, a trusted issuer's JWT without scope).
	scopes   []string
	hasScope bool
	exp      time.Time
	grantID  string // authd's grant the token belongs to; "" for others
	clientID string // the client an authd access token was issued to
	act      *Actor
	mayAct   *Actor
}

// tokenExchange is RFC 8693 §2: the client presents a subject token (and,
// for delegation, an actor token) and gets a token for the subject that
// shows who acts (§4.1). Without an actor token it is impersonation, which
// only a client registered with allow_impersonation may do.
func (s *Service) tokenExchange(ctx context.Context, c *oauth.Client, req *Request) (*grant, error) {
	// §2.1: subject_token and subject_token_type are REQUIRED;
	// actor_token_type is REQUIRED with an actor_token and must not be
	// given without one.
	switch {
	case req.SubjectToken == "":
		return nil, oauth.InvalidRequest("subject_token is required")
	case req.SubjectTokenType == "":
		return nil, oauth.InvalidRequest("subject_token_type is required")
	case req.ActorToken != "" && req.ActorTokenType == "":
		return nil, oauth.InvalidRequest("actor_token_type is required with an actor_token")
	case req.ActorToken == "" && req.ActorTokenType != "":
		return nil, oauth.InvalidRequest("actor_token_type is given without an actor_token")
	}
	format, issuedType := "", TokenTypeAccessToken
	switch req.RequestedTokenType {
	case "", TokenTypeAccessToken:
	case TokenTypeJWT:
		// A JWT access token (RFC 9068) is a JWT; asked for as one, it is
		// one whatever the client's or resource's format.
		format, issuedType = oauth.FormatJWT, TokenTypeJWT
	default:
		return nil, oauth.InvalidRequest("requested_token_type " + quote(req.RequestedTokenType) + " is not issued here; ask for " + TokenTypeAccessToken + " or " + TokenTypeJWT)
	}
	subj, err := s.party(ctx, c, "subject_token", req.SubjectToken, req.SubjectTokenType, true)
	if err != nil {
		return nil, err
	}
	var act *Actor
	actorName := ""
	if req.ActorToken != "" {
		actor, err := s.party(ctx, c, "actor_token", req.ActorToken, req.ActorTokenType, false)
		if err != nil {
			return nil, err
		}
		// §4.4: may_act names who may act for the subject; any other
		// actor is refused.
		if m := subj.mayAct; m != nil && (m.Sub != actor.sub || (m.Iss != "" && m.Iss != actor.iss)) {
			return nil, oauth.InvalidRequest("the actor_token's subject is not one the subject_token's may_act allows")
		}
		// §4.1: the current actor first, the ones before it nested; the
		// subject token's own chain is what happened to the subject
		// before, else the actor's own (it acts for someone too).
		prior := subj.act
		if prior == nil {
			prior = actor.act
		}
		act = &Actor{Sub: actor.sub, Iss: actor.iss, Act: prior}
		if act.depth() > MaxActorDepth {
			return nil, oauth.InvalidRequest("the delegation chain would be longer than 5 actors")
		}
		actorName = actor.sub
	} else {
		// §1.1: impersonation, "A is B" with nothing to tell it from B.
		if !c.Metadata.AllowImpersonation {
			return nil, oauth.UnauthorizedClient("this client may not impersonate: send an actor_token (delegation) or register it with allow_impersonation")
		}
		act = subj.act
	}
	scopes, err := exchangeScope(req.Scope, subj, c)
	if err != nil {
		return nil, err
	}
	target, err := s.exchangeTarget(ctx, c, req)
	if err != nil {
		return nil, err
	}
	g := &grant{client: c, subject: subj.sub, user: subj.user, scopes: scopes, familyScope: scopes,
		grantID: subj.grantID, target: target, act: act, notAfter: subj.exp, format: format,
		noRefresh: true, issuedType: issuedType}
	if g.user != nil && g.grantID == "" {
		// A user's token needs a grant for introspection to check the
		// user's generation; a trusted issuer's or an id_token starts one.
		g.grantID = s.randomID()
	}
	g.exchanged = map[string]string{"subject_token_type": req.SubjectTokenType, "subject_issuer": subj.iss,
		"actor": actorName, "actor_token_type": req.ActorTokenType}
	return g, nil
}

// exchangeScope is the new token's scope: what the request asks for, which
// must be within the subject token's scope (a token exchange may narrow,
// never widen) and the client's; absent, all of that.
func exchangeScope(requested string, subj *party, c *oauth.Client) ([]string, error) {
	allowed := c.Scopes
	if subj.hasScope {
		allowed = make([]string, 0, len(subj.scopes))
		for _, sc := range subj.scopes {
			if oauth.HasScope(c.Scopes, sc) {
				allowed = append(allowed, sc)
			}
		}
		if requested != "" && !oauth.SubsetOf(oauth.ParseScope(requested), subj.scopes) {
			return nil, oauth.InvalidScope("the requested scope exceeds the subject_token's")
		}
	}
	return resolveScope(requested, allowed)
}

// exchangeTarget picks the resource the token is for from the resource and
// audience parameters (RFC 8693 §2.1): an audience is this server (its
// default audience) or a registered resource's indicator; one target per
// token (§2.2.2: invalid_target when the server will not issue for them).
func (s *Service) exchangeTarget(ctx context.Context, c *oauth.Client, req *Request) (*store.Resource, error) {
	inds := slices.Clone(req.Resources)
	self := false
	for _, a := range req.Audiences {
		if a == s.opts.Issuer || slices.Contains(s.opts.Audience, a) {
			self = true
			continue
		}
		if _, err := s.resolveResource(ctx, c, a); err != nil {
			if e, ok := oauth.As(err); ok && e.Code == oauth.CodeInvalidTarget {
				return nil, oauth.InvalidTarget("audience " + quote(a) + " is neither this server nor a resource the client may ask for")
			}
			return nil, err
		}
		inds = append(inds, a)
	}
	inds = slices.Compact(slices.Sorted(slices.Values(inds)))
	if self && len(inds) > 0 {
		return nil, oauth.InvalidTarget("one audience per token: this server or one resource")
	}
	return s.target(ctx, c, inds, nil)
}

// party verifies a subject or actor token of type typ (RFC 8693 §3) and says
// who it names. Every refusal is invalid_request (§2.2.2: "the subject_token
// or actor_token are invalid for any reason"), naming which token.
func (s *Service) party(ctx context.Context, c *oauth.Client, name, tok, typ string, subject bool) (*party, error) {
	bad := func(why string) error { return oauth.InvalidRequest("invalid " + name + ": " + why) }
	if len(tok) > MaxTokenLength {
		return nil, bad("too long")
	}
	switch typ {
	case TokenTypeAccessToken:
		return s.accessParty(ctx, c, tok, subject, bad)
	case TokenTypeIDToken:
		return s.idTokenParty(ctx, c, tok, bad)
	case TokenTypeJWT:
	default:
		return nil, oauth.InvalidRequest(name + "_type " + quote(typ) + " is not supported; use " +
			strings.Join([]string{TokenTypeAccessToken, TokenTypeJWT, TokenTypeIDToken}, ", "))
	}
	// A JWT: authd's own (an access token or an id_token, told apart by
	// typ), or a trusted issuer's.
	jws, iss, err := peekIssuer(tok)
	if err != nil {
		return nil, partyError(err, bad)
	}
	if iss == s.opts.Issuer {
		if t, _ := jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType].(string); strings.EqualFold(t, TypeAccessTokenJWT) ||
			strings.EqualFold(t, "application/"+TypeAccessTokenJWT) {
			return s.accessParty(ctx, c, tok, subject, bad)
		}
		return s.idTokenParty(ctx, c, tok, bad)
	}
	ext, err := s.verifyExternal(ctx, jws, iss)
	if err != nil {
		return nil, partyError(err, bad)
	}
	cl := ext.claims
	p := &party{sub: cl.Sub, iss: ext.ti.Issuer, exp: ext.exp, act: cl.Act, mayAct: cl.MayAct}
	if cl.Scope != nil {
		p.scopes, p.hasScope = oauth.ParseScope(*cl.Scope), true
	}
	if !subject {
		// An actor is named as its issuer names it (§4.1: sub in the
		// context of iss), whether or not it is a user here.
		return p, nil
	}
	if ext.ti.SubjectMapping == oauth.SubjectMappingNone {
		return nil, bad("its issuer names no users here (subject_mapping none): it can only be an actor_token")
	}
	u, err := s.mapUser(ctx, ext.ti, cl.Sub)
	if err != nil {
		return nil, partyError(err, bad)
	}
	p.sub, p.user = u.ID, u
	return p, nil
}

// accessParty is an access token authd issued, which must be active
// (RFC 7662 §2.2, through the token service's own introspection).
func (s *Service) accessParty(ctx context.Context, c *oauth.Client, tok string, subject bool, bad func(string) error) (*party, error) {
	info, err := s.Introspect(ctx, tok)
	if err != nil {
		return nil, err
	}
	if !info.Active {
		return nil, bad("not an active access token")
	}
	// An actor token proves who the acting party is: it must be the
	// client's own, or any client could name any other as the actor.
	if !subject && info.ClientID != c.ID {
		return nil, bad("an actor access token must have been issued to the client presenting it")
	}
	p := &party{sub: info.Sub, iss: s.opts.Issuer, scopes: oauth.ParseScope(info.Scope), hasScope: true,
		exp: time.Unix(info.Exp, 0), grantID: info.grantID, clientID: info.ClientID, act: info.Act}
	if info.grantID != "" && subject {
		// A user's token (only those belong to a grant).
		u, err := s.accounts.User(ctx, info.Sub)
		if errors.Is(err, store.ErrNotFound) {
			return nil, bad("its user is gone")
		}
		if err != nil {
			return nil, err
		}
		p.user = u
	}
	return p, nil
}

// idTokenParty is an id_token authd issued (OpenID Connect Core §2),
// verified with the id_token keys only. It must be for the client
// presenting it (its aud, §2): an id_token travels through browsers, so
// anyone else holding one proves nothing.
func (s *Service) idTokenParty(ctx context.Context, c *oauth.Client, tok string, bad func(string) error) (*party, error) {
	payload, err := s.signer.VerifyFor(ctx, tok, "JWT", keys.PurposeIDToken)
	if err != nil {
		return nil, bad("not an id_token signed by this server")
	}
	var cl idClaims
	if err := json.Unmarshal(payload, &cl); err != nil {
		return nil, bad("malformed id_token claims")
	}
	now := s.opts.Now()
	switch {
	case cl.Iss != s.opts.Issuer:
		return nil, bad("the id_token's iss is not this server")
	case cl.Exp <= now.Unix():
		return nil, bad("the id_token has expired")
	case cl.Aud != c.ID:
		return nil, bad("the id_token was not issued to this client")
	}
	u, err := s.accounts.User(ctx, cl.Sub)
	if errors.Is(err, store.ErrNotFound) {
		return nil, bad("its user is gone")
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, bad("its user is disabled")
	}
	return &party{sub: u.ID, iss: s.opts.Issuer, user: u, exp: time.Unix(cl.Exp, 0)}, nil
}

// partyError turns a refusal into the grant's invalid_request.
func partyError(err error, bad func(string) error) error {
	var r *refusal
	if errors.As(err, &r) {
		return bad(r.why)
	}
	return err
}
