package issuer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/authd/authd/internal/issuer"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/testenv/dbtest"
)

type events struct{ got []secevent.Event }

func (e *events) Emit(ev secevent.Event) { e.got = append(e.got, ev) }

// TestCreate: what an administrator may register, and the field named when
// something is refused.
func TestCreate(t *testing.T) {
	tests := []struct {
		name      string
		in        issuer.Input
		discover  error
		wantField string
		wantAud   string
	}{
		{"with jwks_uri", issuer.Input{Issuer: "https://idp.example", JWKSURI: "https://idp.example/keys", SubjectMapping: "username"}, nil, "", "https://authd.example"},
		{"by discovery", issuer.Input{Issuer: "https://idp.example/tenant", SubjectMapping: "email"}, nil, "", "https://authd.example"},
		{"own audience", issuer.Input{Issuer: "https://idp.example", Audience: "authd-prod", SubjectMapping: "none"}, nil, "", "authd-prod"},
		{"discovery fails", issuer.Input{Issuer: "https://idp.example", SubjectMapping: "user_id"}, errors.New("404"), "jwks_uri", ""},
		{"no issuer", issuer.Input{SubjectMapping: "user_id"}, nil, "issuer", ""},
		{"http issuer", issuer.Input{Issuer: "http://idp.example", SubjectMapping: "user_id"}, nil, "issuer", ""},
		{"issuer with query", issuer.Input{Issuer: "https://idp.example/?a=b", SubjectMapping: "user_id"}, nil, "issuer", ""},
		{"issuer with fragment", issuer.Input{Issuer: "https://idp.example/#x", SubjectMapping: "user_id"}, nil, "issuer", ""},
		{"issuer with userinfo", issuer.Input{Issuer: "https://u:p@idp.example/", SubjectMapping: "user_id"}, nil, "issuer", ""},
		{"relative jwks_uri", issuer.Input{Issuer: "https://idp.example", JWKSURI: "/keys", SubjectMapping: "user_id"}, nil, "jwks_uri", ""},
		{"audience with space", issuer.Input{Issuer: "https://idp.example", Audience: "a b", SubjectMapping: "user_id"}, nil, "audience", ""},
		{"no mapping", issuer.Input{Issuer: "https://idp.example"}, nil, "subject_mapping", ""},
		{"unknown mapping", issuer.Input{Issuer: "https://idp.example", SubjectMapping: "phone"}, nil, "subject_mapping", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := &events{}
			var changed []*store.TrustedIssuer
			svc := issuer.New(dbtest.SQLite(t), issuer.Options{
				Audience: "https://authd.example",
				Discover: func(context.Context, string) error { return tc.discover },
				Changed: func(_ context.Context, before, after *store.TrustedIssuer) {
					changed = append(changed, before, after)
				},
				Events: ev,
			})
			ti, err := svc.Create(t.Context(), tc.in, issuer.Caller{Credential: "admin-token", IP: "192.0.2.1"})
			if tc.wantField != "" {
				var inv *issuer.Invalid
				if !errors.As(err, &inv) || inv.Field != tc.wantField {
					t.Fatalf("err = %v, want invalid %s", err, tc.wantField)
				}
				if len(ev.got) != 0 || len(changed) != 0 {
					t.Fatal("a refused create was audited or invalidated")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ti.ID == "" || ti.Audience != tc.wantAud || ti.Issuer != tc.in.Issuer || ti.JWKSURI != tc.in.JWKSURI {
				t.Fatalf("created %+v", ti)
			}
			got, err := svc.Get(t.Context(), ti.ID)
			if err != nil || got.Issuer != ti.Issuer {
				t.Fatalf("Get = %+v, %v", got, err)
			}
			if len(ev.got) != 1 || ev.got[0].Type != secevent.AdminTrustedIssuerCreated || ev.got[0].Detail["issuer"] != ti.Issuer {
				t.Fatalf("events %+v", ev.got)
			}
			if len(changed) != 2 || changed[0] != nil || changed[1] == nil {
				t.Fatalf("Changed not called with the new issuer: %v", changed)
			}
		})
	}
}

// TestDuplicateAndDelete: an issuer is registered once; deleting it is
// audited and invalidated, and a second delete is ErrNotFound.
func TestDuplicateAndDelete(t *testing.T) {
	ev := &events{}
	var deleted *store.TrustedIssuer
	svc := issuer.New(dbtest.SQLite(t), issuer.Options{Audience: "https://authd.example", Events: ev,
		Changed: func(_ context.Context, before, after *store.TrustedIssuer) {
			if after == nil {
				deleted = before
			}
		}})
	in := issuer.Input{Issuer: "https://idp.example", JWKSURI: "https://idp.example/keys", SubjectMapping: "username"}
	ti, err := svc.Create(t.Context(), in, issuer.Caller{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Create(t.Context(), in, issuer.Caller{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second create: %v, want ErrConflict", err)
	}
	list, err := svc.List(t.Context())
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	if err := svc.Delete(t.Context(), ti.ID, issuer.Caller{}); err != nil {
		t.Fatal(err)
	}
	if deleted == nil || deleted.Issuer != in.Issuer {
		t.Fatalf("Changed after delete got %+v", deleted)
	}
	if err := svc.Delete(t.Context(), ti.ID, issuer.Caller{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if last := ev.got[len(ev.got)-1]; last.Type != secevent.AdminTrustedIssuerDeleted {
		t.Fatalf("last event %+v", last)
	}
}
