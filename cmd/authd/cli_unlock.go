package main

import (
	"context"
	"flag"
	"net/http"
)

// userUnlock is `authd user unlock ID|USERNAME`: it clears the failed logins
// counted against a user, from every address and device, through the admin
// API (POST /admin/users/{id}/unlock).
func userUnlock(*flag.FlagSet) func(context.Context, *call) error {
	return func(ctx context.Context, c *call) error {
		return c.userDone(c.admin.do(ctx, http.MethodPost, userPath(c.args[0])+"/unlock", nil, nil))
	}
}
