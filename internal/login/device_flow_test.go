package login

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/defense"
	"github.com/authd/authd/internal/device"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/memory"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/store/sqlite"
)

// deviceEnv is an env serving the verification page, whose wrong entries a
// limiter of limit per address bounds.
type deviceEnv struct {
	*env
	codes  *device.Codes
	events *recordedEvents
}

func newDeviceEnv(t *testing.T, limit ratelimit.Limit) *deviceEnv {
	t.Helper()
	d := &deviceEnv{codes: device.NewCodes([]byte("0123456789abcdef0123456789abcdef"), nil), events: &recordedEvents{}}
	// The real clock: nothing here waits for a budget to refill.
	lim := memory.New(memory.Options{})
	t.Cleanup(lim.Close)
	d.env = newEnvConfig(t, envConfig{
		issuer: testIssuer,
		wrap: func(deps *Deps) {
			deps.Device = &Device{Authorizations: deps.Codes.(*sqlite.DB), UserCodes: d.codes,
				Guard: defense.NewUserCodes(lim, limit, d.events, nil)}
		},
		opts: func(o *Options) { o.Events = d.events },
	})
	return d
}

// pending stores a pending request of client "web" under user code code
// (normalised) and returns its device-code hash.
func (d *deviceEnv) pending(code string) []byte {
	d.t.Helper()
	a := &store.DeviceAuthorization{
		DeviceCodeHash: []byte("device-" + code),
		UserCodeHash:   d.codes.Hash(code),
		ClientID:       "web",
		Scope:          "openid profile",
		Interval:       5 * time.Second,
		ExpiresAt:      d.clock.Now().Add(10 * time.Minute),
		CreatedAt:      d.clock.Now(),
	}
	if err := d.db.CreateDeviceAuthorization(context.Background(), a); err != nil {
		d.t.Fatal(err)
	}
	return a.DeviceCodeHash
}

// status polls the request (as client "web") and returns its state.
func (d *deviceEnv) status(hash []byte) *store.DeviceAuthorization {
	d.t.Helper()
	a, err := d.db.PollDeviceAuthorization(context.Background(), hash, "web", d.clock.Now(), 5*time.Second)
	if err != nil {
		d.t.Fatal(err)
	}
	return a
}

// signedIn returns a browser signed in as alice through the page's own
// detour: /device sends it to sign in, and back with the code.
func (d *deviceEnv) signedIn(code string) *http.Client {
	d.t.Helper()
	c := d.newBrowser()
	r := d.get(c, PathDevice+"?user_code="+url.QueryEscape(code))
	if r.status != http.StatusSeeOther || r.location.Path != PathLogin {
		d.t.Fatalf("GET /device signed out: %d %v", r.status, r.location)
	}
	r = d.login(c, d.get(c, r.location.String()), "alice", testPassword)
	if r.status != http.StatusSeeOther {
		d.t.Fatalf("sign-in: %d\n%s", r.status, r.body)
	}
	if n, ok := device.Normalize(code); ok {
		if want := PathDevice + "?user_code=" + device.Format(n); r.location.String() != want {
			d.t.Fatalf("after sign-in: Location %v, want %s", r.location, want)
		}
	} else if r.location.String() != PathDevice {
		d.t.Fatalf("after sign-in: Location %v, want %s", r.location, PathDevice)
	}
	return c
}

// enter submits code on the page's form.
func (d *deviceEnv) enter(c *http.Client, code string) *response {
	d.t.Helper()
	page := d.get(c, PathDevice)
	wantPage(d.t, page, http.StatusOK, `action="/device"`)
	f := formOf(d.t, page.body)
	f.Set("user_code", code)
	return d.post(c, PathDevice, f)
}

func (d *deviceEnv) decide(c *http.Client, confirm *response, decision string) *response {
	d.t.Helper()
	f := formOf(d.t, confirm.body)
	f.Set("decision", decision)
	return d.post(c, PathDevice, f)
}

