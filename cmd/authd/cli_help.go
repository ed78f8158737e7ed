package main

import (
	"context"
	"fmt"
	"io"
)

// serverCommands are the commands that run against the store itself rather
// than the admin API. Their flags are parsed in serve.go; these texts list
// them (a test holds the two together).
var serverCommands = map[string]string{
	"serve": `usage: authd serve [--config FILE] [--no-migrate]

Run the public API (AUTHD_LISTEN) and the admin API (AUTHD_ADMIN_LISTEN) until
SIGINT or SIGTERM, then drain in-flight requests and flush queued writes. Without
AUTHD_DATABASE_URL the store is SQLite in AUTHD_DATA_DIR, which one serve holds at a
time. Missing secrets (the admin token; for SQLite the master key) are generated
into the data folder.

flags:
  --config FILE   YAML or TOML file with AUTHD_* settings (the environment wins)
  --no-migrate    do not apply schema migrations on start

Every setting is an AUTHD_* environment variable; README.md lists them.`,
	"migrate": `usage: authd migrate [--config FILE]

Apply the schema migrations to the store and exit.

flags:
  --config FILE   YAML or TOML file with AUTHD_* settings (the environment wins)`,
	"config": `usage: authd config [check] [--config FILE]

Print every setting's effective value (secrets masked), from the environment, the
--config file and the defaults; "authd config check" only validates them the way serve
does before it touches anything, and says so or names the first bad key. Neither binds
a port nor opens the store.

flags:
  --config FILE   YAML or TOML file with AUTHD_* settings (the environment wins)`,
	"janitor": `usage: authd janitor [--config FILE]

Delete expired tokens, codes, sessions and revocations, and audit events older than
AUTHD_AUDIT_RETENTION, now (serve does this on its own as it runs).

flags:
  --config FILE   YAML or TOML file with AUTHD_* settings (the environment wins)`,
}

// groups are the commands with subcommands, for `authd help GROUP [SUB]`.
var groups = map[string]*group{"client": clientGroup, "resource": resourceGroup, "trusted-issuer": trustedIssuerGroup, "user": userGroup, "keys": keysGroup, "audit": auditGroup}

// helpCmd is `authd help [COMMAND [SUBCOMMAND]]`.
func helpCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stdout, usage)
		return nil
	}
	if text, ok := serverCommands[args[0]]; ok {
		fmt.Fprintln(stdout, text)
		return nil
	}
	if g, ok := groups[args[0]]; ok {
		return g.run(ctx, append([]string{"help"}, args[1:]...), nil, nil, stdout, stderr)
	}
	return fmt.Errorf("no help for %q: not a command (see authd help)", args[0])
}
