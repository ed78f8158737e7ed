package config

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
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
	// Rate limits (0 turns one off).
	RateLimitIP       float64       // AUTHD_RATE_LIMIT_IP: requests/s per client address
	RateLimitClient   float64       // AUTHD_RATE_LIMIT_CLIENT: token requests/s per client
	RateLimitLoginIP  float64       // AUTHD_RATE_LIMIT_LOGIN_IP: password attempts/min per address
	LockoutFailures   int           // AUTHD_LOCKOUT_FAILURES: failed logins an account takes at once
	LockoutInterval   time.Duration // AUTHD_LOCKOUT_INTERVAL: then one more try per interval
	RateLimitInactive float64       // AUTHD_RATE_LIMIT_INACTIVE: inactive introspection answers/min per caller
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

// keyNames are every recognised setting; anything else in a file is an error, so
// a typo does not silently fall back to a default.
var keyNames = []string{
	"AUTHD_LISTEN", "AUTHD_ADMIN_LISTEN", "AUTHD_ISSUER", "AUTHD_DATA_DIR",
	"AUTHD_DATABASE_URL", "AUTHD_REDIS_URL", "AUTHD_ADMIN_TOKEN", "AUTHD_MASTER_KEY",
	"AUTHD_LOG_LEVEL", "AUTHD_SIGNING_ALG", "AUTHD_ACCESS_TOKEN_TTL", "AUTHD_MAX_TOKEN_TTL",
	"AUTHD_MAX_BODY_BYTES", "AUTHD_AUTO_MIGRATE", "AUTHD_DB_MAX_CONNS",
	"AUTHD_DB_STATEMENT_TIMEOUT", "AUTHD_SHUTDOWN_TIMEOUT",
	"AUTHD_ID_TOKEN_SIGNING_ALG", "AUTHD_REFRESH_TOKEN_TTL", "AUTHD_SESSION_TTL",
	"AUTHD_PASSWORD_MIN_LENGTH", "AUTHD_ARGON2_MEMORY_KIB", "AUTHD_ARGON2_TIME", "AUTHD_ARGON2_THREADS",
	"AUTHD_HASH_CONCURRENCY", "AUTHD_HASH_QUEUE",
	"AUTHD_REDIS_PREFIX", "AUTHD_CACHE_STALENESS", "AUTHD_CACHE_MAX_BYTES", "AUTHD_AUDIT_RETENTION",
	"AUTHD_DB_MIN_CONNS", "AUTHD_DB_CONNECT_TIMEOUT", "AUTHD_KEY_PREPUBLISH", "AUTHD_KEY_ROTATE_EVERY",
	"AUTHD_OTLP_ENDPOINT", "AUTHD_TRACE_SAMPLE_RATIO",
	"AUTHD_TRUSTED_PROXIES", "AUTHD_RATE_LIMIT_IP", "AUTHD_RATE_LIMIT_CLIENT", "AUTHD_RATE_LIMIT_LOGIN_IP",
	"AUTHD_LOCKOUT_FAILURES", "AUTHD_LOCKOUT_INTERVAL", "AUTHD_RATE_LIMIT_INACTIVE",
	"AUTHD_REFRESH_REUSE_GRACE", "AUTHD_ACCESS_LOG", "AUTHD_PRODUCT_NAME", "AUTHD_LOGO_FILE",
	"AUTHD_MASTER_KEY_FILE", "AUTHD_MASTER_KEY_PREVIOUS",
}

