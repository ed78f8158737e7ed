package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/admin"
	"github.com/authd/authd/internal/authzreq"
	"github.com/authd/authd/internal/batch"
	"github.com/authd/authd/internal/cache/invalidator"
	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/clientauth/assertion"
	"github.com/authd/authd/internal/clientdoc"
	"github.com/authd/authd/internal/config"
	"github.com/authd/authd/internal/defense"
	"github.com/authd/authd/internal/device"
	"github.com/authd/authd/internal/gcfloor"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/issuer"
	"github.com/authd/authd/internal/janitor"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/login"
	"github.com/authd/authd/internal/logoutnotify"
	"github.com/authd/authd/internal/memtrim"
	"github.com/authd/authd/internal/outbound"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/resource"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/store/postgres"
	"github.com/authd/authd/internal/store/sqlite"
	"github.com/authd/authd/internal/telemetry"
	"github.com/authd/authd/internal/token"
)

// appStore is a backend with its migrations.
type appStore interface {
	store.Store
	Migrate(ctx context.Context) error
}

// SQLiteFile is the database file inside the data folder.
const SQLiteFile = "authd.db"

func openStore(ctx context.Context, cfg *config.Config) (appStore, error) {
	if cfg.Embedded() {
		path := filepath.Join(cfg.DataDir, SQLiteFile)
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		// The file holds password hashes, client secret hashes and sealed
		// keys: readable by authd's user only, whatever the umask.
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			if err := os.Chmod(f, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
				db.Close()
				return nil, err
			}
		}
		return db, nil
	}
	return postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{
		MaxConns:         cfg.DBMaxConns,
		MinConns:         cfg.DBMinConns,
		ConnectTimeout:   cfg.DBConnectTimeout,
		StatementTimeout: cfg.DBStatementTimeout,
	})
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

