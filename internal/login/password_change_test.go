package login

import (
	"context"
	"net/http"
	"testing"
)

// A password reset ends the browser's session; signing in again with the new
// password issues a code that carries the user's new generation, which the
// token endpoint requires.
func TestPasswordResetEndsSession(t *testing.T) {
	e := newEnv(t, "https://auth.example")
	e.signIn(e.client)
	ctx := context.Background()
	const newPassword = "a different fine passphrase"
	if err := e.svc.SetPassword(ctx, e.alice.ID, newPassword); err != nil {
		t.Fatal(err)
	}
	page := e.authorize(e.client, authParams("first"))
	wantPage(t, page, http.StatusOK, `action="/login"`) // signed out
	r := e.login(e.client, page, "alice", newPassword)
	code := r.location.Query().Get("code")
	if r.status != http.StatusSeeOther || code == "" {
		t.Fatalf("sign-in with the new password: %d %v", r.status, r.location)
	}
	c, err := e.db.RedeemAuthCode(ctx, hashToken(code), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.db.User(ctx, e.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Generation == 0 || c.UserGeneration != u.Generation {
		t.Fatalf("code generation %d, user generation %d", c.UserGeneration, u.Generation)
	}
}
