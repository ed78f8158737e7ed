package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Credentials are a confidential client's id and secret.
type Credentials struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// User is a person setup created, with the password it chose.
type User struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Client roles in a Fixture.
const (
	roleJWT      = "jwt"      // client_credentials, JWT access tokens; also introspects
	roleOpaque   = "opaque"   // client_credentials, opaque access tokens
	rolePassword = "password" // the password grant (stuffing)
)

// roleUser keys the Fixture's user tokens (openid scope, password grant),
// for userinfo.
const roleUser = "user"

// Features a Fixture may record as unsupported by the server.
const (
	featureUsers         = "users"
	featurePasswordGrant = "password_grant"
)

// Fixture is what setup created on a server for a run: clients, pre-issued
// tokens and users, with their secrets. Write it only to files others cannot
// read.
type Fixture struct {
	Target    string                 `json:"target"`
	Admin     string                 `json:"admin"`
	RunID     string                 `json:"run_id"`
	CreatedAt time.Time              `json:"created_at"`
	Clients   map[string]Credentials `json:"clients"`
	// Tokens holds pre-issued access tokens by format (roleJWT, roleOpaque),
	// and users' tokens under roleUser.
	Tokens map[string][]string `json:"tokens"`
	Users  []User              `json:"users,omitempty"`
	// Unsupported maps a feature the server lacks to what it answered.
	Unsupported map[string]string `json:"unsupported,omitempty"`
	// Notes say what setup could not do, in words.
	Notes []string `json:"notes,omitempty"`
}

func newFixture(target, admin, runID string) *Fixture {
	return &Fixture{
		Target:      target,
		Admin:       admin,
		RunID:       runID,
		CreatedAt:   time.Now().UTC(),
		Clients:     map[string]Credentials{},
		Tokens:      map[string][]string{},
		Unsupported: map[string]string{},
	}
}

// client returns the credentials for role, or false when setup made none.
func (f *Fixture) client(role string) (Credentials, bool) {
	c, ok := f.Clients[role]
	return c, ok && c.ClientID != ""
}

func (f *Fixture) note(format string, args ...any) {
	f.Notes = append(f.Notes, fmt.Sprintf(format, args...))
}

// saveFixture writes f as indented JSON, readable by its owner only: it holds
// client secrets and passwords.
func saveFixture(path string, f *Fixture) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// loadFixture reads a file saveFixture wrote.
func loadFixture(path string) (*Fixture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := newFixture("", "", "")
	if err := json.Unmarshal(b, f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, ok := f.client(roleJWT); !ok {
		return nil, fmt.Errorf("%s: no %q client: not a file setup wrote", path, roleJWT)
	}
	return f, nil
}