func loadConfig(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (*config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "YAML or TOML file with AUTHD_* settings (the environment wins)")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(*path, getenv)
	return cfg, fs, err
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig("migrate", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	if _, err := cfg.EnsureSecrets(); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

func janitorCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig("janitor", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	if _, err := cfg.EnsureSecrets(); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := janitor.New(st, janitor.Options{Logger: newLogger(stderr, cfg.LogLevel), AuditRetention: cfg.AuditRetention}).RunOnce(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deleted %d expired rows\n", n)
	return nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := start(ctx, args, getenv, stderr)
	if err != nil {
		return err
	}
	return a.wait(ctx)
}

// app is a started serve: bound, serving, and owning everything it built.
type app struct {
	cfg     *config.Config
	log     *slog.Logger
	lc      *lifecycle
	servers []listener
	errc    chan error
	// accessBuf holds the public access log's last lines until flushed.
	accessBuf *logBuffer
}

// publicURL and adminURL are the addresses actually bound (tests listen on
// port 0 and ask here rather than read a log line).
func (a *app) publicURL() string {
	if a.cfg.TLSCertFile != "" {
		return "https://" + a.servers[0].ln.Addr().String()
	}
	return "http://" + a.servers[0].ln.Addr().String()
}
func (a *app) adminURL() string { return "http://" + a.servers[1].ln.Addr().String() }

// start checks every setting, builds everything and starts serving; on an
// error it has already unwound what it built.
func start(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) (*app, error) {
	var noMigrate bool
	cfg, _, err := loadConfig("serve", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&noMigrate, "no-migrate", false, "do not apply schema migrations on start")
	})
	if err != nil {
		return nil, err
	}
	// Every setting is checked before anything is touched: a bad one stops
	// startup before the schema is migrated or a port is bound.
	if err := validateLimits(cfg); err != nil {
		return nil, err
	}
	clientIPs, err := httpapi.NewClientIPs(cfg.TrustedProxies)
	if err != nil {
		return nil, &config.Error{Key: "AUTHD_TRUSTED_PROXIES", Msg: err.Error()}
	}
	logo, err := loadLogo(cfg.LogoFile)
	if err != nil {
		return nil, err
	}
	fds, err := activationFDs(getenv, os.Getpid())
	if err != nil {
		return nil, err
	}
	log := newLogger(stderr, cfg.LogLevel)
	// The public API's access log (a line per request) is written in
	// batches, at most 100 ms late; everything else as it happens.
	accessBuf := newLogBuffer(stderr, 100*time.Millisecond, 64<<10)
	access := newLogger(accessBuf, cfg.LogLevel)

	lc := newLifecycle(log)
	servers, err := build(ctx, cfg, noMigrate, clientIPs, logo, fds, log, accessLog{access, accessBuf}, lc)
	if err != nil {
		// An early return: unwind exactly what was built.
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		_ = lc.shutdown(sctx)
		accessBuf.Flush()
		return nil, err
	}
	// After start-up, whose garbage the default collected: the floor is for
	// serving (internal/gcfloor). GOGC in the environment is the operator's.
	if cfg.GCHeapFloorMB > 0 && getenv("GOGC") == "" {
		lc.goActor("gc heap floor", func(ctx context.Context) {
			gcfloor.Run(ctx, uint64(cfg.GCHeapFloorMB)<<20, time.Second)
		})
	}
	a := &app{cfg: cfg, log: log, lc: lc, servers: servers, errc: make(chan error, len(servers)), accessBuf: accessBuf}
	for _, s := range servers {
		go func() { a.errc <- s.srv.Serve(s.ln) }()
	}
	// Start-up is over: what it alone touched need not stay resident
	// (internal/memtrim; idle RSS on the embedded default 33 → 20 MB, and
	// 23 MB once the periodic work has run for minutes).
	if n, err := memtrim.Executable(); err != nil {
		log.Warn("start-up memory not released", "error", err.Error())
	} else {
		log.Debug("start-up memory released", "executable_mappings_mb", n>>20)
	}
	log.Info("listening",
		"public", a.publicURL(),
		"admin", a.adminURL(),
		"issuer", cfg.Issuer,
		"store", storeKind(cfg))
	return a, nil
}

// wait serves until ctx ends or a server fails, then shuts everything down.
func (a *app) wait(ctx context.Context) error {
	var served error
	select {
	case <-ctx.Done():
	case err := <-a.errc:
		if !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("server failed", "error", err.Error())
			served = err
		}
	}
	// One budget for all of it: an orchestrator's grace period is
	// AUTHD_SHUTDOWN_TIMEOUT plus a margin, never twice it.
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	err := a.lc.shutdown(sctx)
	a.accessBuf.Flush() // the servers are closed: no line comes after this
	a.log.Info("stopped")
	return errors.Join(served, err)
}

// masterRing is the configured master key and any previous ones.
func masterRing(cfg *config.Config) (keys.Keyring, error) {
	cur, err := keys.NewLocalMaster(cfg.MasterKey)
	if err != nil {
		return keys.Keyring{}, &config.Error{Key: "AUTHD_MASTER_KEY", Msg: err.Error()}
	}
	ring := keys.Keyring{Current: cur}
	for _, raw := range cfg.PreviousMasterKeys {
		m, err := keys.NewLocalMaster(raw)
		if err != nil {
			return keys.Keyring{}, &config.Error{Key: "AUTHD_MASTER_KEY_PREVIOUS", Msg: err.Error()}
		}
		ring.Previous = append(ring.Previous, m)
	}
	return ring, nil
}

// loadLogo reads AUTHD_LOGO_FILE (nil when unset), size-capped and checked.
func loadLogo(path string) (*login.Logo, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &config.Error{Key: "AUTHD_LOGO_FILE", Msg: err.Error()}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, login.MaxLogoBytes+1))
	if err != nil {
		return nil, &config.Error{Key: "AUTHD_LOGO_FILE", Msg: err.Error()}
	}
	logo, err := login.NewLogo(filepath.Base(path), data)
	if err != nil {
		return nil, &config.Error{Key: "AUTHD_LOGO_FILE", Msg: err.Error()}
	}
	return logo, nil
}

// listener is one HTTP server and what it serves on.
type listener struct {
	srv *http.Server
	ln  net.Listener
}

