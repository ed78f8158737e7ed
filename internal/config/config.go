package config

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	yaml "go.yaml.in/yaml/v3"

	"github.com/authd/authd/internal/keys"
)

// Config is every setting authd reads.
type Config struct {
	Listen      string // AUTHD_LISTEN: public API address
	AdminListen string // AUTHD_ADMIN_LISTEN: admin API address
	Issuer      string // AUTHD_ISSUER: default http://<Listen>
	DataDir     string // AUTHD_DATA_DIR
	DatabaseURL string // AUTHD_DATABASE_URL: empty = SQLite in DataDir; postgres://… = PostgreSQL
	RedisURL    string // AUTHD_REDIS_URL: empty = in-process cache only
	RedisPrefix string // AUTHD_REDIS_PREFIX: key prefix shared by the replicas of one deployment
	// CacheStaleness (AUTHD_CACHE_STALENESS) is the published bound on how long
	// a replica may answer from its in-process cache after a change elsewhere.
	CacheStaleness time.Duration
	CacheMaxBytes  uint64 // AUTHD_CACHE_MAX_BYTES: in-process cache size
	AdminToken     string // AUTHD_ADMIN_TOKEN: empty = generated into DataDir
	MasterKey      []byte // AUTHD_MASTER_KEY or AUTHD_MASTER_KEY_FILE: base64 of 32 bytes; empty = generated into DataDir (SQLite only)
	MasterKeyFile  string // AUTHD_MASTER_KEY_FILE
	// PreviousMasterKeys (AUTHD_MASTER_KEY_PREVIOUS) may still have wrapped
	// data keys while a master-key rotation rolls out.
	PreviousMasterKeys [][]byte
	LogLevel           slog.Level

	SigningAlg     string        // AUTHD_SIGNING_ALG: access-token algorithm (ES256, EdDSA, RS256)
	AccessTokenTTL time.Duration // AUTHD_ACCESS_TOKEN_TTL: default for clients that set none
	MaxTokenTTL    time.Duration // AUTHD_MAX_TOKEN_TTL: upper bound on any access token
	KeyRetain      time.Duration // derived: how long a replaced key stays in the JWKS
	KeyPrepublish  time.Duration // AUTHD_KEY_PREPUBLISH: a rotated-in key is in the JWKS this long before it signs
	KeyRotateEvery time.Duration // AUTHD_KEY_ROTATE_EVERY: rotate signing keys this often (0: only on demand)

	OTLPEndpoint     string  // AUTHD_OTLP_ENDPOINT: OTLP/HTTP collector for traces (empty: no tracing)
	TraceSampleRatio float64 // AUTHD_TRACE_SAMPLE_RATIO: share of root requests traced
	MaxBodyBytes     int64   // AUTHD_MAX_BODY_BYTES
	AutoMigrate      bool    // AUTHD_AUTO_MIGRATE: serve applies migrations on start
	AccessLog        bool    // AUTHD_ACCESS_LOG: one INFO line per request on both listeners
	ProductName      string  // AUTHD_PRODUCT_NAME: shown on every sign-in page
	LogoFile         string  // AUTHD_LOGO_FILE: PNG, JPEG, WebP or SVG shown on every page

	IDTokenAlg      string        // AUTHD_ID_TOKEN_SIGNING_ALG: default RS256 (OpenID Connect Core §15.1)
	RefreshTokenTTL time.Duration // AUTHD_REFRESH_TOKEN_TTL: sliding lifetime of a refresh token
	// RefreshReuseGrace (AUTHD_REFRESH_REUSE_GRACE): a refresh token presented
	// again by its client this soon after it rotated gets working tokens
	// instead of revoking its family (a retry, two tabs); 0 turns it off.
	RefreshReuseGrace time.Duration
	SessionTTL        time.Duration // AUTHD_SESSION_TTL: browser login session lifetime

	PasswordMinLength int    // AUTHD_PASSWORD_MIN_LENGTH
	Argon2MemoryKiB   uint32 // AUTHD_ARGON2_MEMORY_KIB
	Argon2Time        uint32 // AUTHD_ARGON2_TIME
	Argon2Threads     uint8  // AUTHD_ARGON2_THREADS
	HashConcurrency   int    // AUTHD_HASH_CONCURRENCY: password hashes at once (default: cores)
	HashQueue         int    // AUTHD_HASH_QUEUE: logins that may wait for a slot

	DBMaxConns         int32         // AUTHD_DB_MAX_CONNS (PostgreSQL)
	DBStatementTimeout time.Duration // AUTHD_DB_STATEMENT_TIMEOUT (PostgreSQL)
	DBMinConns         int32         // AUTHD_DB_MIN_CONNS: connections kept open when idle (PostgreSQL)
	DBConnectTimeout   time.Duration // AUTHD_DB_CONNECT_TIMEOUT (PostgreSQL)
	ShutdownTimeout    time.Duration // AUTHD_SHUTDOWN_TIMEOUT
	AuditRetention     time.Duration // AUTHD_AUDIT_RETENTION: audit events older than this are deleted
	AuditTokenEvents   string        // AUTHD_AUDIT_TOKEN_EVENTS: aggregate, sample or off
	OpaqueTokens       string        // AUTHD_OPAQUE_TOKENS: sealed or stored
	GCHeapFloorMB      int           // AUTHD_GC_HEAP_FLOOR_MB: the GC's heap goal is at least this (0: Go's default)
	AuditSampleEvery   int           // AUTHD_AUDIT_SAMPLE_EVERY: one token event in this many, when sampling
	// Rate limits (0 turns one off).
	RateLimitIP       float64       // AUTHD_RATE_LIMIT_IP: unauthenticated requests/s per client address
	RateLimitClient   float64       // AUTHD_RATE_LIMIT_CLIENT: requests/s per authenticated client (0: off)
	RateLimitLoginIP  float64       // AUTHD_RATE_LIMIT_LOGIN_IP: password attempts/min per address
	LockoutFailures   int           // AUTHD_LOCKOUT_FAILURES: failed logins an account takes at once
	LockoutInterval   time.Duration // AUTHD_LOCKOUT_INTERVAL: then one more try per interval
	RateLimitInactive float64       // AUTHD_RATE_LIMIT_INACTIVE: inactive introspection answers/min per caller
	// Registration (AUTHD_REGISTRATION) is off, token or open.
	Registration          string
	RateLimitRegistration float64 // AUTHD_RATE_LIMIT_REGISTRATION: open registrations/hour per address
	// ClientIDMetadataDocuments (AUTHD_CLIENT_ID_METADATA_DOCUMENTS): a
	// client_id that is an https URL is that client's metadata, fetched.
	ClientIDMetadataDocuments bool
	// SecurityProfile (AUTHD_SECURITY_PROFILE) holds clients that name
	// none to default, oauth2.1 or fapi2.
	SecurityProfile       string
	OutboundAllowLoopback bool   // AUTHD_OUTBOUND_ALLOW_LOOPBACK
	OutboundCAFile        string // AUTHD_OUTBOUND_CA_FILE
	// Back-Channel Logout delivery (internal/logoutnotify).
	LogoutRetryBase time.Duration // AUTHD_LOGOUT_RETRY_BASE
	LogoutMaxAge    time.Duration // AUTHD_LOGOUT_MAX_AGE
	// TLS on the public listener (AUTHD_TLS_CERT_FILE, AUTHD_TLS_KEY_FILE),
	// the CAs of client certificates (AUTHD_TLS_CLIENT_CA_FILE), and the
	// header a trusted proxy passes them in (AUTHD_CLIENT_CERT_HEADER).
	TLSCertFile, TLSKeyFile, TLSClientCAFile string
	ClientCertHeader                         string
	DPoPNonce                                bool // AUTHD_DPOP_NONCE
	// RequirePAR (AUTHD_REQUIRE_PAR): authorization requests must be pushed
	// (RFC 9126 §5); PARLifetime (AUTHD_PAR_LIFETIME) is a request_uri's.
	RequirePAR  bool
	PARLifetime time.Duration
	// DeviceCodeLifetime (AUTHD_DEVICE_CODE_LIFETIME) and DevicePollInterval
	// (AUTHD_DEVICE_POLL_INTERVAL) are RFC 8628 §3.2's expires_in and
	// interval; RateLimitDeviceCodes (AUTHD_RATE_LIMIT_DEVICE_CODES) bounds
	// wrong user codes per address and hour on the verification page.
	DeviceCodeLifetime   time.Duration
	DevicePollInterval   time.Duration
	RateLimitDeviceCodes float64
	// TrustedProxies (AUTHD_TRUSTED_PROXIES, comma-separated CIDRs) are the load
	// balancers whose X-Forwarded-For is believed.
	TrustedProxies []string
}