func TestDeviceApproveAndDeny(t *testing.T) {
	tests := []struct {
		name       string
		decision   string
		wantStatus string
		wantEvent  string
		wantPage   string
	}{
		{"approve", "approve", store.DeviceRedeemed, secevent.DeviceApproved, "Device connected"},
		{"deny", "deny", store.DeviceDenied, secevent.DeviceDenied, "Device not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDeviceEnv(t, defense.DefaultUserCodeFailures())
			hash := d.pending("BCDFGHJK")
			// The link's code, typed as a person might: lower case, no dash.
			c := d.signedIn("bcdfghjk")
			page := d.get(c, PathDevice+"?user_code=bcdfghjk")
			wantPage(t, page, http.StatusOK, `value="BCDF-GHJK"`)
			// RFC 8628 §5.4: arriving with the code approves nothing.
			if a := d.status(hash); a.Status != store.DevicePending {
				t.Fatalf("after following the link: %s, want pending", a.Status)
			}
			f := formOf(t, page.body)
			f.Set("user_code", "bcdf ghjk")
			confirm := d.post(c, PathDevice, f)
			wantPage(t, confirm, http.StatusOK, "Web App")
			for _, want := range []string{"BCDF-GHJK", `value="approve"`, "alice"} {
				if !strings.Contains(confirm.body, want) {
					t.Errorf("confirmation page lacks %q", want)
				}
			}
			if a := d.status(hash); a.Status != store.DevicePending {
				t.Fatalf("after the confirmation page: %s, want pending", a.Status)
			}
			wantPage(t, d.decide(c, confirm, tc.decision), http.StatusOK, tc.wantPage)
			a := d.status(hash)
			if a.Status != tc.wantStatus {
				t.Fatalf("after %s: %s, want %s", tc.decision, a.Status, tc.wantStatus)
			}
			if tc.decision == "approve" && (a.Subject != d.alice.ID || a.AuthTime.IsZero()) {
				t.Fatalf("approved for %q at %v, want alice with an auth time", a.Subject, a.AuthTime)
			}
			ev := d.events.of(tc.wantEvent)
			if len(ev) != 1 || ev[0].ClientID != "web" || ev[0].Subject != d.alice.ID {
				t.Fatalf("%s events: %+v", tc.wantEvent, ev)
			}
			// RFC 8628 §6.1: the code is single-use; deciding again is a
			// wrong code.
			wantPage(t, d.decide(c, confirm, "approve"), http.StatusBadRequest, "That code is not valid")
			if n := len(d.events.of(secevent.DeviceUserCodeFailed)); n != 1 {
				t.Fatalf("%d user-code failures recorded, want 1", n)
			}
		})
	}
}

func TestDeviceFormNeedsCSRF(t *testing.T) {
	d := newDeviceEnv(t, defense.DefaultUserCodeFailures())
	hash := d.pending("BCDFGHJK")
	c := d.signedIn("")
	confirm := d.enter(c, "BCDF-GHJK")
	wantPage(t, confirm, http.StatusOK, "Web App")
	f := formOf(t, confirm.body)
	f.Set("decision", "approve")
	for _, token := range []string{"", "1.bad", "abc"} {
		f.Set(csrfField, token)
		wantPage(t, d.post(c, PathDevice, f), http.StatusForbidden, "Form expired")
	}
	// A form drawn for another browser's session does not serve this one.
	other := d.signedIn("")
	wantPage(t, d.decide(other, confirm, "approve"), http.StatusForbidden, "Form expired")
	if a := d.status(hash); a.Status != store.DevicePending {
		t.Fatalf("after forged forms: %s, want pending", a.Status)
	}
}

// RFC 8628 §5.1: wrong entries are limited per address, and a spent budget
// refuses even the right code.
func TestDeviceWrongCodesThrottled(t *testing.T) {
	d := newDeviceEnv(t, ratelimit.Limit{Rate: 1.0 / 3600, Burst: 3})
	hash := d.pending("BCDFGHJK")
	c := d.signedIn("")
	for _, wrong := range []string{"BCDF-GHJX", "not a code", "AEIO-UAEI"} {
		wantPage(t, d.enter(c, wrong), http.StatusBadRequest, "That code is not valid")
	}
	r := d.enter(c, "BCDF-GHJK")
	wantPage(t, r, http.StatusTooManyRequests, "Too many")
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After on the refusal")
	}
	if a := d.status(hash); a.Status != store.DevicePending {
		t.Fatalf("after a refused entry: %s, want pending", a.Status)
	}
	if n := len(d.events.of(secevent.DeviceUserCodeFailed)); n != 3 {
		t.Fatalf("%d user-code failures recorded, want 3", n)
	}
}

func TestDeviceExpiredCode(t *testing.T) {
	d := newDeviceEnv(t, defense.DefaultUserCodeFailures())
	d.pending("BCDFGHJK")
	c := d.signedIn("")
	d.clock.Advance(11 * time.Minute)
	wantPage(t, d.enter(c, "BCDF-GHJK"), http.StatusBadRequest, "That code is not valid")
}

func TestDeviceNext(t *testing.T) {
	tests := []struct {
		next string
		want bool
	}{
		{"/device", true},
		{"/device?user_code=BCDF-GHJK", true},
		{"/device?user_code=bcdf-ghjk", false}, // not as deviceNext builds it
		{"/device?user_code=BCDF-GHJK&x=1", false},
		{"/device?user_code=AAAA-AAAA", false},
		{"https://evil.example/device", false},
		{"//evil.example/device", false},
		{"/devices", false},
	}
	for _, tc := range tests {
		if got := isDeviceNext(tc.next); got != tc.want {
			t.Errorf("isDeviceNext(%q) = %v, want %v", tc.next, got, tc.want)
		}
	}
}
