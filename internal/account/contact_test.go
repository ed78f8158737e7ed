package account

import (
	"context"
	"errors"
	"testing"

	"github.com/authd/authd/internal/store"
)

// TestUpdateContact: phone numbers and addresses as an administrator sets
// them; a new number is unverified unless said otherwise in the same call,
// as for e-mail; what cannot be a phone number or an address part is
// refused, naming the field.
func TestUpdateContact(t *testing.T) {
	f := newFixture(t, tinyParams)
	ctx := context.Background()
	u, err := f.svc.Create(ctx, "alice", "correct horse battery staple", "")
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	yes := true
	tests := []struct {
		name  string
		in    ProfileUpdate
		field string // refused, naming it; "" accepted
		want  func(p store.UserProfile) bool
	}{
		{"a verified number", ProfileUpdate{PhoneNumber: str(" +1 (555) 0100 "), PhoneNumberVerified: &yes}, "",
			func(p store.UserProfile) bool { return p.PhoneNumber == "+1 (555) 0100" && p.PhoneNumberVerified }},
		{"the same number keeps its verification", ProfileUpdate{PhoneNumber: str("+1 (555) 0100")}, "",
			func(p store.UserProfile) bool { return p.PhoneNumberVerified }},
		{"a new number is unverified", ProfileUpdate{PhoneNumber: str("+44 20 7946 0000")}, "",
			func(p store.UserProfile) bool { return p.PhoneNumber == "+44 20 7946 0000" && !p.PhoneNumberVerified }},
		{"letters", ProfileUpdate{PhoneNumber: str("call me")}, "phone_number", nil},
		{"too long", ProfileUpdate{PhoneNumber: str("+1 555 0100 0100 0100 0100 0100 0100 0100 0100 0100 0100 0100 0100")}, "phone_number", nil},
		{"verified, no number", ProfileUpdate{PhoneNumber: str(""), PhoneNumberVerified: &yes}, "phone_number_verified", nil},
		{"an address over two lines", ProfileUpdate{Address: &store.Address{StreetAddress: "1 Main St\nApt 2 ", Country: "US"}}, "",
			func(p store.UserProfile) bool {
				return p.Address != nil && p.Address.StreetAddress == "1 Main St\nApt 2"
			}},
		{"a locality over two lines", ProfileUpdate{Address: &store.Address{Locality: "Spring\nfield"}}, "address.locality", nil},
		{"a control character", ProfileUpdate{Address: &store.Address{Formatted: "1 Main St\x07"}}, "address.formatted", nil},
		{"an empty address removes it", ProfileUpdate{Address: &store.Address{}}, "",
			func(p store.UserProfile) bool { return p.Address == nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.svc.UpdateProfile(ctx, u.ID, tc.in)
			if tc.field != "" {
				var ie *InputError
				if !errors.As(err, &ie) || ie.Field != tc.field {
					t.Fatalf("err %v, want an InputError for %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored, err := f.db.User(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want(got.UserProfile) || !tc.want(stored.UserProfile) {
				t.Errorf("returned %+v, stored %+v", got.UserProfile, stored.UserProfile)
			}
		})
	}
}

// TestSubjectsNeverLookLikeFlags: a new user's id never starts with "-",
// whatever the random bytes (`authd user get ID` would take it for a flag).
func TestSubjectsNeverLookLikeFlags(t *testing.T) {
	f := newFixture(t, tinyParams)
	f.svc.random = func(b []byte) {
		for i := range b {
			b[i] = 0xff
		}
	}
	u, err := f.svc.Create(context.Background(), "flaggy", "correct horse battery staple", "")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID[0] == '-' || u.ID[0] == '_' {
		t.Fatalf("id %q", u.ID)
	}
}
