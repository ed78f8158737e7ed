package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/authd/authd/internal/store"
)

// expiringKinds are the row kinds PurgeExpired handles by ExpiresAt; signing keys,
// purged by PublishUntil, are seeded separately.
func expiringKinds() []string {
	return []string{"access token", "revocation", "auth code", "refresh token", "session", "invalidation", "registration token", "pushed request", "device authorization"}
}

// seedExpiring stores one row of every expiring kind, all named name and expiring at exp.
func seedExpiring(t *testing.T, s store.Store, name string, exp time.Time) {
	t.Helper()
	ctx := t.Context()
	a := accessToken(0, "purge-"+name)
	a.ExpiresAt = exp
	wantErr(t, "CreateAccessTokens", s.CreateAccessTokens(ctx, []*store.AccessToken{a}), nil)
	wantErr(t, "Revoke", s.Revoke(ctx, "revocation-"+name, exp), nil)
	c := authCode(name)
	c.ExpiresAt = exp
	wantErr(t, "CreateAuthCode", s.CreateAuthCode(ctx, c), nil)
	r := refreshToken(name, "purge-"+name)
	r.ExpiresAt = exp
	wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, r), nil)
	x := session(name)
	x.ExpiresAt = exp
	wantErr(t, "CreateSession", s.CreateSession(ctx, x), nil)
	inv := &store.Invalidation{Keys: []string{"purge-" + name}, CreatedAt: t0(), ExpiresAt: exp}
	wantErr(t, "AddInvalidation", s.AddInvalidation(ctx, inv), nil)
	rt := registrationToken("purge-" + name)
	rt.ExpiresAt, rt.MaxUses = exp, 1000
	wantErr(t, "CreateRegistrationToken", s.CreateRegistrationToken(ctx, rt), nil)
	pr := pushedRequest("purge-" + name)
	pr.ExpiresAt = exp
	wantErr(t, "CreatePushedRequest", s.CreatePushedRequest(ctx, pr), nil)
	da := deviceAuthorization("purge-" + name)
	da.ExpiresAt = exp
	wantErr(t, "CreateDeviceAuthorization", s.CreateDeviceAuthorization(ctx, da), nil)
}

// aliveKinds returns which of the rows seedExpiring stored under name still exist.
func aliveKinds(t *testing.T, s store.Store, name string) []string {
	t.Helper()
	ctx := t.Context()
	var alive []string
	check := func(kind string, err error) {
		t.Helper()
		switch {
		case err == nil:
			alive = append(alive, kind)
		case !errors.Is(err, store.ErrNotFound):
			t.Fatalf("%s %s: %v", kind, name, err)
		}
	}
	_, err := s.AccessToken(ctx, accessToken(0, "purge-"+name).Hash)
	check("access token", err)
	revoked, err := s.Revoked(ctx, []string{"revocation-" + name})
	wantErr(t, "Revoked", err, nil)
	if len(revoked) == 1 {
		alive = append(alive, "revocation")
	}
	// Redeeming proves presence without depending on whether it was used.
	_, err = s.RedeemAuthCode(ctx, authCode(name).Hash, t0())
	if errors.Is(err, store.ErrAlreadyUsed) {
		err = nil
	}
	check("auth code", err)
	_, err = s.RefreshToken(ctx, refreshToken(name, "").Hash)
	check("refresh token", err)
	_, err = s.Session(ctx, session(name).Hash)
	check("session", err)
	// Long before any expiry, so every record still stored is pending.
	invs, err := s.PendingInvalidations(ctx, t0().Add(-1000*time.Hour), 0, 1000)
	wantErr(t, "PendingInvalidations", err, nil)
	for _, inv := range invs {
		if slices.Equal(inv.Keys, []string{"purge-" + name}) {
			alive = append(alive, "invalidation")
		}
	}
	// Spending one use (of many) at a time before any expiry proves presence.
	check("registration token", s.UseRegistrationToken(ctx, registrationToken("purge-"+name).Hash, t0().Add(-1000*time.Hour)))
	// Consuming proves presence; aliveKinds is the last look at the rows.
	pr := pushedRequest("purge-" + name)
	_, err = s.ConsumePushedRequest(ctx, pr.Hash, pr.ClientID, t0().Add(-1000*time.Hour))
	check("pushed request", err)
	// A poll of a pending request finds it whatever its expiry.
	da := deviceAuthorization("purge-" + name)
	_, err = s.PollDeviceAuthorization(ctx, da.DeviceCodeHash, da.ClientID, t0(), 5*time.Second)
	check("device authorization", err)
	return alive
}

