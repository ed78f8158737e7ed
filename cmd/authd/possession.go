package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/clientauth/assertion"
	"github.com/authd/authd/internal/config"
	"github.com/authd/authd/internal/dpop"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/mtls"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/outbound"
	"github.com/authd/authd/internal/replay"
	rmemory "github.com/authd/authd/internal/replay/memory"
	rredis "github.com/authd/authd/internal/replay/redis"
	"github.com/authd/authd/internal/token"
)

// buildReplay is the record of single-use values (client assertions' jti,
// DPoP proofs) every replica shares: Redis when there is one (a replay at
// another replica is a replay), else in process.
func buildReplay(ctx context.Context, cfg *config.Config) (replay.Cache, func(), error) {
	if cfg.RedisURL == "" {
		m := rmemory.New(rmemory.Options{})
		return m, m.Close, nil
	}
	r, err := rredis.New(ctx, rredis.Options{URL: cfg.RedisURL, Prefix: cfg.RedisPrefix + "replay:"})
	if err != nil {
		return nil, nil, err
	}
	return r, func() { r.Close() }, nil
}

// buildOutbound is the one fetcher for what authd reads from elsewhere
// (clients' jwks_uri, trusted issuers' discovery documents and keys).
func buildOutbound(cfg *config.Config, reg prometheus.Registerer, log *slog.Logger) (*outbound.Fetcher, error) {
	opts := outbound.Options{AllowLoopback: cfg.OutboundAllowLoopback, Registerer: reg, Logger: log}
	if cfg.OutboundCAFile != "" {
		pool, err := outbound.LoadCAs(cfg.OutboundCAFile)
		if err != nil {
			return nil, &config.Error{Key: "AUTHD_OUTBOUND_CA_FILE", Msg: err.Error()}
		}
		opts.RootCAs = pool
	}
	return outbound.New(opts)
}

// buildAssertions verifies client assertions, with keys read through
// keys and jti recorded in rp.
func buildAssertions(cfg *config.Config, keys remoteKeys, rp replay.Cache, secrets assertion.Secrets) (*assertion.Verifier, error) {
	return assertion.New(assertion.Config{
		Issuer:        cfg.Issuer,
		TokenEndpoint: cfg.Issuer + httpapi.PathToken,
		// The other endpoints that authenticate clients (RFC 7523 §3: the
		// audience identifies the server; these URLs are its endpoints).
		// RFC 9126 §2: the PAR endpoint URL is one of them.
		OtherAudiences: []string{cfg.Issuer + httpapi.PathIntrospect, cfg.Issuer + httpapi.PathIntrospectBatch, cfg.Issuer + httpapi.PathRevoke,
			cfg.Issuer + httpapi.PathPAR},
		Keys:       keys,
		IssuerKeys: issuerKeys{keys},
		Secrets:    secrets,
		Replay:     rp,
	})
}

// buildDPoP configures proof-of-possession tokens; nonces are derived from
// a data key every replica shares.
func buildDPoP(cfg *config.Config, derived *keys.Derived, rp replay.Cache) (*httpapi.DPoP, error) {
	d := &httpapi.DPoP{Replay: rp}
	if cfg.DPoPNonce {
		n, err := dpop.NewNonces(derived.DPoPNonces, 0)
		if err != nil {
			return nil, err
		}
		d.Nonces = n
	}
	return d, nil
}

// buildMTLS reads client certificates from authd's own TLS connections and,
// with AUTHD_CLIENT_CERT_HEADER, from trusted proxies; chains of
// tls_client_auth certificates are checked against AUTHD_TLS_CLIENT_CA_FILE.
// It returns nils when neither TLS nor the header is configured.
func buildMTLS(cfg *config.Config, clientIPs *httpapi.ClientIPs) (*mtls.Source, *mtls.Verifier, error) {
	if cfg.TLSCertFile == "" && cfg.ClientCertHeader == "" {
		return nil, nil, nil
	}
	src, err := mtls.NewSource(mtls.SourceConfig{Header: cfg.ClientCertHeader, Trust: clientIPs})
	if err != nil {
		return nil, nil, &config.Error{Key: "AUTHD_CLIENT_CERT_HEADER", Msg: err.Error()}
	}
	v := &mtls.Verifier{}
	if cfg.TLSClientCAFile != "" {
		pool, err := loadPool(cfg.TLSClientCAFile)
		if err != nil {
			return nil, nil, &config.Error{Key: "AUTHD_TLS_CLIENT_CA_FILE", Msg: err.Error()}
		}
		v.Roots = pool
	}
	return src, v, nil
}

// tlsListener terminates TLS on ln with the configured certificate, asking
// every client for a certificate without requiring one (RFC 8705: most
// clients have none); the chain is judged by the method a client
// registered, not by the handshake, so self-signed certificates get through.
func tlsListener(cfg *config.Config, ln net.Listener) (net.Listener, error) {
	cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
	if err != nil {
		return nil, &config.Error{Key: "AUTHD_TLS_CERT_FILE", Msg: err.Error()}
	}
	return tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequestClientCert,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}), nil
}

func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// certAuth is v as token.CertVerifier: nil (no mutual TLS) stays a nil
// interface, which refuses the certificate methods.
func certAuth(v *mtls.Verifier) token.CertVerifier {
	if v == nil {
		return nil
	}
	return v
}

// lateValidator validates Client ID Metadata Documents with the client
// service, which is built after the token service that resolves them: the
// service is set before anything is served.
type lateValidator struct{ svc *client.Service }

func (v *lateValidator) Validate(m client.Metadata) (*oauth.Client, error) { return v.svc.Validate(m) }
