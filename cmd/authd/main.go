// Command authd is an OAuth 2.0 / OpenID Connect authorization server.
//
//	authd serve     run the server (SQLite in ./authd-data unless AUTHD_DATABASE_URL is set)
//	authd migrate   apply schema migrations and exit
//	authd janitor   delete what has expired, in bounded batches
//	authd client    create|list|get|delete|rotate-secret clients through the admin API
//	authd keys      rotate the signing key through the admin API
//	authd user      create|list|delete|set-password|disable|enable users
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
  client    manage clients: create, list, get, delete, rotate-secret
  keys      manage signing keys: rotate
  user      manage users: create, list, delete, set-password, disable, enable
            (passwords are read from standard input or a prompt, never from arguments)
  help      show this help

Configuration comes from AUTHD_* environment variables and an optional
--config FILE (.yaml or .toml) with the same keys; the environment wins.`

// run is main without the process: tests call it with their own arguments,
// environment and streams, and end it by cancelling ctx.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args[1:], getenv, stdout, stderr)
	case "client":
		return clientCmd(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "keys":
		return keysCmd(ctx, args[1:], getenv, stdout, stderr)
	case "janitor":
		return janitorCmd(ctx, args[1:], getenv, stdout, stderr)
	case "user":
		return userCmd(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