// Error names the setting that is wrong.
type Error struct {
	Key string
	Msg string
}

func (e *Error) Error() string { return "config: " + e.Key + ": " + e.Msg }

// Load reads the file at path (if not empty) and then the environment through
// getenv, applies defaults and validates every setting: nothing is touched
// before a bad value stops startup with one line naming its key.
func Load(path string, getenv func(string) string) (*Config, error) {
	vals := map[string]string{}
	if path != "" {
		fileVals, err := readFile(path)
		if err != nil {
			return nil, err
		}
		vals = fileVals
	}
	for _, s := range Settings() {
		if v := getenv(s.Key); v != "" {
			vals[s.Key] = v
		}
	}
	return build(vals)
}

// build applies every setting (its value, or its default) and then the rules
// that span several.
func build(vals map[string]string) (*Config, error) {
	c := &Config{}
	for _, s := range Settings() {
		v := vals[s.Key]
		if v == "" {
			v = s.Default
		}
		if v == "" {
			continue
		}
		if err := s.set(c, v); err != nil {
			return nil, &Error{s.Key, err.Error()}
		}
	}
	if err := c.validate(vals); err != nil {
		return nil, err
	}
	return c, nil
}

// validate derives what defaults to other settings and checks the rules that
// span several.
func (c *Config) validate(vals map[string]string) error {
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return &Error{"AUTHD_TLS_KEY_FILE", "AUTHD_TLS_CERT_FILE and AUTHD_TLS_KEY_FILE go together"}
	}
	if c.ClientCertHeader != "" && len(c.TrustedProxies) == 0 {
		// Believed only from a trusted proxy: without one it would never be read.
		return &Error{"AUTHD_CLIENT_CERT_HEADER", "needs AUTHD_TRUSTED_PROXIES: the header is believed only from those proxies"}
	}
	if c.Issuer == "" {
		c.Issuer = "http://" + c.Listen
		if c.TLSCertFile != "" {
			c.Issuer = "https://" + c.Listen
		}
	}
	if err := checkIssuer(c.Issuer); err != nil {
		return err
	}
	if c.HashQueue == 0 && vals["AUTHD_HASH_QUEUE"] == "" {
		c.HashQueue = 4 * c.HashConcurrency
	}
	if c.MasterKeyFile != "" {
		if vals["AUTHD_MASTER_KEY"] != "" {
			return &Error{"AUTHD_MASTER_KEY_FILE", "give the master key in AUTHD_MASTER_KEY or in a file, not both"}
		}
		v, err := readSecretFile(c.MasterKeyFile)
		if err != nil {
			return &Error{"AUTHD_MASTER_KEY_FILE", err.Error()}
		}
		if err := setMasterKey(c, v); err != nil {
			return &Error{"AUTHD_MASTER_KEY_FILE", err.Error()}
		}
	}
	if len(c.MasterKey) == 0 && c.DatabaseURL != "" {
		// Replicas sharing a database must share the key the data keys are
		// wrapped under; a generated one would live on one machine only.
		return &Error{"AUTHD_MASTER_KEY", "is required with AUTHD_DATABASE_URL (every replica needs the same key; e.g. openssl rand -base64 32)"}
	}
	if c.AccessTokenTTL > c.MaxTokenTTL {
		return &Error{"AUTHD_ACCESS_TOKEN_TTL", "must not exceed AUTHD_MAX_TOKEN_TTL (" + c.MaxTokenTTL.String() + ")"}
	}
	// A replaced key must outlive every token it signed, with a margin for clock skew.
	c.KeyRetain = max(c.MaxTokenTTL, time.Hour) + 5*time.Minute
	if c.RefreshReuseGrace > time.Minute {
		// Longer would let a stolen token be replayed quietly.
		return &Error{"AUTHD_REFRESH_REUSE_GRACE", "must be at most 1m"}
	}
	if c.PARLifetime > 10*time.Minute {
		// RFC 9126 §2.2: short-lived; a request_uri is used within seconds.
		return &Error{"AUTHD_PAR_LIFETIME", "must be at most 10m"}
	}
	if c.DeviceCodeLifetime < time.Minute || c.DeviceCodeLifetime > 30*time.Minute {
		// RFC 8628 §5.1: a short life is what keeps user codes unguessable.
		return &Error{"AUTHD_DEVICE_CODE_LIFETIME", "must be from 1m to 30m"}
	}
	if c.DevicePollInterval < time.Second || c.DevicePollInterval > time.Minute || c.DevicePollInterval%time.Second != 0 {
		// RFC 8628 §3.2: interval is in whole seconds.
		return &Error{"AUTHD_DEVICE_POLL_INTERVAL", "must be whole seconds from 1s to 1m"}
	}
	if c.KeyRotateEvery > 0 && c.KeyRotateEvery < time.Hour {
		return &Error{"AUTHD_KEY_ROTATE_EVERY", "must be 0 (on demand only) or at least 1h"}
	}
	if c.CacheStaleness > time.Minute {
		return &Error{"AUTHD_CACHE_STALENESS", "must be at most 1m"}
	}
	return nil
}

