package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/authd/authd/internal/oauth"
)

const readyTimeout = 2 * time.Second

// PathEndSession is the OpenID Connect RP-Initiated Logout 1.0 end_session_endpoint,
// relative to the issuer. The browser handler mounted with OIDC serves it
// (login.PathLogout).
const PathEndSession = "/logout"

func itoa(n int) string { return strconv.Itoa(n) }

// metadata is the RFC 8414 authorization server metadata, which doubles as the
// OpenID Provider metadata (OpenID Connect Discovery 1.0 §3).
type metadata struct {
	Issuer                     string `json:"issuer"`
	AuthorizationEndpoint      string `json:"authorization_endpoint,omitempty"`
	TokenEndpoint              string `json:"token_endpoint"`
	UserInfoEndpoint           string `json:"userinfo_endpoint,omitempty"`
	EndSessionEndpoint         string `json:"end_session_endpoint,omitempty"` // RP-Initiated Logout 1.0 §2.1
	JWKSURI                    string `json:"jwks_uri"`
	IntrospectionEndpoint      string `json:"introspection_endpoint"`
	BatchIntrospectionEndpoint string `json:"batch_introspection_endpoint"`
	RevocationEndpoint         string `json:"revocation_endpoint"`
	RegistrationEndpoint       string `json:"registration_endpoint,omitempty"` // RFC 8414 §2
	// RFC 8628 §4.
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
	// draft-ietf-oauth-client-id-metadata-document-01: a URL client_id is
	// fetched as the client's metadata.
	ClientIDMetadataDocumentSupported bool `json:"client_id_metadata_document_supported,omitempty"`
	// RFC 9701 §7.
	IntrospectionSigningAlgValues []string `json:"introspection_signing_alg_values_supported,omitempty"`
	// RFC 8414 §2: the JWS algorithms of private_key_jwt and
	// client_secret_jwt assertions, at each endpoint that takes them.
	TokenEndpointAuthSigningAlgs         []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	IntrospectionEndpointAuthSigningAlgs []string `json:"introspection_endpoint_auth_signing_alg_values_supported,omitempty"`
	RevocationEndpointAuthSigningAlgs    []string `json:"revocation_endpoint_auth_signing_alg_values_supported,omitempty"`
	// RFC 8705 §3.3.
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// RFC 9449 §5.1.
	DPoPSigningAlgValues []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// RFC 8705 §5: where clients using mutual TLS send requests. authd takes
	// certificates on its one public listener (or from its proxy), so the
	// aliases are the endpoints themselves; clients that look for them first
	// (FAPI 2.0 ones do) find them.
	MTLSEndpointAliases              map[string]string `json:"mtls_endpoint_aliases,omitempty"`
	ScopesSupported                  []string          `json:"scopes_supported,omitempty"`
	ResponseTypesSupported           []string          `json:"response_types_supported"`
	ResponseModesSupported           []string          `json:"response_modes_supported,omitempty"`
	GrantTypesSupported              []string          `json:"grant_types_supported"`
	SubjectTypesSupported            []string          `json:"subject_types_supported,omitempty"`
	IDTokenSigningAlgValues          []string          `json:"id_token_signing_alg_values_supported,omitempty"`
	TokenEndpointAuthMethods         []string          `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethods []string          `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethods    []string          `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported    []string          `json:"code_challenge_methods_supported,omitempty"`
	AccessTokenSigningAlgValues      []string          `json:"access_token_signing_alg_values_supported"`
	ClaimsSupported                  []string          `json:"claims_supported,omitempty"`
	PromptValuesSupported            []string          `json:"prompt_values_supported,omitempty"`
	// OpenID Connect Discovery 1.0 §3.
	ACRValuesSupported                []string `json:"acr_values_supported,omitempty"`
	ClaimsParameterSupported          bool     `json:"claims_parameter_supported,omitempty"`
	AuthorizationResponseIssParameter bool     `json:"authorization_response_iss_parameter_supported"`
	// RFC 9126 §5.
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint,omitempty"`
	RequirePushedAuthorizationRequests bool   `json:"require_pushed_authorization_requests,omitempty"`
	// RFC 9101 §10.5 and OpenID Connect Discovery §3. request_uri is
	// stated false (its default there is true): only PAR's are taken.
	RequestParameterSupported     *bool    `json:"request_parameter_supported,omitempty"`
	RequestURIParameterSupported  *bool    `json:"request_uri_parameter_supported,omitempty"`
	RequestObjectSigningAlgValues []string `json:"request_object_signing_alg_values_supported,omitempty"`
	// Back-Channel Logout 1.0 §2.1 and Front-Channel Logout 1.0 §3: logout
	// tokens and iframes, both with sid.
	BackchannelLogoutSupported         bool `json:"backchannel_logout_supported,omitempty"`
	BackchannelLogoutSessionSupported  bool `json:"backchannel_logout_session_supported,omitempty"`
	FrontchannelLogoutSupported        bool `json:"frontchannel_logout_supported,omitempty"`
	FrontchannelLogoutSessionSupported bool `json:"frontchannel_logout_session_supported,omitempty"`
}