// build constructs everything serve runs, top to bottom, registering how
// each part stops with lc as soon as it exists. It returns the public and the
// admin server, bound but not yet serving.
func build(ctx context.Context, cfg *config.Config, noMigrate bool, clientIPs *httpapi.ClientIPs, logo *login.Logo, fds map[string]int, log *slog.Logger, access accessLog, lc *lifecycle) ([]listener, error) {
	generated, err := cfg.EnsureSecrets()
	if err != nil {
		return nil, err
	}
	for _, p := range generated {
		// Where, never what.
		log.Info("secret file in use", "path", p)
	}
	if cfg.Embedded() {
		release, err := lockDataDir(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		lc.onClose("data folder lock", release)
	}

	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	lc.onStop("store", func(context.Context) error { return st.Close() })
	log.Info("store open", "store", storeKind(cfg), "at", storeLocation(cfg))
	if cfg.AutoMigrate && !noMigrate {
		if err := st.Migrate(ctx); err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
	}
	// Every key authd uses is a data key stored wrapped by the master key, so
	// the master key can rotate without touching what they protect.
	ring, err := masterRing(cfg)
	if err != nil {
		return nil, err
	}
	derived, err := keys.LoadDataKeys(ctx, st, ring, time.Now())
	if err != nil {
		return nil, err
	}
	log.Info("data keys unwrapped", "master_key_id", ring.Current.ID())

	inherited, err := inheritedListeners(fds)
	if err != nil {
		return nil, err
	}
	for name := range inherited {
		log.Info("socket from the service manager", "listener", name, "address", inherited[name].Addr().String())
	}
	pubLn, err := listen(inherited, listenPublic, cfg.Listen)
	if err != nil { // not inherited; the admin one may be
		for _, ln := range inherited {
			ln.Close()
		}
		return nil, fmt.Errorf("AUTHD_LISTEN: %w", err)
	}
	lc.onClose("public listener", func() { pubLn.Close() })
	admLn, err := listen(inherited, listenAdmin, cfg.AdminListen)
	if err != nil { // not inherited, so nothing left open but what lc holds
		return nil, fmt.Errorf("AUTHD_ADMIN_LISTEN: %w", err)
	}
	lc.onClose("admin listener", func() { admLn.Close() })
	if u, err := url.Parse(cfg.Issuer); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		log.Warn("the issuer is not https: fine behind a TLS-terminating proxy that serves it as https, unsafe otherwise",
			"issuer", cfg.Issuer)
	}
	if cfg.Issuer == "http://"+cfg.Listen || cfg.Issuer == "https://"+cfg.Listen {
		// The default issuer names the address actually bound (port 0 in tests).
		scheme := "http://"
		if cfg.TLSCertFile != "" {
			scheme = "https://"
		}
		cfg.Issuer = scheme + pubLn.Addr().String()
	}
	if cfg.TLSCertFile != "" {
		if pubLn, err = tlsListener(cfg, pubLn); err != nil {
			return nil, err
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	bi := readBuildInfo()
	telemetry.BuildInfo(reg, bi.Version, bi.Commit, bi.Go)
	if b, ok := st.(interface{ BreakerTrips() uint64 }); ok {
		telemetry.StoreBreaker(reg, b.BreakerTrips)
	}
	tiers, err := buildCache(ctx, cfg, reg, st, derived.RedisCache)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	lc.onClose("cache", tiers.Close)
	if tiers.redis != nil {
		// Not fatal either way: without Redis a replica serves from its L1 and
		// the store, and reconnects by itself.
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		if err := tiers.redis.Ping(pctx); err != nil {
			log.Warn("redis unreachable at start; serving from the in-process cache and the store until it answers",
				"redis", redactURL(cfg.RedisURL), "error", err.Error())
		} else {
			log.Info("redis reachable", "redis", redactURL(cfg.RedisURL), "prefix", cfg.RedisPrefix)
		}
		pcancel()
	} else {
		log.Info("cache and limits in process", "max_bytes", cfg.CacheMaxBytes)
	}

	sealer, err := keys.NewSealer(derived.SigningKeys)
	if err != nil {
		return nil, err
	}
	// Access tokens use AUTHD_SIGNING_ALG; id_tokens AUTHD_ID_TOKEN_SIGNING_ALG
	// (RS256 by default, as OpenID Connect requires). Each purpose has keys
	// of its own, even when the algorithms are the same: an access token
	// signed by the id_token key is refused.
	idTokenAlgs := []string{cfg.IDTokenAlg}
	if cfg.IDTokenAlg != keys.RS256 {
		// OpenID Connect Core §15.1: RS256 is always there for clients that
		// ask for it (id_token_signed_response_alg), whatever the default.
		idTokenAlgs = append(idTokenAlgs, keys.RS256)
	}
	keyOpts := keys.Options{
		Purposes: []keys.Purpose{
			{Name: keys.PurposeAccess, Algorithm: cfg.SigningAlg},
			{Name: keys.PurposeIDToken, Algorithm: cfg.IDTokenAlg},
		},
		Retain: cfg.KeyRetain, Prepublish: cfg.KeyPrepublish, RotateEvery: cfg.KeyRotateEvery, Logger: log,
	}
	for _, a := range idTokenAlgs[1:] {
		keyOpts.Purposes = append(keyOpts.Purposes, keys.Purpose{Name: keys.PurposeIDToken, Algorithm: a})
	}
	if tiers.redis != nil {
		keyOpts.Notifier = tiers.redis
	}
	km, err := keys.NewManager(st, sealer, keyOpts)
	if err != nil {
		return nil, err
	}
	if err := km.Load(ctx); err != nil {
		return nil, err
	}

	hasher := password.New(password.Params{
		Memory: cfg.Argon2MemoryKiB, Time: cfg.Argon2Time, Threads: cfg.Argon2Threads, SaltLen: 16, KeyLen: 32,
	}, password.Limits{MaxConcurrent: cfg.HashConcurrency, MaxQueue: cfg.HashQueue})
	telemetry.Hashing(reg, hasher)
	// The audit pipeline stops after the servers have drained: requests still
	// in flight after SIGTERM emit events too, and Close flushes them.
	events := secevent.New(st, secevent.Options{Logger: log, TokenEvents: cfg.AuditTokenEvents, SampleEvery: cfg.AuditSampleEvery})
	telemetry.SecurityEvents(reg, events)
	go events.Run(context.Background())
	lc.onStop("audit events", events.Close)

	limiter, closeLimiter, err := buildLimiter(ctx, cfg, reg, log)
	if err != nil {
		return nil, fmt.Errorf("rate limiter: %w", err)
	}
	lc.onClose("rate limiter", closeLimiter)
	guard := defense.NewLoginGuard(limiter, loginPolicy(cfg), derived.LimiterNames, events, log)
	// With Redis, the looks before every request (is this address, this
	// caller, over budget?) are answered in process from the last charge
	// Redis refused: a round trip per request would halve what a replica
	// serves. Charges, and every login check, still go to Redis.
	requestLimiter := defense.Limiter(limiter)
	if cfg.RedisURL != "" {
		requestLimiter = defense.LocalLooks(limiter, time.Now)
	}
	requests := defense.NewRequests(requestLimiter, requestPolicy(cfg), events, log)

	// Cache deletions that cannot reach Redis go to the store's outbox, which
	// every replica applies; without Redis nothing can fail, so none is kept.
	invOpts := invalidator.Options{EntryTTL: token.MutableTTL, Redelete: token.RedeleteAfter, Logger: log}
	var outbox invalidator.Outbox
	if tiers.redis != nil {
		outbox, invOpts.Poll = st, cfg.CacheStaleness
	}
	inval := invalidator.New(tiers.cache, outbox, invOpts)
	// When it stops, its pending repeats go to the outbox (the store closes after).
	lc.goActor("cache invalidator", inval.Run)

	// The outbound fetcher: clients' and issuers' keys, metadata documents,
	// logout delivery.
	fetch, err := buildOutbound(cfg, reg, log)
	if err != nil {
		return nil, err
	}
	lc.onClose("outbound fetcher", fetch.Close)

	// Clients are looked up in the store, or, when a client_id is the URL of
	// the client's metadata document, there (validated by the client
	// service, built below, since it needs the token service's grants).
	var clientsByID token.ClientGetter = st
	docValidator := &lateValidator{}
	if cfg.ClientIDMetadataDocuments {
		clientsByID = clientdoc.New(st, fetch, docValidator, clientdoc.Options{Logger: log})
	}

	// Back-Channel and Front-Channel Logout: sessions' relying parties are
	// told when a session ends, from the store's outbox, by every replica.
	logouts, err := logoutnotify.New(st, clientsByID, km, fetch, logoutnotify.Options{
		Issuer: cfg.Issuer, BaseDelay: cfg.LogoutRetryBase, MaxAge: cfg.LogoutMaxAge, Logger: log, Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	lc.goActor("logout notifications", logouts.Run)

	accounts := account.New(st, hasher, password.Policy{MinLength: cfg.PasswordMinLength},
		account.Options{Logger: log, Events: events, Guard: guard, Changes: userCache{inval}, Logouts: logouts})
	// An unknown username is checked at parameters drawn from the stored
	// hashes' census, so it costs what a real user's verification costs.
	if err := accounts.RefreshCensus(ctx, st, derived.DecoyParams); err != nil {
		log.Warn("password census", "error", err.Error())
	}
	lc.goActor("password census", func(ctx context.Context) { accounts.RunCensus(ctx, st, derived.DecoyParams, 10*time.Minute) })

	// Sender-constrained tokens and clients without shared secrets: the
	// replay record (assertion jti, DPoP proofs), client certificates.
	rp, closeReplay, err := buildReplay(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("replay cache: %w", err)
	}
	lc.onClose("replay cache", closeReplay)
	secrets := &lateSecrets{}
	clientKeys := remoteKeys{fetch: fetch, jwks: outbound.NewJWKS(fetch, outbound.JWKSOptions{})}
	assertions, err := buildAssertions(cfg, clientKeys, rp, secrets)
	if err != nil {
		return nil, err
	}
	dpopOpts, err := buildDPoP(cfg, derived, rp)
	if err != nil {
		return nil, err
	}
	certSource, certVerifier, err := buildMTLS(cfg, clientIPs)
	if err != nil {
		return nil, err
	}
	secretSealer, err := keys.NewSealer(derived.ClientSecrets)
	if err != nil {
		return nil, err
	}

	// Opaque tokens are written through group commit: each request still waits
	// for its own row to be durable, but many share one transaction.
	flushers := 1
	if !cfg.Embedded() {
		flushers = 2
	}
	writer := batch.NewAccessTokens(st, batch.Options{Flushers: flushers})
	lc.onStop("token writes", writer.Close)
	revocations := batch.NewRevocations(st, batch.Options{Flushers: flushers})
	lc.onStop("revocation writes", revocations.Close)

	// RFC 8628: user codes are stored under a keyed hash every replica shares.
	userCodes := device.NewCodes(device.DeriveKey(derived.TokenTag), nil)
	tokens := token.New(token.Deps{
		Clients:     clientsByID,
		Tokens:      batchedTokens{w: writer, st: st},
		Revocations: revocations,
		Signer:      km,
		Codes:       st,
		Refresh:     st,
		Accounts:    accounts,
		Cache:       tiers.cache,
		Invalidator: inval,
		Events:      events,
		Limits:      requests,
		Logger:      log,
		Assertions:  assertions,
		Certs:       certAuth(certVerifier),
		ClientKeys:  clientKeys,
		Resources:   st,
		Devices:     st,
		UserCodes:   userCodes,
		// Token exchange and JWT bearer (RFC 8693, RFC 7523 §2.1): trusted
		// issuers' keys through the one fetcher, jti through the shared
		// replay record.
		TrustedIssuers: st,
		IssuerKeys:     issuerKeys{clientKeys},
		Users:          st,
		Replay:         rp,
	}, token.Options{
		Issuer:     cfg.Issuer,
		DefaultTTL: cfg.AccessTokenTTL,
		MaxTTL:     cfg.MaxTokenTTL,
		RefreshTTL: cfg.RefreshTokenTTL,
		// A retry or a second tab within this window is not a replay.
		RefreshReuseGrace: cfg.RefreshReuseGrace,
		IDTokenAlg:        cfg.IDTokenAlg,
		SecurityProfile:   cfg.SecurityProfile,
		Leeway:            5 * time.Second,
		TokenKey:          derived.TokenTag,
		SealKey:           derived.TokenSeal,
		StoreOpaque:       cfg.OpaqueTokens == "stored",
		DeviceCodeTTL:     cfg.DeviceCodeLifetime,
		DeviceInterval:    cfg.DevicePollInterval,
		VerificationURI:   cfg.Issuer + login.PathDevice,
		OpenSecret: func(id string, sealed []byte) ([]byte, error) {
			return secretSealer.Open(sealed, []byte("client secret:"+id))
		},
	})
	secrets.secretFor = tokens.SecretFor
	requestObjects, err := authzreq.NewVerifier(authzreq.Options{Issuer: cfg.Issuer, Keys: requestObjectKeys{clientKeys}, SecurityProfile: cfg.SecurityProfile})
	if err != nil {
		return nil, err
	}
	browser, err := login.New(login.Deps{
		Clients:        clientsByID,
		Accounts:       accounts,
		Sessions:       st,
		Consents:       st,
		Codes:          st,
		IDTokens:       km,
		Scopes:         st,
		RequestObjects: requestObjects,
		Pushed:         st,
		// RFC 8707 at the authorization endpoint: the token service's rules.
		Resources: tokens,
		Logouts:   logouts,
		Device: &login.Device{Authorizations: st, UserCodes: userCodes,
			Guard: defense.NewUserCodes(limiter, perHour(cfg.RateLimitDeviceCodes), events, log)},
	}, login.Options{Issuer: cfg.Issuer, CSRFKey: derived.CSRF, SessionTTL: cfg.SessionTTL, Logger: log, ClientIP: clientIPs.Of,
		ProductName: cfg.ProductName, Logo: logo, Events: events, RequirePAR: cfg.RequirePAR, PushedTTL: cfg.PARLifetime,
		SecurityProfile: cfg.SecurityProfile})
	if err != nil {
		return nil, &config.Error{Key: "AUTHD_PRODUCT_NAME", Msg: err.Error()}
	}
	ready := []httpapi.Check{{Name: "store", Fn: st.Ping}}
	if tiers.redis != nil {
		ready = append(ready, httpapi.Check{Name: "redis", Fn: tiers.redis.Ping, Optional: true})
	}
	clients := client.New(st, client.Options{
		Grants:             tokens.Grants(),
		MaxTokenTTL:        cfg.MaxTokenTTL,
		Changed:            tokens.InvalidateClient,
		Events:             events,
		AllowLoopbackFetch: cfg.OutboundAllowLoopback,
		SecurityProfile:    cfg.SecurityProfile,
		IDTokenAlgs:        idTokenAlgs,
		Seal: func(id string, secret []byte) ([]byte, error) {
			return secretSealer.Seal(secret, []byte("client secret:"+id)), nil
		},
	})
	docValidator.svc = clients
	resources := resource.New(st, resource.Options{
		MaxTokenTTL: cfg.MaxTokenTTL,
		Changed:     tokens.InvalidateResource,
		Events:      events,
	})
	trustedIssuers := issuer.New(st, issuer.Options{
		Audience: cfg.Issuer,
		Discover: func(ctx context.Context, iss string) error {
			_, err := fetch.Discover(ctx, iss)
			return err
		},
		Changed: tokens.InvalidateTrustedIssuer,
		Events:  events,
	})
	var registration *httpapi.Registration
	if cfg.Registration != "off" {
		registration = &httpapi.Registration{Clients: clients, Open: cfg.Registration == "open", AllowOpen: requests.AllowRegistration}
	}
	pub := httpapi.New(tokens, km, log, httpapi.Options{
		ClientIPs:                 clientIPs,
		Limits:                    requests,
		Events:                    events,
		Observe:                   telemetry.HTTP(reg, "public"),
		Issuer:                    cfg.Issuer,
		MaxBodyBytes:              cfg.MaxBodyBytes,
		Ready:                     ready,
		Mount:                     browser.Register,
		OIDC:                      true,
		IDTokenAlg:                cfg.IDTokenAlg,
		IDTokenAlgs:               idTokenAlgs,
		AccessTokenAlg:            cfg.SigningAlg,
		Origins:                   tokens.CachedOrigins(st),
		AccessLog:                 cfg.AccessLog,
		AccessLogger:              access.logger,
		AccessLines:               access.lines,
		NotFoundPage:              http.HandlerFunc(browser.NotFound),
		Registration:              registration,
		ClientCerts:               certSource,
		ClientIDMetadataDocuments: cfg.ClientIDMetadataDocuments,
		SignIntrospection:         tokens.SignIntrospection,
		IntrospectionAlg:          cfg.IDTokenAlg,
		AssertionAlgs:             assertion.Algorithms(),
		DPoP:                      dpopOpts,
		PAR:                       &httpapi.PAR{Requests: browser, Required: cfg.RequirePAR},
		RequestObjectAlgs:         authzreq.Algorithms(),
		LogoutNotifications:       true,
		Device:                    tokens,
	})

	adm := admin.New(admin.Deps{Clients: clients, Keys: km, Users: st, Accounts: accounts, Scopes: st, Audit: st, Resources: resources,
		TrustedIssuers: trustedIssuers}, log, admin.Options{
		Token:        cfg.AdminToken,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Metrics:      promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		Observe:      telemetry.HTTP(reg, "admin"),
		Events:       events,
		AccessLog:    cfg.AccessLog,
	})

	lc.goActor("janitor", janitor.New(st, janitor.Options{Logger: log, AuditRetention: cfg.AuditRetention}).Run)
	if ck, ok := st.(interface {
		RunCheckpoints(ctx context.Context, every time.Duration, onError func(error))
	}); ok {
		// SQLite: WAL checkpoints beside the writer, off the request path.
		lc.goActor("sqlite checkpoints", func(ctx context.Context) {
			ck.RunCheckpoints(ctx, time.Second, func(err error) { log.Warn("sqlite checkpoint", "error", err.Error()) })
		})
	}
	lc.goActor("signing key reload", func(ctx context.Context) {
		km.Run(ctx, 30*time.Second, func(err error) { log.Warn("reload or rotate signing keys", "error", err.Error()) })
	})
	lc.goActor("signing key watch", km.Watch)

	var tracing *telemetry.Tracing
	if cfg.OTLPEndpoint != "" {
		if tracing, err = telemetry.NewTracing(ctx, telemetry.TracingOptions{Endpoint: cfg.OTLPEndpoint, SampleRatio: cfg.TraceSampleRatio}); err != nil {
			return nil, &config.Error{Key: "AUTHD_OTLP_ENDPOINT", Msg: err.Error()}
		}
		lc.onStop("traces", tracing.Shutdown)
	}
	servers := []listener{
		{newHTTPServer(tracing.Wrap("public", pub), log), pubLn},
		{newHTTPServer(tracing.Wrap("admin", adm), log), admLn},
	}
	// Stopped first: accept nothing new, let in-flight requests finish (two
	// thirds of the budget at most), so what they queued is flushed next.
	lc.onStop("http servers", func(ctx context.Context) error {
		dctx, cancel := drainDeadline(ctx)
		defer cancel()
		var errs []error
		for _, s := range servers {
			if err := s.srv.Shutdown(dctx); err != nil {
				errs = append(errs, err)
				_ = s.srv.Close() // out of time: cut what is left
			}
		}
		return errors.Join(errs...)
	})
	return servers, nil
}

// storeLocation names where the store is without any credential in it.
func storeLocation(cfg *config.Config) string {
	if cfg.Embedded() {
		return filepath.Join(cfg.DataDir, SQLiteFile)
	}
	return redactURL(cfg.DatabaseURL)
}

// redactURL drops the userinfo and query of a URL (passwords, TLS key paths);
// what is left says where, never how to get in.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparsed)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

func storeKind(cfg *config.Config) string {
	if cfg.Embedded() {
		return "sqlite"
	}
	return "postgres"
}

// newHTTPServer sets the timeouts a server facing the internet needs: without
// them a slow client holds a connection (and a goroutine) forever.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// accessLog is where the public API's access log goes: the logger decides
// the level, and its lines are written to lines (the logger's own writer)
// by the middleware directly.
type accessLog struct {
	logger *slog.Logger
	lines  io.Writer
}
