package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/config"
	"github.com/authd/authd/internal/defense"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/fallback"
	"github.com/authd/authd/internal/ratelimit/memory"
	rlredis "github.com/authd/authd/internal/ratelimit/redis"
)

// buildLimiter is in-process on the embedded store; with Redis the replicas
// share their budgets there, and fall back to per-replica budgets while Redis
// is unreachable.
func buildLimiter(ctx context.Context, cfg *config.Config, reg prometheus.Registerer, log *slog.Logger) (ratelimit.Limiter, func(), error) {
	if cfg.RedisURL == "" {
		m := memory.New(memory.Options{Registerer: reg})
		return m, m.Close, nil
	}
	r, err := rlredis.New(ctx, rlredis.Options{URL: cfg.RedisURL, Prefix: cfg.RedisPrefix + "ratelimit:", Registerer: reg})
	if err != nil {
		return nil, nil, err
	}
	local := memory.New(memory.Options{Name: "local", Registerer: reg})
	return fallback.New(r, local, fallback.Options{Registerer: reg, Logger: log}), func() { local.Close(); r.Close() }, nil
}

// perSecond turns a configured rate into a Limit with a burst of twice the
// rate (at least 1); 0 stays 0, which turns the limit off.
func perSecond(rate float64) ratelimit.Limit {
	if rate == 0 {
		return ratelimit.Limit{}
	}
	return ratelimit.Limit{Rate: rate, Burst: max(1, int(2*rate))}
}

func perMinute(rate float64) ratelimit.Limit {
	if rate == 0 {
		return ratelimit.Limit{}
	}
	return ratelimit.Limit{Rate: rate / 60, Burst: max(1, int(rate))}
}

func perHour(rate float64) ratelimit.Limit {
	if rate == 0 {
		return ratelimit.Limit{}
	}
	return ratelimit.Limit{Rate: rate / 3600, Burst: max(1, int(rate))}
}

func requestPolicy(cfg *config.Config) defense.RequestPolicy {
	return defense.RequestPolicy{
		PerIP:             perSecond(cfg.RateLimitIP),
		PerClient:         perSecond(cfg.RateLimitClient),
		InactivePerCaller: perMinute(cfg.RateLimitInactive),
		RegistrationPerIP: perHour(cfg.RateLimitRegistration),
	}
}

func loginPolicy(cfg *config.Config) defense.LoginPolicy {
	p := defense.DefaultLoginPolicy()
	p.AttemptsPerIP = perMinute(cfg.RateLimitLoginIP)
	p.FailuresPerAccount = ratelimit.Limit{Rate: 1 / cfg.LockoutInterval.Seconds(), Burst: cfg.LockoutFailures}
	return p
}

// validateLimits refuses settings that make an invalid limit (a lockout
// window beyond what the limiters can keep, a rate too fast to time): such a
// limit would be undecidable on every call, which the guards treat as "allow",
// so a too-strict setting would silently mean no limit at all.
func validateLimits(cfg *config.Config) error {
	rp, lp := requestPolicy(cfg), loginPolicy(cfg)
	for _, l := range []struct {
		key   string
		limit ratelimit.Limit
	}{
		{"AUTHD_RATE_LIMIT_IP", rp.PerIP},
		{"AUTHD_RATE_LIMIT_CLIENT", rp.PerClient},
		{"AUTHD_RATE_LIMIT_INACTIVE", rp.InactivePerCaller},
		{"AUTHD_RATE_LIMIT_REGISTRATION", rp.RegistrationPerIP},
		{"AUTHD_RATE_LIMIT_LOGIN_IP", lp.AttemptsPerIP},
		{"AUTHD_LOCKOUT_INTERVAL", lp.FailuresPerAccount},
		{"AUTHD_RATE_LIMIT_DEVICE_CODES", perHour(cfg.RateLimitDeviceCodes)},
	} {
		if l.limit.Rate == 0 {
			continue // off
		}
		if err := l.limit.Validate(); err != nil {
			return &config.Error{Key: l.key, Msg: "gives an unusable limit: " + err.Error()}
		}
	}
	return nil
}
