// Command authd is an OAuth 2.0 / OpenID Connect authorization server.
//
//	authd serve     run the server (SQLite in ./authd-data unless AUTHD_DATABASE_URL is set)
//	authd migrate   apply schema migrations and exit
//	authd janitor   delete what has expired, in bounded batches
//	authd config    print the effective settings, or check them
//	authd client    create|list|get|update|delete|rotate-secret|registration-token through the admin API
//	authd resource  create|list|get|update|delete API resources (RFC 8707) through the admin API
//	authd trusted-issuer  create|list|get|delete issuers for token exchange and JWT bearer
//	authd keys      rotate signing keys through the admin API
//	authd user      create|list|get|update|set-password|disable|enable|unlock|delete users
//	authd version   module version, commit and Go version
//	authd help      what a command or subcommand takes (so does --help on any of them)
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "authd:", err)
		os.Exit(1)
	}
}

const usage = `usage: authd <command> [flags]

commands:
  serve     run the server (flags: --config FILE, --no-migrate)
  migrate   apply schema migrations and exit (flags: --config FILE)
  janitor   delete expired tokens, codes, sessions and revocations now
  audit     read the audit trail: list (the default), filtered by time, type,
            client, subject or address
  config    print the effective settings (secrets masked); "config check"
            only validates them, binding and opening nothing
  client    manage clients: create, list, get, update, delete, rotate-secret, registration-token
            (a client is named by its id or its unique name)
  resource  manage API resources (RFC 8707): create, list, get, update, delete
            (a resource is named by its id or its resource URI)
  trusted-issuer  manage issuers whose JWTs authd accepts (token exchange, JWT
            bearer): create, list, get, delete (named by id or issuer URL)
  keys      manage signing keys: rotate, rotate-master
  user      manage users: create, list, get, update, set-password, disable,
            enable, unlock, delete (a user is named by id or username;
            passwords are read from standard input or a prompt, never from arguments)
  version   the module version, commit and Go version of this binary
  help      show this help; "authd help <command> [<subcommand>]", or --help
            on any command, shows what it takes

client, resource, trusted-issuer, user and keys talk to the admin API of a running serve: --admin-url or
AUTHD_ADMIN_URL (default http://AUTHD_ADMIN_LISTEN), with AUTHD_ADMIN_TOKEN or the
data folder's admin-token file.

Configuration comes from AUTHD_* environment variables and an optional
--config FILE (.yaml or .toml) with the same keys; the environment wins.`

// run is main without the process: tests call it with their own arguments,
// environment and streams, and end it by cancelling ctx.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("no command given")
	}
	// serve, migrate and janitor parse their flags in serve.go; their help
	// is answered here so that asking for it never opens a store.
	if text, ok := serverCommands[args[0]]; ok && helpRequested(args[1:]) {
		fmt.Fprintln(stdout, text)
		return nil
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args[1:], getenv, stdout, stderr)
	case "client":
		return clientCmd(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "resource":
		return resourceCmd(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "trusted-issuer":
		return trustedIssuerCmd(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "keys":
		return keysCmd(ctx, args[1:], getenv, stdout, stderr)
	case "janitor":
		return janitorCmd(ctx, args[1:], getenv, stdout, stderr)
	case "user":
		return userCmd(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "config":
		return configCmd(ctx, args[1:], getenv, stdout, stderr)
	case "audit":
		return auditCmd(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version":
		return versionCmd(stdout)
	case "help":
		return helpCmd(ctx, args[1:], stdout, stderr)
	}
	if isHelpArg(args[0]) {
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
