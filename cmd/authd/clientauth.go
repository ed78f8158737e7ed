package main

import (
	"context"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/authzreq"
	"github.com/authd/authd/internal/clientauth/assertion"
	"github.com/authd/authd/internal/outbound"
)

// remoteKeys is assertion.KeySource and assertion.IssuerKeys over the one
// outbound fetcher: a client's jwks_uri, and a trusted issuer's keys from
// its OpenID Connect discovery document (or an explicit jwks_uri).
type remoteKeys struct {
	fetch *outbound.Fetcher
	jwks  *outbound.JWKS
}

// Keys is assertion.KeySource.
func (r remoteKeys) Keys(ctx context.Context, uri, kid string) ([]jose.JSONWebKey, error) {
	keys, err := r.jwks.Keys(ctx, uri, kid)
	return keys, sourceError(err)
}

// issuerKeys is assertion.IssuerKeys.
type issuerKeys struct{ remoteKeys }

func (r issuerKeys) Keys(ctx context.Context, issuer, jwksURI, kid string) ([]jose.JSONWebKey, error) {
	if jwksURI == "" {
		md, err := r.fetch.Discover(ctx, issuer)
		if err != nil {
			return nil, sourceError(err)
		}
		jwksURI = md.JWKSURI
	}
	return r.remoteKeys.Keys(ctx, jwksURI, kid)
}

// sourceError says what a fetch failure means to client authentication: a
// key that is not there is no key (the assertion is refused); a document
// that is refused or unusable is the client's registration at fault
// (invalid_client); a network or server failure is ours to report as 503.
func sourceError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, outbound.ErrKeyNotFound):
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, outbound.ErrUnavailable):
		return err
	case errors.Is(err, outbound.ErrRefused), errors.Is(err, outbound.ErrBadResponse), errors.Is(err, outbound.ErrTooLarge):
		return fmt.Errorf("%w: %w", assertion.ErrKeysInvalid, err)
	}
	return fmt.Errorf("%w: %w", assertion.ErrUnavailable, err)
}

// requestObjectKeys is authzreq.KeySource over the same keys: a client's
// jwks_uri verifies its request objects as it does its assertions.
type requestObjectKeys struct{ remoteKeys }

func (r requestObjectKeys) Keys(ctx context.Context, uri, kid string) ([]jose.JSONWebKey, error) {
	keys, err := r.remoteKeys.Keys(ctx, uri, kid)
	if errors.Is(err, assertion.ErrUnavailable) {
		return nil, fmt.Errorf("%w: %w", authzreq.ErrKeysUnavailable, err)
	}
	return keys, err
}

// lateSecrets is assertion.Secrets over the token service, which is built
// after the verifier it is given to.
type lateSecrets struct {
	secretFor func(context.Context, *assertion.Client) ([]byte, error)
}

func (l *lateSecrets) SecretFor(ctx context.Context, c *assertion.Client) ([]byte, error) {
	if l.secretFor == nil {
		return nil, assertion.ErrUnsupported
	}
	return l.secretFor(ctx, c)
}
