// Package mtls is RFC 8705 for authd: finding the client certificate of a
// request, its x5t#S256 thumbprint for certificate-bound tokens, and the two
// mutual-TLS client authentication methods, tls_client_auth (PKI, §2.1) and
// self_signed_tls_client_auth (§2.2), with the client metadata that drives them.
//
// The one idea: a certificate is believed only from whoever terminated TLS with
// the client. A Source reads it from the TLS connection when authd terminated
// TLS itself, and from a header only when the direct peer is a proxy the caller
// trusts; a header from anyone else is ignored, never an error, because anyone
// can send one. What the certificate proves is then decided by a Verifier
// against the client's registration. Every failure is invalid_client on the
// wire; the sentinels below tell them apart for logs and security events.
//
// Deployment, in short:
//   - authd terminates TLS: tls.Config.ClientAuth = VerifyClientCertIfGiven
//     with ClientCAs for PKI clients only, or RequestClientCert when
//     self-signed clients must connect too (Go then verifies nothing, so set
//     Verifier.Roots for the PKI clients).
//   - behind a proxy: the proxy terminates TLS, requests a client certificate
//     and writes it into one header, replacing any the client sent (Envoy
//     forward_client_cert_details SANITIZE_SET; nginx proxy_set_header with
//     $ssl_client_escaped_cert). Set SourceConfig.ProxyVerified only if the
//     proxy verifies chains against the CAs authd would accept; otherwise
//     (nginx optional_no_ca, Envoy ACCEPT_UNTRUSTED) set Verifier.Roots.
//
// The package does no I/O: a client's jwks_uri is fetched by the caller.
package mtls
