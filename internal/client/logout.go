package client

import (
	"net/url"
	"strings"

	"github.com/authd/authd/internal/oauth"
)

// validLogoutMetadata checks the four logout members (OpenID Connect
// Back-Channel Logout 1.0 §2.2, Front-Channel Logout 1.0 §2) against the
// client's (already validated) redirect URIs and returns them normalised.
func (s *Service) validLogoutMetadata(in oauth.ClientMetadata, redirectURIs []string) (oauth.ClientMetadata, error) {
	out := in
	if in.BackchannelLogoutURI != "" {
		// Back-Channel §2.2: an absolute URI that MUST NOT include a
		// fragment. authd POSTs to it through the outbound fetcher, so it
		// obeys the fetcher's rules (https; http on loopback only where
		// loopback fetching is allowed).
		if why := s.validFetchURI(in.BackchannelLogoutURI); why != "" {
			return out, invalid("backchannel_logout_uri", "backchannel_logout_uri "+quote(in.BackchannelLogoutURI)+" "+why)
		}
	} else if in.BackchannelLogoutSessionRequired {
		return out, invalid("backchannel_logout_session_required", "backchannel_logout_session_required needs a backchannel_logout_uri")
	}
	if in.FrontchannelLogoutURI != "" {
		if why := validFrontchannelURI(in.FrontchannelLogoutURI, redirectURIs); why != "" {
			return out, invalid("frontchannel_logout_uri", "frontchannel_logout_uri "+quote(in.FrontchannelLogoutURI)+" "+why)
		}
	} else if in.FrontchannelLogoutSessionRequired {
		return out, invalid("frontchannel_logout_session_required", "frontchannel_logout_session_required needs a frontchannel_logout_uri")
	}
	return out, nil
}

// validFrontchannelURI checks a URI the signed-out page loads in an iframe.
// Front-Channel Logout §2: absolute, MAY have a query, MUST NOT have a
// fragment, and its scheme, host and port MUST be those of a registered
// redirect URI. It must be https (http on loopback only), like a redirect URI.
func validFrontchannelURI(raw string, redirectURIs []string) string {
	if len(raw) > maxURILength {
		return "is too long"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "must be an absolute https URL"
	}
	if u.User != nil {
		return "must not carry credentials"
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "must not contain a fragment"
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !isLoopbackHost(u.Host)) {
		return "must be an https URL"
	}
	for _, r := range redirectURIs {
		ru, err := url.Parse(r)
		if err == nil && strings.EqualFold(ru.Scheme, u.Scheme) && strings.EqualFold(ru.Host, u.Host) {
			return ""
		}
	}
	return "must have the scheme, host and port of a registered redirect URI"
}
