package outbound

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// ProviderMetadata is what authd reads from an OpenID Provider's
// configuration (OIDC Discovery 1.0 §3).
type ProviderMetadata struct {
	Issuer                           string   `json:"issuer"`
	JWKSURI                          string   `json:"jwks_uri"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
}

// Discover fetches the configuration of the OpenID Provider issuer
// (OIDC Discovery 1.0 §4) through the fetcher's rules and cache, and checks
// that it names issuer exactly (§4.3), so that a provider cannot speak for
// another. Errors wrap ErrIssuerMismatch (an ErrBadResponse), ErrBadResponse
// for a configuration without a usable jwks_uri, ErrRefused for an issuer
// that is not an https URL without query and fragment, or those of Get.
func (f *Fetcher) Discover(ctx context.Context, issuer string) (*ProviderMetadata, error) {
	u, err := url.Parse(issuer)
	if err != nil || !u.IsAbs() || u.RawQuery != "" || u.ForceQuery || strings.Contains(issuer, "#") {
		// OIDC Core 1.0 §2: an Issuer Identifier is a case-sensitive https
		// URL with scheme, host and optionally a path, and no query or
		// fragment. (The scheme and host are Get's rules.)
		return nil, fmt.Errorf("%w: issuer %q is not a URL without query and fragment", ErrRefused, issuer)
	}
	// §4: any terminating "/" of the issuer is removed before appending.
	doc, err := f.Get(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", "application/json")
	if err != nil {
		return nil, err
	}
	var md ProviderMetadata
	if err := json.Unmarshal(doc.Body, &md); err != nil {
		return nil, fmt.Errorf("%w: %s: provider configuration: %v", ErrBadResponse, issuer, err)
	}
	// §4.3: "The issuer value returned MUST be identical to the Issuer URL
	// that was used as the prefix to /.well-known/openid-configuration".
	if md.Issuer != issuer {
		return nil, fmt.Errorf("%w: configuration fetched for %q names %.256q", ErrIssuerMismatch, issuer, md.Issuer)
	}
	// §3: jwks_uri is REQUIRED. Whether it may be fetched is Get's to say
	// when it is.
	if j, err := url.Parse(md.JWKSURI); md.JWKSURI == "" || err != nil || !j.IsAbs() {
		return nil, fmt.Errorf("%w: %s: configuration without an absolute jwks_uri", ErrBadResponse, issuer)
	}
	return &md, nil
}
