package oauth

import "strings"

// ParseScope splits a space-delimited scope string (RFC 6749 §3.3), dropping
// duplicates and keeping the first-seen order.
func ParseScope(s string) []string {
	if s == "" {
		return nil
	}
	fields := strings.Fields(s)
	out := fields[:0]
	if len(fields) <= 16 {
		for _, f := range fields {
			if !contains(out, f) {
				out = append(out, f)
			}
		}
		return out
	}
	// Many tokens: a set keeps this linear.
	seen := make(map[string]struct{}, len(fields))
	for _, f := range fields {
		if _, dup := seen[f]; !dup {
			seen[f] = struct{}{}
			out = append(out, f)
		}
	}
	return out
}

// MaxScopeLength bounds a requested scope string; no client is registered
// for anything near it, and a bound keeps parsing cheap for any input.
const MaxScopeLength = 2048

// ValidScopeToken reports whether s is a scope-token per RFC 6749 §3.3:
// %x21 / %x23-5B / %x5D-7E.
func ValidScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// JoinScope is the inverse of ParseScope.
func JoinScope(s []string) string { return strings.Join(s, " ") }

// SubsetOf reports whether every scope in want is in have.
func SubsetOf(want, have []string) bool {
	for _, w := range want {
		if !contains(have, w) {
			return false
		}
	}
	return true
}

// HasScope reports whether scopes contains s.
func HasScope(scopes []string, s string) bool { return contains(scopes, s) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ResolveScope is RFC 6749 §3.3 for every entry point (authorization
// requests and every grant): an absent or empty scope (§3.1: a parameter
// without a value is omitted) means the default, allowed; a requested one
// must be well-formed, bounded, and within allowed. The result is a copy the
// caller may keep.
func ResolveScope(requested string, allowed []string) ([]string, error) {
	if requested == "" {
		return append([]string(nil), allowed...), nil
	}
	if len(requested) > MaxScopeLength {
		return nil, InvalidScope("scope is too long")
	}
	want := ParseScope(requested)
	for _, w := range want {
		if !ValidScopeToken(w) {
			return nil, InvalidScope("scope contains an invalid character")
		}
	}
	if !SubsetOf(want, allowed) {
		return nil, InvalidScope("the requested scope exceeds what the client is allowed")
	}
	return want, nil
}
