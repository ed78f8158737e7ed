package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/authd/authd/internal/config"
	"github.com/authd/authd/internal/httpapi"
)

// configCmd is "authd config [check]": the effective settings, secrets
// masked, or just whether they are valid. It binds nothing and opens no
// store, so it can run beside a serving authd or in a deployment pipeline.
func configCmd(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	check := len(args) > 0 && args[0] == "check"
	if check {
		args = args[1:]
	}
	cfg, _, err := loadConfig("config", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	if err := checkConfig(cfg); err != nil {
		return err
	}
	if check {
		fmt.Fprintln(stdout, "configuration is valid")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, kv := range cfg.Values() {
		fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}

// checkConfig is every check serve makes of its settings before it touches
// anything: the limits they make, the proxies, the logo file.
func checkConfig(cfg *config.Config) error {
	if err := validateLimits(cfg); err != nil {
		return err
	}
	if _, err := httpapi.NewClientIPs(cfg.TrustedProxies); err != nil {
		return &config.Error{Key: "AUTHD_TRUSTED_PROXIES", Msg: err.Error()}
	}
	_, err := loadLogo(cfg.LogoFile)
	return err
}
