package config

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/authd/authd/internal/keys"
)

// Setting is one AUTHD_* key. The Config field, its default, its parser and
// validation, the --config file key, the README table and `authd config` all
// come from this one declaration.
type Setting struct {
	Key string
	// Default is the value used when the key is not set, as text; "" means
	// empty. Shown is what the README says the default is when it is not a
	// literal (computed at start, or generated).
	Default, Shown string
	// Doc is one line for the README and `authd config`.
	Doc string
	// Secret values are masked by `authd config`.
	Secret bool
	// Example is a valid value other than the default, for the test that
	// every key reaches its field.
	Example string
	set     func(c *Config, v string) error
	get     func(c *Config) string
}

// Settings returns every setting, in the order the README lists them.
func Settings() []Setting {
	cores := strconv.Itoa(runtime.NumCPU())
	return []Setting{
		str("AUTHD_LISTEN", "127.0.0.1:8080", "public API", "127.0.0.1:18080", addr(func(c *Config) *string { return &c.Listen })),
		str("AUTHD_ADMIN_LISTEN", "127.0.0.1:8081", "admin API and `/metrics` (keep it private)", "127.0.0.1:18081", addr(func(c *Config) *string { return &c.AdminListen })),
		{Key: "AUTHD_ISSUER", Shown: "`http://<AUTHD_LISTEN>`", Doc: "issuer identifier (https in production, behind a TLS-terminating proxy)",
			Example: "https://auth.example.com",
			set:     func(c *Config, v string) error { c.Issuer = v; return nil }, get: func(c *Config) string { return c.Issuer }},
		str("AUTHD_DATA_DIR", "authd-data", "SQLite file, generated secrets, the serve lock", "/var/lib/authd", plain(func(c *Config) *string { return &c.DataDir })),
		{Key: "AUTHD_DATABASE_URL", Shown: "empty: SQLite", Doc: "`postgres://…` for PostgreSQL", Secret: true,
			Example: "postgres://authd@db/authd", set: setDatabaseURL, get: func(c *Config) string { return c.DatabaseURL }},
		{Key: "AUTHD_REDIS_URL", Shown: "empty: in-process cache", Doc: "`redis://…`, `rediss://…` (Sentinel and Cluster as rueidis URLs)", Secret: true,
			Example: "redis://cache:6379/0", set: setRedisURL, get: func(c *Config) string { return c.RedisURL }},
		str("AUTHD_REDIS_PREFIX", "authd:", "key prefix of one deployment in Redis", "prod:", plain(func(c *Config) *string { return &c.RedisPrefix })),
		{Key: "AUTHD_ADMIN_TOKEN", Shown: "generated into the data folder", Doc: "admin bearer token (≥ 32 characters)", Secret: true,
			Example: strings.Repeat("t", 32), set: setAdminToken, get: func(c *Config) string { return c.AdminToken }},
		{Key: "AUTHD_MASTER_KEY", Shown: "generated (SQLite only)", Doc: "base64 of 32 bytes; wraps the data keys that seal signing keys and Redis values, tag opaque tokens and sign forms (rotate with `authd keys rotate-master`)", Secret: true,
			Example: base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))), set: setMasterKey, get: func(c *Config) string { return mask(c.MasterKey) }},
		{Key: "AUTHD_MASTER_KEY_FILE", Doc: "a file holding the master key instead of `AUTHD_MASTER_KEY` (not both)",
			Example: "-", set: func(c *Config, v string) error { c.MasterKeyFile = v; return nil }, get: func(c *Config) string { return c.MasterKeyFile }},
		{Key: "AUTHD_MASTER_KEY_PREVIOUS", Doc: "comma-separated older master keys still accepted while `authd keys rotate-master` rolls out", Secret: true,
			Example: base64.StdEncoding.EncodeToString([]byte(strings.Repeat("p", 32))), set: setPreviousMasterKeys,
			get: func(c *Config) string { return fmt.Sprint(len(c.PreviousMasterKeys), " keys") }},
		choice("AUTHD_SIGNING_ALG", keys.ES256, "access tokens: `ES256`, `EdDSA`, `RS256`", keys.EdDSA, keys.Algorithms, func(c *Config) *string { return &c.SigningAlg }),
		choice("AUTHD_ID_TOKEN_SIGNING_ALG", keys.RS256, "id_tokens of clients that name no `id_token_signed_response_alg`; RS256 keys are kept whatever this is, for clients that ask for it (OpenID Connect Core §15.1)", keys.ES256, keys.Algorithms, func(c *Config) *string { return &c.IDTokenAlg }),
		dur("AUTHD_KEY_ROTATE_EVERY", "2160h", "rotate signing keys on this schedule (90 days; 0: only `authd keys rotate`; else at least 1h)", "720h", true, func(c *Config) *time.Duration { return &c.KeyRotateEvery }),
		dur("AUTHD_KEY_PREPUBLISH", "6m", "a rotated-in key is in the JWKS this long before it signs (longer than the JWKS max-age); `authd keys rotate --now` skips it", "10m", true, func(c *Config) *time.Duration { return &c.KeyPrepublish }),
		dur("AUTHD_ACCESS_TOKEN_TTL", "1h", "default access-token lifetime", "30m", false, func(c *Config) *time.Duration { return &c.AccessTokenTTL }),
		choice("AUTHD_OPAQUE_TOKENS", "sealed", "what an opaque access token is: `sealed` (its record encrypted into the token itself: issuing writes nothing, so nothing is lost to a crash, and revocation, a user's sign-out or a client's deletion still end it at once) or `stored` (48 random characters naming a row written durably before the token is returned); either way tokens of the other kind issued before stay valid, so switching ends none", "stored",
			[]string{"sealed", "stored"}, func(c *Config) *string { return &c.OpaqueTokens }),
		dur("AUTHD_MAX_TOKEN_TTL", "24h", "ceiling of any access-token lifetime", "12h", false, func(c *Config) *time.Duration { return &c.MaxTokenTTL }),
		dur("AUTHD_REFRESH_TOKEN_TTL", "720h", "sliding refresh-token lifetime", "240h", false, func(c *Config) *time.Duration { return &c.RefreshTokenTTL }),
		dur("AUTHD_REFRESH_REUSE_GRACE", "2s", "a refresh token its client presents again this soon after rotating it (a retry, a second tab) gets working tokens instead of revoking its family; `0` turns it off; at most `1m`", "5s", true, func(c *Config) *time.Duration { return &c.RefreshReuseGrace }),
		dur("AUTHD_SESSION_TTL", "12h", "browser session", "8h", false, func(c *Config) *time.Duration { return &c.SessionTTL }),
		dur("AUTHD_CACHE_STALENESS", "1s", "published bound on in-process cache staleness across replicas (at most 1m)", "2s", false, func(c *Config) *time.Duration { return &c.CacheStaleness }),
		withShown(unsigned("AUTHD_CACHE_MAX_BYTES", "67108864", "in-process cache size in bytes (at least 1 MiB)", "1048576", 1<<20, 1<<40, func(c *Config, n uint64) { c.CacheMaxBytes = n }, func(c *Config) uint64 { return c.CacheMaxBytes }), "`67108864` (64 MiB)"),
		integer("AUTHD_PASSWORD_MIN_LENGTH", "8", "password policy: shortest password (NIST SP 800-63B §5.1.1.2)", "12", 8, 64, func(c *Config, n int64) { c.PasswordMinLength = int(n) }, func(c *Config) int64 { return int64(c.PasswordMinLength) }),
		integer("AUTHD_ARGON2_MEMORY_KIB", "19456", "Argon2id memory in KiB (rehashed on login when changed)", "65536", 8*1024, 1<<20, func(c *Config, n int64) { c.Argon2MemoryKiB = uint32(n) }, func(c *Config) int64 { return int64(c.Argon2MemoryKiB) }),
		integer("AUTHD_ARGON2_TIME", "2", "Argon2id passes", "3", 1, 10, func(c *Config, n int64) { c.Argon2Time = uint32(n) }, func(c *Config) int64 { return int64(c.Argon2Time) }),
		integer("AUTHD_ARGON2_THREADS", "1", "Argon2id lanes", "2", 1, 16, func(c *Config, n int64) { c.Argon2Threads = uint8(n) }, func(c *Config) int64 { return int64(c.Argon2Threads) }),
		withShown(integer("AUTHD_HASH_CONCURRENCY", cores, "password hashes at once", "3", 1, 1024, func(c *Config, n int64) { c.HashConcurrency = int(n) }, func(c *Config) int64 { return int64(c.HashConcurrency) }), "cores"),
		withShown(integer("AUTHD_HASH_QUEUE", "", "password hashes that may wait for a slot (503 beyond)", "7", 0, 100000, func(c *Config, n int64) { c.HashQueue = int(n) }, func(c *Config) int64 { return int64(c.HashQueue) }), "4 × concurrency"),
		withShown(integer("AUTHD_DB_MAX_CONNS", strconv.Itoa(max(4, 4*runtime.GOMAXPROCS(0))), "PostgreSQL pool size", "9", 1, 1000, func(c *Config, n int64) { c.DBMaxConns = int32(n) }, func(c *Config) int64 { return int64(c.DBMaxConns) }), "4 × cores"),
		integer("AUTHD_DB_MIN_CONNS", "0", "PostgreSQL connections kept open when idle", "2", 0, 1000, func(c *Config, n int64) { c.DBMinConns = int32(n) }, func(c *Config) int64 { return int64(c.DBMinConns) }),
		dur("AUTHD_DB_CONNECT_TIMEOUT", "5s", "PostgreSQL connect deadline", "3s", false, func(c *Config) *time.Duration { return &c.DBConnectTimeout }),
		dur("AUTHD_DB_STATEMENT_TIMEOUT", "5s", "PostgreSQL statement deadline (a circuit breaker opens after 5 outages in a row)", "2s", false, func(c *Config) *time.Duration { return &c.DBStatementTimeout }),
		integer("AUTHD_MAX_BODY_BYTES", "65536", "request body cap (413 above)", "32768", 1024, 16<<20, func(c *Config, n int64) { c.MaxBodyBytes = n }, func(c *Config) int64 { return c.MaxBodyBytes }),
		boolean("AUTHD_AUTO_MIGRATE", "true", "`serve` applies migrations (`--no-migrate` too)", func(c *Config) *bool { return &c.AutoMigrate }),
		dur("AUTHD_SHUTDOWN_TIMEOUT", "15s", "graceful shutdown, in total (drain, flush, stop)", "10s", false, func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
		rate("AUTHD_RATE_LIMIT_IP", "1000", "unauthenticated requests/s per client address on the public API: failed client authentication, unknown tokens at userinfo, login pages, registration, anything refused before a client proved itself; a request whose client authenticated (or whose token is active, at userinfo) is not charged, so a gateway whose requests authenticate never spends it; an address over it is refused everything until it refills (0: off)", "50", func(c *Config) *float64 { return &c.RateLimitIP }),
		rate("AUTHD_RATE_LIMIT_CLIENT", "0", "requests/s per authenticated client (token, introspection, revocation, PAR); 0, the default, is off: a client that proved itself is accountable (disable it or rotate its secret), its real volume is its deployment's, and any budget low enough to stop a stolen secret would stop a busy gateway first (bench/README.md)", "20", func(c *Config) *float64 { return &c.RateLimitClient }),
		rate("AUTHD_RATE_LIMIT_LOGIN_IP", "30", "password attempts/min per address, refused before hashing (0: off)", "10", func(c *Config) *float64 { return &c.RateLimitLoginIP }),
		integer("AUTHD_LOCKOUT_FAILURES", "10", "failed logins one account takes from one address or device (NIST SP 800-63B §5.2.2: ≤ 100)", "5", 1, 100, func(c *Config, n int64) { c.LockoutFailures = int(n) }, func(c *Config) int64 { return int64(c.LockoutFailures) }),
		dur("AUTHD_LOCKOUT_INTERVAL", "5m", "then one more try per interval", "10m", false, func(c *Config) *time.Duration { return &c.LockoutInterval }),
		rate("AUTHD_RATE_LIMIT_INACTIVE", "600", "inactive introspection answers/min per caller before it is throttled (enumeration)", "100", func(c *Config) *float64 { return &c.RateLimitInactive }),
		str("AUTHD_TLS_CERT_FILE", "", "PEM certificate chain: authd terminates TLS on the public listener itself (with `AUTHD_TLS_KEY_FILE`), asking for client certificates (RFC 8705 mutual TLS)", "/etc/authd/tls.crt", filePath(func(c *Config) *string { return &c.TLSCertFile })),
		str("AUTHD_TLS_KEY_FILE", "", "PEM private key of `AUTHD_TLS_CERT_FILE`", "/etc/authd/tls.key", filePath(func(c *Config) *string { return &c.TLSKeyFile })),
		str("AUTHD_TLS_CLIENT_CA_FILE", "", "PEM CAs that issue client certificates for `tls_client_auth` (chains are checked against them, from TLS or from the header)", "/etc/authd/client-ca.pem", filePath(func(c *Config) *string { return &c.TLSClientCAFile })),
		{Key: "AUTHD_CLIENT_CERT_HEADER", Doc: "header in which a trusted proxy (`AUTHD_TRUSTED_PROXIES`) passes the client certificate: `X-Forwarded-Client-Cert` (Envoy XFCC), `Client-Cert` (RFC 9440), or any other name as a URL-escaped PEM (nginx `$ssl_client_escaped_cert`)",
			Example: "X-Forwarded-Client-Cert", set: setHeaderName(func(c *Config) *string { return &c.ClientCertHeader }), get: func(c *Config) string { return c.ClientCertHeader }},
		boolean("AUTHD_DPOP_NONCE", "false", "require server-supplied nonces in DPoP proofs (RFC 9449 §8): bounds how long a proof made in advance is usable, at one more round trip per client per few minutes", func(c *Config) *bool { return &c.DPoPNonce }),
		boolean("AUTHD_REQUIRE_PAR", "false", "every authorization request must be pushed first (RFC 9126 PAR, `POST /oauth2/par`); a client can ask it for itself with `require_pushed_authorization_requests`", func(c *Config) *bool { return &c.RequirePAR }),
		dur("AUTHD_PAR_LIFETIME", "60s", "how long a pushed request's `request_uri` may be used (once); at most `10m`", "90s", false, func(c *Config) *time.Duration { return &c.PARLifetime }),
		dur("AUTHD_DEVICE_CODE_LIFETIME", "10m", "device authorization grant (RFC 8628): how long a `device_code` and its `user_code` live; 1m to 30m", "15m", false, func(c *Config) *time.Duration { return &c.DeviceCodeLifetime }),
		dur("AUTHD_DEVICE_POLL_INTERVAL", "5s", "device authorization grant: the least time between polls a device is told (RFC 8628 §3.2 `interval`; grows by 5s at each poll that comes sooner)", "10s", false, func(c *Config) *time.Duration { return &c.DevicePollInterval }),
		rate("AUTHD_RATE_LIMIT_DEVICE_CODES", "10", "wrong user codes/hour per address on the device verification page `/device` (RFC 8628 §5.1; 0: off)", "5", func(c *Config) *float64 { return &c.RateLimitDeviceCodes }),
		choice("AUTHD_REGISTRATION", "token", "dynamic client registration (RFC 7591): `token` (an initial access token from `authd client registration-token`), `open` (anyone, rate-limited, no confidential-only grants), `off` (no endpoint)", "open",
			[]string{"off", "token", "open"}, func(c *Config) *string { return &c.Registration }),
		rate("AUTHD_RATE_LIMIT_REGISTRATION", "20", "open registrations/hour per address (0: off)", "5", func(c *Config) *float64 { return &c.RateLimitRegistration }),
		choice("AUTHD_SECURITY_PROFILE", "default", "the security profile of clients whose metadata names none: `default`, `oauth2.1` (no password grant), `fapi2` (FAPI 2.0: PAR, `private_key_jwt` or mutual TLS with `aud` the issuer, sender-constrained tokens, PS256/ES256/EdDSA)", "fapi2",
			[]string{"default", "oauth2.1", "fapi2"}, func(c *Config) *string { return &c.SecurityProfile }),
		boolean("AUTHD_CLIENT_ID_METADATA_DOCUMENTS", "false", "a `client_id` that is an https URL names a client by its metadata document, fetched from there (OAuth Client ID Metadata Documents, as MCP clients use): public or `private_key_jwt` clients of the authorization code grant, never first-party", func(c *Config) *bool { return &c.ClientIDMetadataDocuments }),
		boolean("AUTHD_OUTBOUND_ALLOW_LOOPBACK", "false", "outbound fetches (`jwks_uri`, metadata documents, trusted issuers) may go to loopback over http: tests and single-host setups only", func(c *Config) *bool { return &c.OutboundAllowLoopback }),
		dur("AUTHD_LOGOUT_RETRY_BASE", "5s", "back-channel logout delivery: wait after the first failed attempt, doubled after each further one up to 10m", "10s", false, func(c *Config) *time.Duration { return &c.LogoutRetryBase }),
		dur("AUTHD_LOGOUT_MAX_AGE", "24h", "back-channel logout delivery is retried this long, then given up", "6h", false, func(c *Config) *time.Duration { return &c.LogoutMaxAge }),
		str("AUTHD_OUTBOUND_CA_FILE", "", "PEM file of CAs trusted for outbound TLS besides the system's (private PKI)", "/etc/authd/ca.pem", filePath(func(c *Config) *string { return &c.OutboundCAFile })),
		{Key: "AUTHD_TRUSTED_PROXIES", Doc: "load balancers (comma-separated CIDRs) whose `X-Forwarded-For` is believed for client addresses",
			Example: "10.0.0.0/8, 192.0.2.1", set: setTrustedProxies, get: func(c *Config) string { return strings.Join(c.TrustedProxies, ",") }},
		choice("AUTHD_AUDIT_TOKEN_EVENTS", "aggregate", "what the audit trail keeps of `token.issued` and `token.introspected`, one per token on the hot paths: `aggregate` (one row per client, grant type and minute with a count), `sample` (one row in `AUTHD_AUDIT_SAMPLE_EVERY`), `off` (metrics only); never a write per token, and every other event (failures, lockouts, reuse, admin changes, registrations) keeps a row each", "sample",
			[]string{"aggregate", "sample", "off"}, func(c *Config) *string { return &c.AuditTokenEvents }),
		integer("AUTHD_GC_HEAP_FLOOR_MB", "32", "the garbage collector's heap goal is at least this many MiB: GOGC is raised while the live heap is small (a collection every few milliseconds under load otherwise) and left at 100 once it is bigger; `0` keeps Go's default; ignored when `GOGC` is set", "64", 0, 1<<20,
			func(c *Config, n int64) { c.GCHeapFloorMB = int(n) }, func(c *Config) int64 { return int64(c.GCHeapFloorMB) }),
		integer("AUTHD_AUDIT_SAMPLE_EVERY", "100", "with `AUTHD_AUDIT_TOKEN_EVENTS=sample`, one token event in this many is written (the rest are counted in `authd_security_token_events_sampled_out_total`)", "1000", 1, 1_000_000,
			func(c *Config, n int64) { c.AuditSampleEvery = int(n) }, func(c *Config) int64 { return int64(c.AuditSampleEvery) }),
		dur("AUTHD_AUDIT_RETENTION", "2160h", "audit events older than this (90 days) are purged by the janitor", "720h", false, func(c *Config) *time.Duration { return &c.AuditRetention }),
		{Key: "AUTHD_OTLP_ENDPOINT", Doc: "OTLP/HTTP collector for request traces (W3C traceparent honoured); off when empty, at no cost",
			Example: "http://127.0.0.1:4318", set: setOTLPEndpoint, get: func(c *Config) string { return c.OTLPEndpoint }},
		{Key: "AUTHD_TRACE_SAMPLE_RATIO", Default: "0.05", Doc: "share of root requests traced (0 to 1)", Example: "0.5", set: setSampleRatio,
			get: func(c *Config) string { return strconv.FormatFloat(c.TraceSampleRatio, 'g', -1, 64) }},
		{Key: "AUTHD_LOG_LEVEL", Default: "info", Doc: "`debug`, `info`, `warn`, `error`", Example: "debug", set: setLogLevel,
			get: func(c *Config) string { return strings.ToLower(c.LogLevel.String()) }},
		boolean("AUTHD_ACCESS_LOG", "true", "one INFO line per request (method, route, status, duration, client address, client_id, request id; never tokens, secrets or query strings)", func(c *Config) *bool { return &c.AccessLog }),
		{Key: "AUTHD_PRODUCT_NAME", Default: "authd", Doc: "product name shown on every sign-in page (at most 64 printable characters)", Example: "Example Login",
			set: func(c *Config, v string) error { c.ProductName = v; return nil }, get: func(c *Config) string { return c.ProductName }},
		{Key: "AUTHD_LOGO_FILE", Doc: "PNG, JPEG, WebP or SVG (at most 256 KiB) shown on every page, served at `/assets/logo`", Example: "/etc/authd/logo.svg",
			set: func(c *Config, v string) error { c.LogoFile = v; return nil }, get: func(c *Config) string { return c.LogoFile }},
	}
}

