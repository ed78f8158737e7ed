package token

import (
	"context"
	"errors"
	"time"

	"github.com/authd/authd/internal/oauth"
)

// maxAssertionLifetime bounds a JWT bearer assertion: exp at most this far
// ahead. RFC 7523 §3 item 4 lets the server reject a JWT with an
// unreasonably far exp; an assertion is minted for one request.
const maxAssertionLifetime = time.Hour

// jwtBearer is RFC 7523 §2.1: the client presents a JWT from a trusted
// issuer naming a user, and gets an access token for that user. Every
// refusal of the assertion is invalid_grant (§3.1).
func (s *Service) jwtBearer(ctx context.Context, c *oauth.Client, req *Request) (*grant, error) {
	if req.Assertion == "" {
		return nil, oauth.InvalidRequest("assertion is required")
	}
	jws, iss, err := peekIssuer(req.Assertion)
	if err != nil {
		return nil, assertionError(err)
	}
	ext, err := s.verifyExternal(ctx, jws, iss)
	if err != nil {
		return nil, assertionError(err)
	}
	cl := ext.claims
	// §3 item 4: exp is required (verifyExternal) and an assertion valid
	// for hours is not one to accept.
	if ext.exp.After(s.opts.Now().Add(maxAssertionLifetime + s.opts.Leeway)) {
		return nil, oauth.InvalidGrant("the assertion's exp is more than an hour away")
	}
	if ext.ti.SubjectMapping == oauth.SubjectMappingNone {
		return nil, oauth.InvalidGrant("the assertion's issuer names no users here (subject_mapping none)")
	}
	// §3 item 7 makes jti optional; authd needs it to use each assertion
	// once, which the same item allows it to insist on.
	if cl.Jti == "" || len(cl.Jti) > 256 {
		return nil, oauth.InvalidGrant("the assertion needs a jti (of at most 256 bytes)")
	}
	user, err := s.mapUser(ctx, ext.ti, cl.Sub)
	if err != nil {
		return nil, assertionError(err)
	}
	scopes, err := resolveScope(req.Scope, c.Scopes)
	if err != nil {
		return nil, err
	}
	target, err := s.target(ctx, c, req.Resources, nil)
	if err != nil {
		return nil, err
	}
	// Spent last, once everything else about the request is right, so a
	// mistyped scope does not burn the assertion.
	first, err := s.useOnce(ctx, ext.ti.Issuer, cl.Jti, ext.exp)
	if err != nil {
		return nil, assertionError(err)
	}
	if !first {
		return nil, oauth.InvalidGrant("the assertion has been used already")
	}
	return &grant{client: c, subject: user.ID, user: user, scopes: scopes, familyScope: scopes,
		grantID: s.randomID(), target: target, noRefresh: true}, nil
}

// assertionError is a refusal as invalid_grant (RFC 7523 §3.1); anything
// else (a store or key source that could not answer) as it is.
func assertionError(err error) error {
	var r *refusal
	if errors.As(err, &r) {
		return oauth.InvalidGrant("assertion refused: " + r.why)
	}
	return err
}
