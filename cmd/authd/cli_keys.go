package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
)

func keysCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	// rotate-master works on the store, never through the admin API: the
	// master key does not travel over the network.
	if len(args) > 0 && args[0] == "rotate-master" {
		return rotateMasterCmd(ctx, args[1:], getenv, stdout, stderr)
	}
	return keysGroup.run(ctx, args, getenv, nil, stdout, stderr)
}

var keysGroup = &group{
	name: "keys",
	about: "Manage signing keys through the admin API. Access tokens and id_tokens have keys of\ntheir own (purposes access and id_token), even on one algorithm.\n\n" +
		"\"authd keys rotate-master --new-key-file FILE\" replaces the master key; it works on the\nstore directly (see its --help).",
	subs: []subcommand{{
		name: "rotate", summary: "add a signing key that replaces the current one",
		about: "Add a signing key. It is published in the JWKS for AUTHD_KEY_PREPUBLISH before it\n" +
			"signs, so resource servers know it first; --now signs with it at once (a suspected\n" +
			"compromise). The replaced key stays in the JWKS until tokens it signed have expired.\n" +
			"Without --purpose or --algorithm the access-token key rotates.",
		flags: keysRotate,
	}},
}

func keysRotate(fs *flag.FlagSet) func(context.Context, *call) error {
	purpose := fs.String("purpose", "", "access or id_token")
	alg := fs.String("algorithm", "", "rotate every purpose signing with `ALG`: ES256, EdDSA or RS256")
	now := fs.Bool("now", false, "sign with the new key at once instead of after pre-publication")
	return func(ctx context.Context, c *call) error {
		if *purpose != "" && *alg != "" {
			return errors.New("give --purpose or --algorithm, not both")
		}
		body := map[string]any{"immediate": *now}
		if *purpose != "" {
			body["purpose"] = *purpose
		}
		if *alg != "" {
			body["algorithm"] = *alg
		}
		var out map[string]any
		if err := c.admin.do(ctx, http.MethodPost, "/admin/keys/rotate", body, &out); err != nil {
			return err
		}
		return printJSON(c.stdout, out)
	}
}