func withShown(s Setting, shown string) Setting { s.Shown = shown; return s }

// accessor sets and reads one string field.
type accessor struct {
	set func(c *Config, v string) error
	get func(c *Config) string
}

// str is a string setting with a literal default.
func str(key, def, doc, example string, a accessor) Setting {
	return Setting{Key: key, Default: def, Doc: doc, Example: example, set: a.set, get: a.get}
}

func plain(f func(*Config) *string) accessor {
	return accessor{func(c *Config, v string) error { *f(c) = v; return nil }, func(c *Config) string { return *f(c) }}
}

// setHeaderName accepts an HTTP field name (RFC 9110 §5.1: a token).
func setHeaderName(f func(*Config) *string) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		if v == "" || len(v) > 100 || strings.IndexFunc(v, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r))
		}) >= 0 {
			return fmt.Errorf("must be an HTTP header name")
		}
		*f(c) = v
		return nil
	}
}

// filePath is a path read at start; no path holds a NUL byte.
func filePath(f func(*Config) *string) accessor {
	return accessor{func(c *Config, v string) error {
		if strings.ContainsRune(v, 0) {
			return fmt.Errorf("must be a file path")
		}
		*f(c) = v
		return nil
	}, func(c *Config) string { return *f(c) }}
}

func addr(f func(*Config) *string) accessor {
	return accessor{func(c *Config, v string) error {
		if err := checkAddr(v); err != "" {
			return fmt.Errorf("%s", err)
		}
		*f(c) = v
		return nil
	}, func(c *Config) string { return *f(c) }}
}