// Values returns every setting's effective value, secrets masked, in the
// order of Settings: what `authd config` prints.
func (c *Config) Values() [][2]string {
	var out [][2]string
	for _, s := range Settings() {
		v := s.get(c)
		if s.Secret && v != "" {
			v = "(set)"
		}
		out = append(out, [2]string{s.Key, v})
	}
	return out
}

func readFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{"--config", err.Error()}
	}
	raw := map[string]any{}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		err = toml.Unmarshal(data, &raw)
	case ".yaml", ".yml":
		err = yaml.Unmarshal(data, &raw)
	default:
		return nil, &Error{"--config", "file must end in .yaml, .yml or .toml"}
	}
	if err != nil {
		return nil, &Error{"--config", "parse " + path + ": " + err.Error()}
	}
	out := map[string]string{}
	for k, v := range raw {
		name := strings.ToUpper(k)
		if !strings.HasPrefix(name, "AUTHD_") {
			name = "AUTHD_" + name
		}
		if !Known(name) {
			return nil, &Error{k, "unknown setting in " + path}
		}
		switch v.(type) {
		case map[string]any, []any:
			return nil, &Error{name, "must be a single value"}
		}
		out[name] = fmt.Sprint(v)
	}
	return out, nil
}

// Known reports whether name is a setting.
func Known(name string) bool {
	for _, s := range Settings() {
		if s.Key == name {
			return true
		}
	}
	return false
}

// Embedded reports whether the store is SQLite in the data folder.
func (c *Config) Embedded() bool { return c.DatabaseURL == "" }

// checkAddr returns what is wrong with a listen address, or "".
func checkAddr(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "must be host:port, e.g. 127.0.0.1:8080"
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "port must be a number from 0 to 65535"
	}
	return ""
}

func checkIssuer(iss string) error {
	u, err := url.Parse(iss)
	// RFC 8414 §2: https, no query or fragment. http is allowed for loopback and
	// local trials; production should set an https issuer.
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return &Error{"AUTHD_ISSUER", "must be an http(s) URL with no query or fragment"}
	}
	if strings.HasSuffix(iss, "/") {
		return &Error{"AUTHD_ISSUER", "must not end with a slash"}
	}
	return nil
}

// decodeMasterKey accepts standard or URL-safe base64 of exactly 32 bytes.
func DecodeMasterKey(s string) ([]byte, bool) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		k, err = base64.RawURLEncoding.DecodeString(s)
	}
	return k, err == nil && len(k) == keys.MasterKeySize
}
