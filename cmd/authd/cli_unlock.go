package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// userUnlock is `authd user unlock ID|USERNAME`: it clears the failed logins
// counted against a user, from every address and device, through the admin
// API (POST /admin/users/{id}/unlock).
func userUnlock(ctx context.Context, fs *flag.FlagSet, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := newAdminClient(fs, args, getenv, stderr)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		return errors.New("usage: authd user unlock USER_ID|USERNAME")
	}
	if err := a.do(ctx, http.MethodPost, "/admin/users/"+url.PathEscape(fs.Arg(0))+"/unlock", nil, nil); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "done")
	return nil
}