func choice(key, def, doc, example string, allowed []string, f func(*Config) *string) Setting {
	return Setting{Key: key, Default: def, Doc: doc, Example: example,
		set: func(c *Config, v string) error {
			for _, a := range allowed {
				if v == a {
					*f(c) = v
					return nil
				}
			}
			return fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
		}, get: func(c *Config) string { return *f(c) }}
}

// dur is a duration: Go syntax (90s, 15m, 1h) or bare seconds as in OAuth's
// expires_in. zero says whether 0 (off) is allowed.
func dur(key, def, doc, example string, zero bool, f func(*Config) *time.Duration) Setting {
	return Setting{Key: key, Default: def, Doc: doc, Example: example,
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				n, nerr := strconv.ParseInt(v, 10, 64)
				if nerr != nil {
					return fmt.Errorf("must be a duration like 90s, 15m or 1h")
				}
				d = time.Duration(n) * time.Second
			}
			if d < 0 || (d == 0 && !zero) {
				if zero {
					return fmt.Errorf("must be 0 (off) or positive")
				}
				return fmt.Errorf("must be positive")
			}
			*f(c) = d
			return nil
		}, get: func(c *Config) string { return f(c).String() }}
}

func integer(key, def, doc, example string, lo, hi int64, set func(*Config, int64), get func(*Config) int64) Setting {
	return Setting{Key: key, Default: def, Doc: doc, Example: example,
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < lo || n > hi {
				return fmt.Errorf("must be a whole number from %d to %d", lo, hi)
			}
			set(c, n)
			return nil
		}, get: func(c *Config) string { return strconv.FormatInt(get(c), 10) }}
}