// Load reads the file at path (if not empty) and then the environment through
// getenv, applies defaults and validates.
func Load(path string, getenv func(string) string) (*Config, error) {
	vals := map[string]string{}
	if path != "" {
		fileVals, err := readFile(path)
		if err != nil {
			return nil, err
		}
		vals = fileVals
	}
	for _, k := range keyNames {
		if v := getenv(k); v != "" {
			vals[k] = v
		}
	}
	return parse(vals)
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
		if !known(name) {
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

func known(name string) bool {
	for _, k := range keyNames {
		if k == name {
			return true
		}
	}
	return false
}

func parse(v map[string]string) (*Config, error) {
	c := &Config{
		Listen:             or(v["AUTHD_LISTEN"], "127.0.0.1:8080"),
		AdminListen:        or(v["AUTHD_ADMIN_LISTEN"], "127.0.0.1:8081"),
		DataDir:            or(v["AUTHD_DATA_DIR"], "authd-data"),
		DatabaseURL:        v["AUTHD_DATABASE_URL"],
		RedisURL:           v["AUTHD_REDIS_URL"],
		RedisPrefix:        or(v["AUTHD_REDIS_PREFIX"], "authd:"),
		CacheStaleness:     time.Second,
		CacheMaxBytes:      64 << 20,
		AdminToken:         v["AUTHD_ADMIN_TOKEN"],
		SigningAlg:         or(v["AUTHD_SIGNING_ALG"], keys.ES256),
		MaxBodyBytes:       64 << 10,
		AutoMigrate:        true,
		AccessLog:          true,
		ProductName:        "authd",
		AccessTokenTTL:     time.Hour,
		MaxTokenTTL:        24 * time.Hour,
		DBMaxConns:         int32(max(4, 4*runtime.GOMAXPROCS(0))),
		DBStatementTimeout: 5 * time.Second,
		DBConnectTimeout:   5 * time.Second,
		// Longer than the JWKS Cache-Control max-age (5 minutes), so resource
		// servers have the new key before its first token.
		KeyPrepublish:     6 * time.Minute,
		ShutdownTimeout:   15 * time.Second,
		AuditRetention:    90 * 24 * time.Hour,
		RateLimitIP:       1000,
		RateLimitClient:   500,
		RateLimitLoginIP:  30,
		LockoutFailures:   10,
		LockoutInterval:   5 * time.Minute,
		RateLimitInactive: 600,
		IDTokenAlg:        or(v["AUTHD_ID_TOKEN_SIGNING_ALG"], keys.RS256),
		RefreshTokenTTL:   30 * 24 * time.Hour,
		RefreshReuseGrace: 2 * time.Second,
		TraceSampleRatio:  0.05,
		SessionTTL:        12 * time.Hour,
		// OWASP Password Storage Cheat Sheet: Argon2id m=19 MiB, t=2, p=1.
		PasswordMinLength: 8,
		Argon2MemoryKiB:   19456,
		Argon2Time:        2,
		Argon2Threads:     1,
		HashConcurrency:   runtime.NumCPU(),
	}
	var err error
	if err = checkAddr("AUTHD_LISTEN", c.Listen); err != nil {
		return nil, err
	}
	if err = checkAddr("AUTHD_ADMIN_LISTEN", c.AdminListen); err != nil {
		return nil, err
	}
	c.Issuer = or(v["AUTHD_ISSUER"], "http://"+c.Listen)
	c.ProductName = or(v["AUTHD_PRODUCT_NAME"], c.ProductName)
	c.LogoFile = v["AUTHD_LOGO_FILE"]
	c.OTLPEndpoint = v["AUTHD_OTLP_ENDPOINT"]
	if err = checkIssuer(c.Issuer); err != nil {
		return nil, err
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return nil, &Error{"AUTHD_DATABASE_URL", "must be empty (SQLite in AUTHD_DATA_DIR) or a postgres:// URL"}
	}
	if c.RedisURL != "" {
		u, perr := url.Parse(c.RedisURL)
		// Sentinel and Cluster are redis:// URLs with master_set= or several addr=
		// parameters (rueidis.ParseURL).
		if perr != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
			return nil, &Error{"AUTHD_REDIS_URL", "must be a redis://, rediss:// or unix:// URL"}
		}
	}
	if c.AdminToken != "" && len(c.AdminToken) < 32 {
		return nil, &Error{"AUTHD_ADMIN_TOKEN", "must be at least 32 characters"}
	}
	mk, mkFile := v["AUTHD_MASTER_KEY"], v["AUTHD_MASTER_KEY_FILE"]
	if mk != "" && mkFile != "" {
		return nil, &Error{"AUTHD_MASTER_KEY_FILE", "give the master key in AUTHD_MASTER_KEY or in a file, not both"}
	}
	if mkFile != "" {
		b, rerr := os.ReadFile(mkFile)
		if rerr != nil {
			return nil, &Error{"AUTHD_MASTER_KEY_FILE", rerr.Error()}
		}
		if mk = strings.TrimSpace(string(b)); mk == "" {
			return nil, &Error{"AUTHD_MASTER_KEY_FILE", mkFile + " is empty"}
		}
	}
	if prev := v["AUTHD_MASTER_KEY_PREVIOUS"]; prev != "" {
		for _, p := range strings.Split(prev, ",") {
			k, ok := DecodeMasterKey(strings.TrimSpace(p))
			if !ok {
				return nil, &Error{"AUTHD_MASTER_KEY_PREVIOUS", "must be comma-separated base64 keys of exactly 32 bytes"}
			}
			c.PreviousMasterKeys = append(c.PreviousMasterKeys, k)
		}
	}
	if mk != "" {
		var ok bool
		if c.MasterKey, ok = DecodeMasterKey(mk); !ok {
			key := "AUTHD_MASTER_KEY"
			if mkFile != "" {
				key = "AUTHD_MASTER_KEY_FILE"
			}
			return nil, &Error{key, "must be base64 of exactly 32 bytes (e.g. openssl rand -base64 32)"}
		}
	} else if c.DatabaseURL != "" {
		// Replicas sharing a database must share the key the signing keys are sealed
		// under; a generated one would live on one machine only.
		return nil, &Error{"AUTHD_MASTER_KEY", "is required with AUTHD_DATABASE_URL (every replica needs the same key; e.g. openssl rand -base64 32)"}
	}
	if err = c.LogLevel.UnmarshalText([]byte(or(v["AUTHD_LOG_LEVEL"], "info"))); err != nil {
		return nil, &Error{"AUTHD_LOG_LEVEL", "must be debug, info, warn or error"}
	}
	if !keys.ValidAlgorithm(c.SigningAlg) {
		return nil, &Error{"AUTHD_SIGNING_ALG", "must be one of " + strings.Join(keys.Algorithms, ", ")}
	}
	if !keys.ValidAlgorithm(c.IDTokenAlg) {
		return nil, &Error{"AUTHD_ID_TOKEN_SIGNING_ALG", "must be one of " + strings.Join(keys.Algorithms, ", ")}
	}
	if c.RefreshTokenTTL, err = duration(v, "AUTHD_REFRESH_TOKEN_TTL", c.RefreshTokenTTL); err != nil {
		return nil, err
	}
	if c.SessionTTL, err = duration(v, "AUTHD_SESSION_TTL", c.SessionTTL); err != nil {
		return nil, err
	}
	ints := []struct {
		key      string
		min, max int64
		set      func(int64)
	}{
		{"AUTHD_PASSWORD_MIN_LENGTH", 8, 64, func(n int64) { c.PasswordMinLength = int(n) }},
		{"AUTHD_ARGON2_MEMORY_KIB", 8 * 1024, 1 << 20, func(n int64) { c.Argon2MemoryKiB = uint32(n) }},
		{"AUTHD_ARGON2_TIME", 1, 10, func(n int64) { c.Argon2Time = uint32(n) }},
		{"AUTHD_ARGON2_THREADS", 1, 16, func(n int64) { c.Argon2Threads = uint8(n) }},
		{"AUTHD_HASH_CONCURRENCY", 1, 1024, func(n int64) { c.HashConcurrency = int(n) }},
		{"AUTHD_HASH_QUEUE", 0, 100000, func(n int64) { c.HashQueue = int(n) }},
	}
	for _, it := range ints {
		s := v[it.key]
		if s == "" {
			continue
		}
		n, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || n < it.min || n > it.max {
			return nil, &Error{it.key, fmt.Sprintf("must be a whole number from %d to %d", it.min, it.max)}
		}
		it.set(n)
	}
	if c.HashQueue == 0 {
		c.HashQueue = 4 * c.HashConcurrency
	}
	if c.AccessTokenTTL, err = duration(v, "AUTHD_ACCESS_TOKEN_TTL", c.AccessTokenTTL); err != nil {
		return nil, err
	}
	if c.MaxTokenTTL, err = duration(v, "AUTHD_MAX_TOKEN_TTL", c.MaxTokenTTL); err != nil {
		return nil, err
	}
	if c.AccessTokenTTL > c.MaxTokenTTL {
		return nil, &Error{"AUTHD_ACCESS_TOKEN_TTL", "must not exceed AUTHD_MAX_TOKEN_TTL (" + c.MaxTokenTTL.String() + ")"}
	}
	// A replaced key must outlive every token it signed, with a margin for clock skew.
	c.KeyRetain = max(c.MaxTokenTTL, time.Hour) + 5*time.Minute
	if s := v["AUTHD_KEY_PREPUBLISH"]; s == "0" || s == "0s" {
		c.KeyPrepublish = 0
	} else if c.KeyPrepublish, err = duration(v, "AUTHD_KEY_PREPUBLISH", c.KeyPrepublish); err != nil {
		return nil, err
	}
	if s := v["AUTHD_REFRESH_REUSE_GRACE"]; s == "0" || s == "0s" {
		c.RefreshReuseGrace = 0
	} else if c.RefreshReuseGrace, err = duration(v, "AUTHD_REFRESH_REUSE_GRACE", c.RefreshReuseGrace); err != nil {
		return nil, err
	}
	if c.RefreshReuseGrace > time.Minute {
		// Longer would let a stolen token be replayed quietly.
		return nil, &Error{"AUTHD_REFRESH_REUSE_GRACE", "must be at most 1m"}
	}
	if s := v["AUTHD_KEY_ROTATE_EVERY"]; s == "0" || s == "0s" {
		c.KeyRotateEvery = 0
	} else if c.KeyRotateEvery, err = duration(v, "AUTHD_KEY_ROTATE_EVERY", c.KeyRotateEvery); err != nil {
		return nil, err
	}
	if c.OTLPEndpoint != "" {
		u, perr := url.Parse(c.OTLPEndpoint)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &Error{"AUTHD_OTLP_ENDPOINT", "must be an http(s) URL of an OTLP/HTTP collector, e.g. http://127.0.0.1:4318"}
		}
	}
	if s := v["AUTHD_TRACE_SAMPLE_RATIO"]; s != "" {
		f, perr := strconv.ParseFloat(s, 64)
		if perr != nil || f < 0 || f > 1 {
			return nil, &Error{"AUTHD_TRACE_SAMPLE_RATIO", "must be a number from 0 to 1"}
		}
		c.TraceSampleRatio = f
	}
	if c.KeyRotateEvery > 0 && c.KeyRotateEvery < time.Hour {
		return nil, &Error{"AUTHD_KEY_ROTATE_EVERY", "must be 0 (on demand only) or at least 1h"}
	}
	if c.DBConnectTimeout, err = duration(v, "AUTHD_DB_CONNECT_TIMEOUT", c.DBConnectTimeout); err != nil {
		return nil, err
	}
	if s := v["AUTHD_DB_MIN_CONNS"]; s != "" {
		n, perr := strconv.ParseInt(s, 10, 32)
		if perr != nil || n < 0 || n > 1000 {
			return nil, &Error{"AUTHD_DB_MIN_CONNS", "must be a whole number from 0 to 1000"}
		}
		c.DBMinConns = int32(n)
	}
	if c.DBStatementTimeout, err = duration(v, "AUTHD_DB_STATEMENT_TIMEOUT", c.DBStatementTimeout); err != nil {
		return nil, err
	}
	if c.CacheStaleness, err = duration(v, "AUTHD_CACHE_STALENESS", c.CacheStaleness); err != nil {
		return nil, err
	}
	if c.CacheStaleness > time.Minute {
		return nil, &Error{"AUTHD_CACHE_STALENESS", "must be at most 1m"}
	}
	if s := v["AUTHD_CACHE_MAX_BYTES"]; s != "" {
		n, perr := strconv.ParseUint(s, 10, 64)
		if perr != nil || n < 1<<20 {
			return nil, &Error{"AUTHD_CACHE_MAX_BYTES", "must be a whole number of bytes, at least 1048576"}
		}
		c.CacheMaxBytes = n
	}
	if c.AuditRetention, err = duration(v, "AUTHD_AUDIT_RETENTION", c.AuditRetention); err != nil {
		return nil, err
	}
	rates := []struct {
		key string
		dst *float64
	}{
		{"AUTHD_RATE_LIMIT_IP", &c.RateLimitIP},
		{"AUTHD_RATE_LIMIT_CLIENT", &c.RateLimitClient},
		{"AUTHD_RATE_LIMIT_LOGIN_IP", &c.RateLimitLoginIP},
		{"AUTHD_RATE_LIMIT_INACTIVE", &c.RateLimitInactive},
	}
	for _, r := range rates {
		if s := v[r.key]; s != "" {
			f, perr := strconv.ParseFloat(s, 64)
			if perr != nil || f < 0 || f > 1e6 {
				return nil, &Error{r.key, "must be a number from 0 (off) to 1000000"}
			}
			*r.dst = f
		}
	}
	if s := v["AUTHD_LOCKOUT_FAILURES"]; s != "" {
		n, perr := strconv.Atoi(s)
		if perr != nil || n < 1 || n > 100 {
			// NIST SP 800-63B §5.2.2: no more than 100 consecutive failures.
			return nil, &Error{"AUTHD_LOCKOUT_FAILURES", "must be a whole number from 1 to 100"}
		}
		c.LockoutFailures = n
	}
	if c.LockoutInterval, err = duration(v, "AUTHD_LOCKOUT_INTERVAL", c.LockoutInterval); err != nil {
		return nil, err
	}
	for _, p := range strings.Split(v["AUTHD_TRUSTED_PROXIES"], ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, perr := netip.ParsePrefix(p); perr != nil {
			if _, aerr := netip.ParseAddr(p); aerr != nil {
				return nil, &Error{"AUTHD_TRUSTED_PROXIES", "must be comma-separated IP addresses or CIDRs, e.g. 10.0.0.0/8"}
			}
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	if c.ShutdownTimeout, err = duration(v, "AUTHD_SHUTDOWN_TIMEOUT", c.ShutdownTimeout); err != nil {
		return nil, err
	}
	if s := v["AUTHD_MAX_BODY_BYTES"]; s != "" {
		n, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || n < 1024 || n > 16<<20 {
			return nil, &Error{"AUTHD_MAX_BODY_BYTES", "must be a whole number of bytes from 1024 to 16777216"}
		}
		c.MaxBodyBytes = n
	}
	if s := v["AUTHD_DB_MAX_CONNS"]; s != "" {
		n, perr := strconv.ParseInt(s, 10, 32)
		if perr != nil || n < 1 || n > 1000 {
			return nil, &Error{"AUTHD_DB_MAX_CONNS", "must be a whole number from 1 to 1000"}
		}
		c.DBMaxConns = int32(n)
	}
	if s := v["AUTHD_AUTO_MIGRATE"]; s != "" {
		b, perr := strconv.ParseBool(s)
		if perr != nil {
			return nil, &Error{"AUTHD_AUTO_MIGRATE", "must be true or false"}
		}
		c.AutoMigrate = b
	}
	if s := v["AUTHD_ACCESS_LOG"]; s != "" {
		b, perr := strconv.ParseBool(s)
		if perr != nil {
			return nil, &Error{"AUTHD_ACCESS_LOG", "must be true or false"}
		}
		c.AccessLog = b
	}
	return c, nil
}

// Embedded reports whether the store is SQLite in the data folder.
func (c *Config) Embedded() bool { return c.DatabaseURL == "" }

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func duration(v map[string]string, key string, def time.Duration) (time.Duration, error) {
	s := v[key]
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		// Bare numbers are seconds, as in OAuth's expires_in.
		n, nerr := strconv.ParseInt(s, 10, 64)
		if nerr != nil {
			return 0, &Error{key, "must be a duration like 90s, 15m or 1h"}
		}
		d = time.Duration(n) * time.Second
	}
	if d <= 0 {
		return 0, &Error{key, "must be positive"}
	}
	return d, nil
}

func checkAddr(key, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return &Error{key, "must be host:port, e.g. 127.0.0.1:8080"}
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return &Error{key, "port must be a number from 0 to 65535"}
	}
	return nil
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
