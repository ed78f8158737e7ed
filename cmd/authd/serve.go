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
	"github.com/authd/authd/internal/batch"
	"github.com/authd/authd/internal/cache/invalidator"
	"github.com/authd/authd/internal/config"
	"github.com/authd/authd/internal/defense"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/janitor"
	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/login"
	"github.com/authd/authd/internal/password"
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
	var noMigrate bool
	cfg, _, err := loadConfig("serve", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&noMigrate, "no-migrate", false, "do not apply schema migrations on start")
	})
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	generated, err := cfg.EnsureSecrets()
	if err != nil {
		return err
	}
	for _, p := range generated {
		// Where, never what.
		log.Info("secret file in use", "path", p)
	}
	if cfg.Embedded() {
		release, err := lockDataDir(cfg.DataDir)
		if err != nil {
			return err
		}
		defer release()
	}

	st, err := openStore(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	log.Info("store open", "store", storeKind(cfg), "at", storeLocation(cfg))
	if cfg.AutoMigrate && !noMigrate {
		if err := st.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}

	pubLn, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("AUTHD_LISTEN: %w", err)
	}
	defer pubLn.Close()
	admLn, err := net.Listen("tcp", cfg.AdminListen)
	if err != nil {
		return fmt.Errorf("AUTHD_ADMIN_LISTEN: %w", err)
	}
	defer admLn.Close()
	if u, err := url.Parse(cfg.Issuer); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		log.Warn("the issuer is not https: fine behind a TLS-terminating proxy that serves it as https, unsafe otherwise",
			"issuer", cfg.Issuer)
	}
	if cfg.Issuer == "http://"+cfg.Listen {
		// The default issuer names the address actually bound (port 0 in tests).
		cfg.Issuer = "http://" + pubLn.Addr().String()
	}

	sealKey, err := keys.DeriveKey(cfg.MasterKey, "signing keys")
	if err != nil {
		return err
	}
	sealer, err := keys.NewSealer(sealKey)
	if err != nil {
		return err
	}
	// Access tokens use AUTHD_SIGNING_ALG; id_tokens AUTHD_ID_TOKEN_SIGNING_ALG
	// (RS256 by default, as OpenID Connect requires). Each purpose has keys
	// of its own, even when the algorithms are the same: an access token
	// signed by the id_token key is refused.
	purposes := []keys.Purpose{
		{Name: keys.PurposeAccess, Algorithm: cfg.SigningAlg},
		{Name: keys.PurposeIDToken, Algorithm: cfg.IDTokenAlg},
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	tiers, err := buildCache(ctx, cfg, reg, st)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer tiers.Close()
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
	keyOpts := keys.Options{Purposes: purposes, Retain: cfg.KeyRetain, Prepublish: cfg.KeyPrepublish, RotateEvery: cfg.KeyRotateEvery}
	if tiers.redis != nil {
		keyOpts.OnRotate = announceRotation(tiers.redis, log)
	}
	km, err := keys.NewManager(st, sealer, keyOpts)
	if err != nil {
		return err
	}
	if err := km.Load(ctx); err != nil {
		return err
	}

	hasher := password.New(password.Params{
		Memory: cfg.Argon2MemoryKiB, Time: cfg.Argon2Time, Threads: cfg.Argon2Threads, SaltLen: 16, KeyLen: 32,
	}, password.Limits{MaxConcurrent: cfg.HashConcurrency, MaxQueue: cfg.HashQueue})
	telemetry.Hashing(reg, hasher)
	events := secevent.New(st, secevent.Options{Logger: log})
	telemetry.SecurityEvents(reg, events)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The audit pipeline outlives the signal: requests still draining after
	// SIGTERM emit events too, and events.Close flushes them at the end.
	eventsCtx, stopEvents := context.WithCancel(context.WithoutCancel(ctx))
	defer stopEvents()
	go events.Run(eventsCtx)
	if err := validateLimits(cfg); err != nil {
		return err
	}
	limiter, closeLimiter, err := buildLimiter(ctx, cfg, reg, log)
	if err != nil {
		return fmt.Errorf("rate limiter: %w", err)
	}
	defer closeLimiter()
	accountKey, err := keys.DeriveKey(cfg.MasterKey, "limiter account names")
	if err != nil {
		return err
	}
	guard := defense.NewLoginGuard(limiter, loginPolicy(cfg), accountKey, events, log)
	requests := defense.NewRequests(limiter, requestPolicy(cfg), events, log)
	// Cache deletions that cannot reach Redis go to the store's outbox, which
	// every replica applies; without Redis nothing can fail, so none is kept.
	invOpts := invalidator.Options{EntryTTL: token.MutableTTL, Redelete: token.RedeleteAfter, Logger: log}
	var outbox invalidator.Outbox
	if tiers.redis != nil {
		outbox, invOpts.Poll = st, cfg.CacheStaleness
	}
	inval := invalidator.New(tiers.cache, outbox, invOpts)
	invDone := make(chan struct{})
	go func() { defer close(invDone); inval.Run(runCtx) }()

	accounts := account.New(st, hasher, password.Policy{MinLength: cfg.PasswordMinLength},
		account.Options{Logger: log, Events: events, Guard: guard, Changes: userCache{inval}})
	// An unknown username is checked at parameters drawn from the stored
	// hashes' census, so it costs what a real user's verification costs.
	decoyKey, err := keys.DeriveKey(cfg.MasterKey, "decoy params")
	if err != nil {
		return err
	}
	if err := accounts.RefreshCensus(ctx, st, decoyKey); err != nil {
		log.Warn("password census", "error", err.Error())
	}
	go accounts.RunCensus(runCtx, st, decoyKey, 10*time.Minute)
	// Opaque tokens are written through group commit: each request still waits
	// for its own row to be durable, but many share one transaction.
	flushers := 1
	if !cfg.Embedded() {
		flushers = 2
	}
	writer := batch.NewAccessTokens(st, batch.Options{Flushers: flushers})
	revocations := batch.NewRevocations(st, batch.Options{Flushers: flushers})

	tokenKey, err := keys.DeriveKey(cfg.MasterKey, "opaque token tag")
	if err != nil {
		return err
	}
	tokens := token.New(token.Deps{
		Clients:     st,
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
	}, token.Options{
		Issuer:     cfg.Issuer,
		DefaultTTL: cfg.AccessTokenTTL,
		MaxTTL:     cfg.MaxTokenTTL,
		RefreshTTL: cfg.RefreshTokenTTL,
		// A retry or a second tab within this window is not a replay.
		RefreshReuseGrace: cfg.RefreshReuseGrace,
		IDTokenAlg:        cfg.IDTokenAlg,
		Leeway:            5 * time.Second,
		TokenKey:          tokenKey,
	})
	clientIPs, err := httpapi.NewClientIPs(cfg.TrustedProxies)
	if err != nil {
		return &config.Error{Key: "AUTHD_TRUSTED_PROXIES", Msg: err.Error()}
	}
	csrfKey, err := keys.DeriveKey(cfg.MasterKey, "csrf")
	if err != nil {
		return err
	}
	browser, err := login.New(login.Deps{
		Clients:  st,
		Accounts: accounts,
		Sessions: st,
		Consents: st,
		Codes:    st,
		IDTokens: km,
	}, login.Options{Issuer: cfg.Issuer, CSRFKey: csrfKey, SessionTTL: cfg.SessionTTL, Logger: log, ClientIP: clientIPs.Of})
	if err != nil {
		return err
	}
	ready := []httpapi.Check{{Name: "store", Fn: st.Ping}}
	if tiers.redis != nil {
		ready = append(ready, httpapi.Check{Name: "redis", Fn: tiers.redis.Ping, Optional: true})
	}
	pub := httpapi.New(tokens, km, log, httpapi.Options{
		ClientIPs:      clientIPs,
		Limits:         requests,
		Observe:        telemetry.HTTP(reg, "public"),
		Issuer:         cfg.Issuer,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		Ready:          ready,
		Mount:          browser.Register,
		OIDC:           true,
		IDTokenAlg:     cfg.IDTokenAlg,
		AccessTokenAlg: cfg.SigningAlg,
		Origins:        tokens.CachedOrigins(st),
		AccessLog:      cfg.AccessLog,
	})
	adm := admin.New(admin.Deps{Clients: st, Keys: km, Users: st, Accounts: accounts}, log, admin.Options{
		Token:          cfg.AdminToken,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		MaxTokenTTL:    cfg.MaxTokenTTL,
		Grants:         tokens.Grants(),
		Metrics:        promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		Observe:        telemetry.HTTP(reg, "admin"),
		Events:         events,
		OnClientChange: tokens.InvalidateClient,
		AccessLog:      cfg.AccessLog,
	})

	go janitor.New(st, janitor.Options{Logger: log, AuditRetention: cfg.AuditRetention}).Run(runCtx)
	go km.Run(runCtx, 30*time.Second, func(err error) { log.Warn("reload or rotate signing keys", "error", err.Error()) })
	if tiers.redis != nil {
		go watchKeyRotations(runCtx, tiers.redis, km, log)
	}

	var tracing *telemetry.Tracing
	if cfg.OTLPEndpoint != "" {
		if tracing, err = telemetry.NewTracing(ctx, telemetry.TracingOptions{Endpoint: cfg.OTLPEndpoint, SampleRatio: cfg.TraceSampleRatio}); err != nil {
			return &config.Error{Key: "AUTHD_OTLP_ENDPOINT", Msg: err.Error()}
		}
	}
	servers := []*http.Server{newHTTPServer(tracing.Wrap("public", pub), log), newHTTPServer(tracing.Wrap("admin", adm), log)}
	errc := make(chan error, 2)
	for i, ln := range []net.Listener{pubLn, admLn} {
		go func() { errc <- servers[i].Serve(ln) }()
	}
	log.Info("listening",
		"public", "http://"+pubLn.Addr().String(),
		"admin", "http://"+admLn.Addr().String(),
		"issuer", cfg.Issuer,
		"store", storeKind(cfg))

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("server failed", "error", err.Error())
		}
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, scancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer scancel()
	var firstErr error
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("shutdown: %w", err)
		}
	}
	// In-flight requests are done (or out of time); now flush what they
	// queued, with a budget of its own so a slow drain cannot starve it.
	fctx, fcancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer fcancel()
	if err := writer.Close(fctx); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("flush token writes: %w", err)
	}
	if err := revocations.Close(fctx); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("flush revocations: %w", err)
	}
	if err := events.Close(fctx); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("flush security events: %w", err)
	}
	if err := tracing.Shutdown(fctx); err != nil {
		log.Warn("flush traces", "error", err.Error())
	}
	stopEvents()
	cancel()
	<-invDone // its pending repeats are in the outbox now
	log.Info("stopped", "events_dropped", events.Dropped())
	return firstErr
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