func unsigned(key, def, doc, example string, lo, hi uint64, set func(*Config, uint64), get func(*Config) uint64) Setting {
	return Setting{Key: key, Default: def, Doc: doc, Example: example,
		set: func(c *Config, v string) error {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n < lo || n > hi {
				return fmt.Errorf("must be a whole number from %d to %d", lo, hi)
			}
			set(c, n)
			return nil
		}, get: func(c *Config) string { return strconv.FormatUint(get(c), 10) }}
}

func rate(key, def, doc, example string, f func(*Config) *float64) Setting {
	return Setting{Key: key, Default: def, Doc: doc, Example: example,
		set: func(c *Config, v string) error {
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || r < 0 || r > 1e6 {
				return fmt.Errorf("must be a number from 0 (off) to 1000000")
			}
			*f(c) = r
			return nil
		}, get: func(c *Config) string { return strconv.FormatFloat(*f(c), 'g', -1, 64) }}
}

func boolean(key, def, doc string, f func(*Config) *bool) Setting {
	example := "false"
	if def == "false" {
		example = "true"
	}
	return Setting{Key: key, Default: def, Doc: doc, Example: example,
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("must be true or false")
			}
			*f(c) = b
			return nil
		}, get: func(c *Config) string { return strconv.FormatBool(*f(c)) }}
}