// rotateChain rotates the keys in order, each retiring the previous one at the
// given publishUntil: pus[i] becomes keys[i]'s PublishUntil.
func rotateChain(t *testing.T, s store.Store, keys []*store.SigningKey, pus []time.Time) {
	t.Helper()
	for i, k := range keys {
		pu := t0() // the first rotation retires nothing
		if i > 0 {
			pu = pus[i-1]
		}
		wantErr(t, "RotateKey "+k.ID, s.RotateKey(t.Context(), k, pu), nil)
	}
}

func purge(t *testing.T, s store.Store, now time.Time, limit, want int) {
	t.Helper()
	n, err := s.PurgeExpired(t.Context(), now, limit)
	wantErr(t, "PurgeExpired", err, nil)
	if n != want {
		t.Fatalf("PurgeExpired(limit %d) deleted %d rows, want %d", limit, n, want)
	}
}

func purgeCases() []testCase {
	// A microsecond-aligned now, so "expiry equal to now" is unambiguous.
	now := wantTime(t0())
	return []testCase{
		{"DeletesOnlyExpired", func(t *testing.T, s store.Store) {
			rows := []struct {
				name  string
				exp   time.Time
				alive bool
			}{
				{"long-past", now.Add(-24 * time.Hour), false},
				{"past", now.Add(-time.Microsecond), false},
				{"at-now", now, true}, // "expiry before now" is strict
				{"future", now.Add(time.Hour), true},
			}
			for _, r := range rows {
				seedExpiring(t, s, r.name, r.exp)
			}
			// Redeemed and rotated-out rows are purged by expiry like the rest.
			_, err := s.RedeemAuthCode(t.Context(), authCode("past").Hash, now.Add(-time.Hour))
			wantErr(t, "RedeemAuthCode", err, nil)

			keys := []*store.SigningKey{
				signingKey("kA", -3*time.Hour), signingKey("kB", -2*time.Hour),
				signingKey("kC", -time.Hour), signingKey("kD", 0),
			}
			rotateChain(t, s, keys, []time.Time{now.Add(-time.Microsecond), now, now.Add(time.Hour)})

			purge(t, s, now, 100, 2*len(expiringKinds())+1)
			for _, r := range rows {
				got := aliveKinds(t, s, r.name)
				want := []string(nil)
				if r.alive {
					want = expiringKinds()
				}
				if !slices.Equal(got, want) {
					t.Errorf("after purge, rows expiring %s: alive %q, want %q", r.name, got, want)
				}
			}
			mustKeyIDs(t, "keys after purge", keysAt(t, s, time.Time{}), "kD", "kC", "kB")
			purge(t, s, now, 100, 0)
		}},
		{"RespectsLimit", func(t *testing.T, s store.Store) {
			for i := range 3 {
				seedExpiring(t, s, fmt.Sprintf("expired-%d", i), now.Add(-time.Duration(i+1)*time.Minute))
			}
			seedExpiring(t, s, "live", now.Add(time.Minute))
			var keys []*store.SigningKey
			for i := range 5 {
				keys = append(keys, signingKey(fmt.Sprintf("k%d", i), time.Duration(i)*time.Minute))
			}
			rotateChain(t, s, keys, []time.Time{
				now.Add(-3 * time.Minute), now.Add(-2 * time.Minute), now.Add(-time.Minute), now.Add(time.Hour),
			})

			kinds := len(expiringKinds()) + 1
			purge(t, s, now, 2, 2*kinds)
			purge(t, s, now, 2, kinds)
			purge(t, s, now, 2, 0)
			for i := range 3 {
				if got := aliveKinds(t, s, fmt.Sprintf("expired-%d", i)); len(got) != 0 {
					t.Errorf("expired-%d: alive %q after purging everything", i, got)
				}
			}
			if got := aliveKinds(t, s, "live"); !slices.Equal(got, expiringKinds()) {
				t.Errorf("live rows: alive %q, want %q", got, expiringKinds())
			}
			mustKeyIDs(t, "keys after purge", keysAt(t, s, time.Time{}), "k4", "k3")
		}},
	}
}
