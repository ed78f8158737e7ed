package login

import (
	"context"
	"errors"
	"testing"

	"github.com/authd/authd/internal/oauth"
)

// FuzzParseAuthorizeRequest: the parser never panics, and never lets a
// request through (or an error be redirected) to a URI the client did not
// register.
func FuzzParseAuthorizeRequest(f *testing.F) {
	db := openStore(f)
	for _, s := range []string{
		authParams("web").Encode(),
		authParams("first").Encode(),
		authParams("first", "redirect_uri", "https://first.example/callback?tenant=a").Encode(),
		authParams("web", "redirect_uri", "https://app.example/cb2?x=1", "prompt", "none", "max_age", "0").Encode(),
		authParams("web", "redirect_uri", "https://app.example/cb2").Encode(),
		authParams("m2m", "redirect_uri", "https://m2m.example/cb").Encode(),
		authParams("web").Encode() + "&redirect_uri=https%3A%2F%2Fevil.example",
		"client_id=web&redirect_uri=https://app.example/cb%00",
		"client_id=first&redirect_uri=",
		"client_id=first&redirect_uri=https%3A%2F%2Ffirst.example%2Fcallback%3Ftenant%3Db",
		"",
	} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := parseParams(raw)
		if err != nil {
			return
		}
		req, err := parseAuthorizeRequest(ctx, db, v)
		var pe *pageError
		switch {
		case errors.As(err, &pe):
			if req != nil {
				t.Fatal("a page error came with a redirect target")
			}
			return
		case err != nil:
			if _, ok := oauth.As(err); !ok {
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if req == nil || req.Client == nil {
			t.Fatalf("no request and no page error (err %v)", err)
		}
		if req.Client.ID != v.Get(pClientID) {
			t.Fatalf("client %q for client_id %q", req.Client.ID, v.Get(pClientID))
		}
		if !req.Client.HasRedirectURI(req.RedirectURI) {
			t.Fatalf("redirect URI %q is not registered for %s", req.RedirectURI, req.Client.ID)
		}
		if req.RedirectParam != "" && req.RedirectParam != req.RedirectURI {
			t.Fatalf("redirect_uri %q but redirecting to %q", req.RedirectParam, req.RedirectURI)
		}
		if !vschar(req.State) {
			t.Fatalf("state %q would be echoed", req.State)
		}
		if err != nil {
			return
		}
		if !oauth.ValidCodeChallenge(req.CodeChallenge) || !oauth.SubsetOf(req.Scopes, req.Client.Scopes) ||
			!req.Client.AllowsGrant(oauth.GrantAuthorizationCode) || len(req.Nonce) > maxNonceBytes {
			t.Fatalf("accepted an invalid request: %+v", req)
		}
	})
}
