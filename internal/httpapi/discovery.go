package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/authd/authd/internal/oauth"
)

const readyTimeout = 2 * time.Second

func itoa(n int) string { return strconv.Itoa(n) }

// metadata is the RFC 8414 authorization server metadata, which doubles as the
// OpenID Provider metadata (OpenID Connect Discovery 1.0 §3).
type metadata struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	BatchIntrospectionEndpoint        string   `json:"batch_introspection_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethods          []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethods  []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethods     []string `json:"revocation_endpoint_auth_methods_supported"`
	AccessTokenSigningAlgValues       []string `json:"access_token_signing_alg_values_supported"`
	AuthorizationResponseIssParameter bool     `json:"authorization_response_iss_parameter_supported"`
	ServiceDocumentation              string   `json:"service_documentation,omitempty"`
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
		GrantTypesSupported:              []string{oauth.GrantClientCredentials},
		TokenEndpointAuthMethods:         secretMethods,
		IntrospectionEndpointAuthMethods: secretMethods,
		RevocationEndpointAuthMethods:    secretMethods,
		AccessTokenSigningAlgValues:      s.keys.Algorithms(),
	}
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
	h.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(s.discovery)
}