func setDatabaseURL(c *Config, v string) error {
	if !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
		return fmt.Errorf("must be empty (SQLite in AUTHD_DATA_DIR) or a postgres:// URL")
	}
	c.DatabaseURL = v
	return nil
}

func setRedisURL(c *Config, v string) error {
	u, err := url.Parse(v)
	// Sentinel and Cluster are redis:// URLs with master_set= or several addr=
	// parameters (rueidis.ParseURL).
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
		return fmt.Errorf("must be a redis://, rediss:// or unix:// URL")
	}
	c.RedisURL = v
	return nil
}

func setAdminToken(c *Config, v string) error {
	if len(v) < 32 {
		return fmt.Errorf("must be at least 32 characters")
	}
	c.AdminToken = v
	return nil
}

func setMasterKey(c *Config, v string) error {
	k, ok := DecodeMasterKey(v)
	if !ok {
		return fmt.Errorf("must be base64 of exactly 32 bytes (e.g. openssl rand -base64 32)")
	}
	c.MasterKey = k
	return nil
}

func setPreviousMasterKeys(c *Config, v string) error {
	c.PreviousMasterKeys = nil
	for _, p := range strings.Split(v, ",") {
		k, ok := DecodeMasterKey(strings.TrimSpace(p))
		if !ok {
			return fmt.Errorf("must be comma-separated base64 keys of exactly 32 bytes")
		}
		c.PreviousMasterKeys = append(c.PreviousMasterKeys, k)
	}
	return nil
}

