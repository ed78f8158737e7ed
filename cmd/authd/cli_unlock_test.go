package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestUserUnlock: `authd user unlock` posts to the admin API's unlock
// endpoint with the admin token, escaping what it was given, and reports the
// user it was looking for when the API knows none.
func TestUserUnlock(t *testing.T) {
	const token = "cli-test-admin-token-0123456789abcdef"
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.EscapedPath()+" "+r.Header.Get("Authorization"))
		if strings.Contains(r.URL.Path, "nobody") {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"type":"about:blank","title":"Not Found","status":404,"detail":"no such resource"}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	env := map[string]string{"AUTHD_ADMIN_URL": srv.URL, "AUTHD_ADMIN_TOKEN": token, "AUTHD_DATA_DIR": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name     string
		args     []string
		wantErr  string
		wantCall string
	}{
		{"by id", []string{"user", "unlock", "abc123"}, "", "POST /admin/users/abc123/unlock Bearer " + token},
		{"by odd username", []string{"user", "unlock", "a/b c"}, "", "POST /admin/users/a%2Fb%20c/unlock Bearer " + token},
		{"unknown", []string{"user", "unlock", "nobody"}, `no user with id or username "nobody"`, "POST /admin/users/nobody/unlock Bearer " + token},
		{"no argument", []string{"user", "unlock"}, "usage: authd user unlock", ""},
		{"two arguments", []string{"user", "unlock", "a", "b"}, "usage: authd user unlock", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got = nil
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, getenv, strings.NewReader(""), &stdout, &stderr)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if tc.wantErr == "" && stdout.String() != "done\n" {
				t.Errorf("stdout = %q", stdout.String())
			}
			if want := tc.wantCall; (want == "" && len(got) != 0) || (want != "" && (len(got) != 1 || got[0] != want)) {
				t.Errorf("admin API saw %q, want %q", got, want)
			}
		})
	}
}
