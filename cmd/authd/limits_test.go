package main

import (
	"testing"

	"github.com/authd/authd/internal/config"
	"github.com/authd/authd/internal/defense"
)

// The login policy's settable limits have their defaults in the settings
// table; defense.DefaultLoginPolicy, which tests and the unsettable parts
// use, must say the same.
func TestLimitDefaultsAgree(t *testing.T) {
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if got, want := loginPolicy(cfg), defense.DefaultLoginPolicy(); got != want {
		t.Fatalf("login policy from default settings %+v\ndefense.DefaultLoginPolicy %+v", got, want)
	}
	if got, want := perHour(cfg.RateLimitDeviceCodes), defense.DefaultUserCodeFailures(); got != want {
		t.Fatalf("user-code limit from default settings %+v\ndefense.DefaultUserCodeFailures %+v", got, want)
	}
}