func setTrustedProxies(c *Config, v string) error {
	c.TrustedProxies = nil
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, aerr := netip.ParseAddr(p); aerr != nil {
				return fmt.Errorf("must be comma-separated IP addresses or CIDRs, e.g. 10.0.0.0/8")
			}
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	return nil
}

func setOTLPEndpoint(c *Config, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an http(s) URL of an OTLP/HTTP collector, e.g. http://127.0.0.1:4318")
	}
	c.OTLPEndpoint = v
	return nil
}

func setSampleRatio(c *Config, v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		return fmt.Errorf("must be a number from 0 to 1")
	}
	c.TraceSampleRatio = f
	return nil
}

func setLogLevel(c *Config, v string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return fmt.Errorf("must be debug, info, warn or error")
	}
	c.LogLevel = l
	return nil
}

// mask shows that a secret is set without showing it.
func mask(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return "(set)"
}

// readSecretFile reads a key from a file (AUTHD_MASTER_KEY_FILE).
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return v, nil
}

// Table renders the settings as the README's configuration table.
func Table() string {
	var b strings.Builder
	b.WriteString("| key | default | meaning |\n|---|---|---|\n")
	for _, s := range Settings() {
		def := s.Shown
		switch {
		case def != "":
		case s.Default == "":
			def = "empty"
		default:
			def = "`" + s.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", s.Key, def, s.Doc)
	}
	return b.String()
}
