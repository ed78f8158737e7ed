package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "authd-loadtest:", err)
		}
		// 1: the run worked and missed a --fail-if condition; 2: it did not work.
		if errors.Is(err, errGateFailed) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

const usage = `usage: authd-loadtest <command> [flags]

commands:
  setup      create clients (jwt, opaque, password grant), users and tokens through
             the admin API; --out FILE saves them (default: print)
  run        run --scenarios (default: the benchmark set) against --target, and
             with --baseline URL|inprocess against the bare baseline too
  SCENARIO   shorthand for: run --scenarios SCENARIO
  list       list the scenarios
  baseline   serve the bare baseline: --listen 127.0.0.1:0 [--addr-file F]
  report     print one table from run --json files: report FILE...

common flags (run, setup, SCENARIO):
  --target URL          public API (default http://127.0.0.1:8080; loopback only)
  --admin URL           admin API (default http://127.0.0.1:8081; loopback only)
  --admin-token T       admin bearer token (default AUTHD_ADMIN_TOKEN, else
                        the file authd-data/admin-token)
  --rate N              req/s, open loop; 0 = as fast as --workers go (default 0)
  --workers N           concurrency (default 64)
  --duration D          per scenario (default 10s, at most 5m)
  --max-requests N      per stream (default 5000000)
  --json                print JSON
  --html FILE           also write a self-contained HTML report (charts per scenario)
  --fail-if CONDS       exit 1 when a condition holds, e.g. 'p99>50ms,errors>1%,rps<1000'
  --mix KIND:W,...      mixed and stress: the request mix (default ` + defaultMix + `)
Run 'authd-loadtest run -h' for every flag.`

// run is main without the process, so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command given")
	}
	switch cmd := args[0]; cmd {
	case "run":
		return cmdRun(ctx, args[1:], getenv, stdout, stderr)
	case "setup":
		return cmdSetup(ctx, args[1:], getenv, stdout, stderr)
	case "baseline":
		return cmdBaseline(ctx, args[1:], getenv, stdout, stderr)
	case "report":
		return cmdReport(args[1:], stdout, stderr)
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, s := range scenarios {
			cmp := ""
			if s.comparable {
				cmp = "(baseline too)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", s.name, cmp, s.about)
		}
		return tw.Flush()
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		if lookupScenario(cmd) != nil {
			return cmdRun(ctx, append([]string{"--scenarios", cmd}, args[1:]...), getenv, stdout, stderr)
		}
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