func (s *Server) discoveryDocument() []byte {
	iss := s.opts.Issuer
	secretMethods := []string{oauth.AuthMethodBasic, oauth.AuthMethodPost}
	m := metadata{
		Issuer:                           iss,
		TokenEndpoint:                    iss + PathToken,
		JWKSURI:                          iss + PathJWKS,
		IntrospectionEndpoint:            iss + PathIntrospect,
		BatchIntrospectionEndpoint:       iss + PathIntrospectBatch,
		RevocationEndpoint:               iss + PathRevoke,
		ResponseTypesSupported:           []string{},
		GrantTypesSupported:              s.tokens.Grants(),
		TokenEndpointAuthMethods:         secretMethods,
		IntrospectionEndpointAuthMethods: secretMethods,
		RevocationEndpointAuthMethods:    secretMethods,
		AccessTokenSigningAlgValues:      s.keys.Algorithms(),
	}
	if s.opts.AccessTokenAlg != "" {
		m.AccessTokenSigningAlgValues = []string{s.opts.AccessTokenAlg}
	}
	if s.opts.Registration != nil {
		m.RegistrationEndpoint = iss + PathRegister
	}
	if s.opts.Device != nil {
		m.DeviceAuthorizationEndpoint = iss + PathDeviceAuthorization
	}
	m.ClientIDMetadataDocumentSupported = s.opts.ClientIDMetadataDocuments
	if s.opts.SignIntrospection != nil {
		m.IntrospectionSigningAlgValues = []string{s.opts.IntrospectionAlg}
	}
	if s.opts.OIDC {
		m.AuthorizationEndpoint = iss + PathAuthorize
		m.UserInfoEndpoint = iss + PathUserInfo
		m.EndSessionEndpoint = iss + PathEndSession
		m.ScopesSupported = []string{"openid", "profile", "email", "address", "phone"}
		m.ResponseTypesSupported = []string{"code"}
		m.ResponseModesSupported = []string{"query"}
		m.SubjectTypesSupported = []string{"public"}
		m.IDTokenSigningAlgValues = []string{s.opts.IDTokenAlg}
		if len(s.opts.IDTokenAlgs) > 0 {
			m.IDTokenSigningAlgValues = s.opts.IDTokenAlgs
		}
		// Public clients (PKCE, no secret) authenticate with "none".
		m.TokenEndpointAuthMethods = []string{oauth.AuthMethodBasic, oauth.AuthMethodPost, oauth.AuthMethodNone}
		// A public client revokes its own tokens (RFC 7009 §2.1).
		m.RevocationEndpointAuthMethods = m.TokenEndpointAuthMethods
		m.CodeChallengeMethodsSupported = []string{oauth.PKCEMethodS256}
		m.ClaimsSupported = []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "preferred_username", "name", "given_name", "family_name", "email", "email_verified", "phone_number", "phone_number_verified", "address", "acr", "amr"}
		m.ACRValuesSupported = []string{oauth.ACRPassword}
		m.ClaimsParameterSupported = true
		m.PromptValuesSupported = []string{"none", "login", "consent", "select_account"}
		m.AuthorizationResponseIssParameter = true
		if s.opts.LogoutNotifications {
			m.BackchannelLogoutSupported, m.BackchannelLogoutSessionSupported = true, true
			m.FrontchannelLogoutSupported, m.FrontchannelLogoutSessionSupported = true, true
			m.ClaimsSupported = append(m.ClaimsSupported, "sid")
		}
	}
	if s.opts.OIDC && s.opts.PAR != nil {
		m.PushedAuthorizationRequestEndpoint = iss + PathPAR
		m.RequirePushedAuthorizationRequests = s.opts.PAR.Required
	}
	if s.opts.OIDC {
		yes, no := true, false
		m.RequestURIParameterSupported = &no
		if len(s.opts.RequestObjectAlgs) > 0 {
			m.RequestParameterSupported = &yes
			m.RequestObjectSigningAlgValues = s.opts.RequestObjectAlgs
		} else {
			m.RequestParameterSupported = &no
		}
	}
	// Methods beyond secrets, where they are configured, at every endpoint
	// that authenticates clients.
	var extra []string
	if len(s.opts.AssertionAlgs) > 0 {
		extra = append(extra, oauth.AuthMethodPrivateKeyJWT, oauth.AuthMethodSecretJWT)
		m.TokenEndpointAuthSigningAlgs = s.opts.AssertionAlgs
		m.IntrospectionEndpointAuthSigningAlgs = s.opts.AssertionAlgs
		m.RevocationEndpointAuthSigningAlgs = s.opts.AssertionAlgs
	}
	if s.opts.DPoP != nil {
		m.DPoPSigningAlgValues = s.opts.DPoP.algorithms()
	}
	if s.opts.ClientCerts != nil {
		extra = append(extra, oauth.AuthMethodTLS, oauth.AuthMethodSelfSignedTLS)
		m.TLSClientCertificateBoundAccessTokens = true
		m.MTLSEndpointAliases = map[string]string{
			"token_endpoint":         m.TokenEndpoint,
			"introspection_endpoint": m.IntrospectionEndpoint,
			"revocation_endpoint":    m.RevocationEndpoint,
		}
		if m.UserInfoEndpoint != "" {
			m.MTLSEndpointAliases["userinfo_endpoint"] = m.UserInfoEndpoint
		}
		if m.PushedAuthorizationRequestEndpoint != "" {
			m.MTLSEndpointAliases["pushed_authorization_request_endpoint"] = m.PushedAuthorizationRequestEndpoint
		}
	}
	m.TokenEndpointAuthMethods = append(slices.Clip(m.TokenEndpointAuthMethods), extra...)
	m.IntrospectionEndpointAuthMethods = append(slices.Clip(m.IntrospectionEndpointAuthMethods), extra...)
	m.RevocationEndpointAuthMethods = append(slices.Clip(m.RevocationEndpointAuthMethods), extra...)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(err) // a fixed struct of strings always marshals
	}
	return append(b, '\n')
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	// Public and identical for everyone, so a CDN may hold it.
	h.Set("Cache-Control", "public, max-age="+itoa(s.opts.DiscoveryMaxAge))
	h["Access-Control-Allow-Origin"] = hdrAnyOrigin
	_, _ = w.Write(s.discovery)
}
