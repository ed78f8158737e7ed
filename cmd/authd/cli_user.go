package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"
)

// readPassword takes a password from a terminal prompt (no echo, asked twice)
// or, when stdin is not a terminal, from its first line. Never from argv:
// command lines end up in shell history and ps.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on standard input")
	}
	return pw, nil
}

func userCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: authd user create|list|delete|set-password|disable|enable [flags]")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	switch sub {
	case "create":
		username := fs.String("username", "", "the user's login name (required)")
		email := fs.String("email", "", "the user's email address")
		a, err := newAdminClient(fs, args, getenv, stderr)
		if err != nil {
			return err
		}
		if *username == "" {
			return errors.New("--username is required (the password is read from standard input)")
		}
		pw, err := readPassword(stdin, stderr)
		if err != nil {
			return err
		}
		var out map[string]any
		if err := a.do(ctx, http.MethodPost, "/admin/users", map[string]string{"username": *username, "password": pw, "email": *email}, &out); err != nil {
			return err
		}
		return printJSON(stdout, out)
	case "list":
		a, err := newAdminClient(fs, args, getenv, stderr)
		if err != nil {
			return err
		}
		var out struct {
			Users []struct {
				ID       string `json:"id"`
				Username string `json:"username"`
				Email    string `json:"email"`
				Disabled bool   `json:"disabled"`
			} `json:"users"`
		}
		if err := a.do(ctx, http.MethodGet, "/admin/users", nil, &out); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSERNAME\tEMAIL\tDISABLED")
		for _, u := range out.Users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\n", u.ID, u.Username, u.Email, u.Disabled)
		}
		return tw.Flush()
	case "delete", "set-password", "disable", "enable":
		a, err := newAdminClient(fs, args, getenv, stderr)
		if err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: authd user %s USER_ID", sub)
		}
		path := "/admin/users/" + url.PathEscape(fs.Arg(0))
		switch sub {
		case "delete":
			err = a.do(ctx, http.MethodDelete, path, nil, nil)
		case "set-password":
			var pw string
			if pw, err = readPassword(stdin, stderr); err != nil {
				return err
			}
			err = a.do(ctx, http.MethodPost, path+"/password", map[string]string{"password": pw}, nil)
		default:
			err = a.do(ctx, http.MethodPatch, path, map[string]bool{"disabled": sub == "disable"}, nil)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "done")
		return nil
	case "unlock":
		return userUnlock(ctx, fs, args, getenv, stdout, stderr)
	}
	return fmt.Errorf("unknown user command %q (create, list, delete, set-password, disable, enable)", sub)
}
