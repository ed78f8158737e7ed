package main

import (
	"bufio"
	"context"
	"encoding/json"
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
	return userGroup.run(ctx, args, getenv, stdin, stdout, stderr)
}

var userGroup = &group{
	name: "user",
	about: "Manage people's accounts through the admin API. A user is named by id or username.\n" +
		"Passwords are read from a prompt or the first line of standard input, never from arguments.",
	subs: []subcommand{
		{
			name: "create", summary: "create a user (password from standard input)",
			about: "Create a user. The password is asked for twice on a terminal, or read from the first\n" +
				"line of standard input; it must meet the password policy.",
			flags: userCreate,
		},
		{
			name: "list", summary: "list the users (a table, or the admin API's JSON with --json)",
			about: "List the users; --json prints the admin API's answer instead of a table.",
			flags: userList,
		},
		{
			name: "get", args: "ID|USERNAME", nargs: 1, summary: "print a user (never the password hash)",
			about: "Print a user: id, username, profile claims, email_verified, disabled, times.",
			flags: func(*flag.FlagSet) func(context.Context, *call) error {
				return func(ctx context.Context, c *call) error {
					var out map[string]any
					if err := c.admin.do(ctx, http.MethodGet, userPath(c.args[0]), nil, &out); err != nil {
						return userNotFound(err, c.args[0])
					}
					return printJSON(c.stdout, out)
				}
			},
		},
		{
			name: "update", args: "ID|USERNAME", nargs: 1, summary: "change a user's e-mail, name, phone or address claims",
			about: "Change the profile claims released in id_tokens and userinfo (PATCH /admin/users/{id}).\n" +
				"Flags not given keep their values; an empty value clears a claim. A new e-mail address\n" +
				"is unverified unless --email-verified is given in the same call.",
			flags: userUpdate,
		},
		{
			name: "set-password", args: "ID|USERNAME", nargs: 1, summary: "set a password (ends the user's sessions and tokens)",
			about: "Set a user's password (from a prompt or standard input). Every session, refresh token\n" +
				"and access token the user holds ends, and failed-login counters are cleared.",
			flags: func(*flag.FlagSet) func(context.Context, *call) error {
				return func(ctx context.Context, c *call) error {
					pw, err := readPassword(c.stdin, c.stderr)
					if err != nil {
						return err
					}
					return c.userDone(c.admin.do(ctx, http.MethodPost, userPath(c.args[0])+"/password", map[string]string{"password": pw}, nil))
				}
			},
		},
		{
			name: "disable", args: "ID|USERNAME", nargs: 1, summary: "refuse the user's logins and end their tokens",
			about: "Disable a user: logins are refused, and every session and token the user holds ends.",
			flags: setDisabled(true),
		},
		{
			name: "enable", args: "ID|USERNAME", nargs: 1, summary: "allow a disabled user to log in again",
			about: "Enable a disabled user. Tokens ended by the disabling stay ended.",
			flags: setDisabled(false),
		},
		{
			name: "unlock", args: "ID|USERNAME", nargs: 1, summary: "clear the failed logins counted against a user",
			about: "Clear the failed logins counted against a user, from every address and device, so a\n" +
				"locked-out owner can log in at once (POST /admin/users/{id}/unlock).",
			flags: userUnlock,
		},
		{
			name: "delete", args: "ID|USERNAME", nargs: 1, summary: "delete a user (their tokens end with them)",
			about: "Delete a user; every token issued to them stops working.",
			flags: func(*flag.FlagSet) func(context.Context, *call) error {
				return func(ctx context.Context, c *call) error {
					return c.userDone(c.admin.do(ctx, http.MethodDelete, userPath(c.args[0]), nil, nil))
				}
			},
		},
	},
}

func userPath(ref string) string { return "/admin/users/" + url.PathEscape(ref) }

// userNotFound says what was looked for when the admin API knows no such
// user: every user path takes an id or a username.
func userNotFound(err error, ref string) error {
	if isNotFound(err) {
		return fmt.Errorf("no user with id or username %q", ref)
	}
	return err
}

// userDone reports the outcome of a change that answers nothing.
func (c *call) userDone(err error) error {
	if err != nil {
		return userNotFound(err, c.args[0])
	}
	fmt.Fprintln(c.stdout, "done")
	return nil
}

func userCreate(fs *flag.FlagSet) func(context.Context, *call) error {
	username := fs.String("username", "", "the user's login `NAME` (required)")
	email := fs.String("email", "", "the user's e-mail `ADDRESS` (unverified)")
	return func(ctx context.Context, c *call) error {
		if *username == "" {
			return errors.New("--username is required (the password is read from standard input)")
		}
		pw, err := readPassword(c.stdin, c.stderr)
		if err != nil {
			return err
		}
		var out map[string]any
		if err := c.admin.do(ctx, http.MethodPost, "/admin/users", map[string]string{"username": *username, "password": pw, "email": *email}, &out); err != nil {
			return err
		}
		return printJSON(c.stdout, out)
	}
}

func userList(fs *flag.FlagSet) func(context.Context, *call) error {
	asJSON := fs.Bool("json", false, "print the admin API's JSON ({\"users\":[…]}) instead of a table")
	return func(ctx context.Context, c *call) error {
		if *asJSON {
			var raw json.RawMessage
			if err := c.admin.do(ctx, http.MethodGet, "/admin/users", nil, &raw); err != nil {
				return err
			}
			return printJSON(c.stdout, raw)
		}
		var out struct {
			Users []struct {
				ID            string `json:"id"`
				Username      string `json:"username"`
				Email         string `json:"email"`
				EmailVerified bool   `json:"email_verified"`
				Name          string `json:"name"`
				Disabled      bool   `json:"disabled"`
			} `json:"users"`
		}
		if err := c.admin.do(ctx, http.MethodGet, "/admin/users", nil, &out); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSERNAME\tEMAIL\tEMAIL_VERIFIED\tNAME\tDISABLED")
		for _, u := range out.Users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%v\n", u.ID, u.Username, orDash(u.Email), u.EmailVerified, orDash(u.Name), u.Disabled)
		}
		return tw.Flush()
	}
}

func userUpdate(fs *flag.FlagSet) func(context.Context, *call) error {
	strs := map[string]*string{
		"email":        fs.String("email", "", "e-mail `ADDRESS` (a new one is unverified unless --email-verified is given too)"),
		"name":         fs.String("name", "", "full `NAME` (the name claim)"),
		"given-name":   fs.String("given-name", "", "given `NAME` (given_name)"),
		"family-name":  fs.String("family-name", "", "family `NAME` (family_name)"),
		"phone-number": fs.String("phone-number", "", "phone `NUMBER`, E.164 preferred (a new one is unverified unless --phone-number-verified is given too)"),
	}
	address := fs.String("address", "", "postal address as `JSON` (OpenID Connect Core §5.1.1: formatted, street_address, locality, region, postal_code, country); {} removes it")
	var verified, phoneVerified optBool
	fs.Var(&verified, "email-verified", "whether the address is verified: --email-verified or --email-verified=false")
	fs.Var(&phoneVerified, "phone-number-verified", "whether the phone number is verified")
	return func(ctx context.Context, c *call) error {
		body := map[string]any{}
		for flagName, v := range strs {
			if c.set[flagName] {
				body[strings.ReplaceAll(flagName, "-", "_")] = *v
			}
		}
		if verified.v != nil {
			body["email_verified"] = *verified.v
		}
		if phoneVerified.v != nil {
			body["phone_number_verified"] = *phoneVerified.v
		}
		if c.set["address"] {
			var a map[string]any
			if err := json.Unmarshal([]byte(*address), &a); err != nil {
				return fmt.Errorf("--address must be a JSON object: %v", err)
			}
			body["address"] = a
		}
		if len(body) == 0 {
			return errors.New("nothing to change: give --email, --email-verified, --name, --given-name, --family-name, --phone-number, --phone-number-verified or --address")
		}
		var out map[string]any
		if err := c.admin.do(ctx, http.MethodPatch, userPath(c.args[0]), body, &out); err != nil {
			return userNotFound(err, c.args[0])
		}
		return printJSON(c.stdout, out)
	}
}

func setDisabled(disabled bool) func(*flag.FlagSet) func(context.Context, *call) error {
	return func(*flag.FlagSet) func(context.Context, *call) error {
		return func(ctx context.Context, c *call) error {
			return c.userDone(c.admin.do(ctx, http.MethodPatch, userPath(c.args[0]), map[string]bool{"disabled": disabled}, nil))
		}
	}
}
