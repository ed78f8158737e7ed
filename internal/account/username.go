package account

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits on what a user may be called.
const (
	// MaxUsernameRunes is the longest username, in code points after
	// normalisation.
	MaxUsernameRunes = 64
	// MaxEmailBytes is the longest email address (RFC 5321 §4.5.3.1.3 bounds
	// a path at 256 octets including the angle brackets).
	MaxEmailBytes = 254
	// maxRawUsernameBytes bounds the input before normalisation, which can
	// expand a string (NFKC maps some code points to 18): the work spent on
	// garbage stays small.
	maxRawUsernameBytes = 4 * utf8.UTFMax * MaxUsernameRunes
)

// NormalizeUsername returns the canonical form of a username, the form it is
// stored and looked up in: Unicode NFKC (so "ｂｏｂ" and "bob", or a
// decomposed and a composed "é", are one name), surrounding white space
// trimmed, lower-cased. The result is 1 to MaxUsernameRunes code points with
// no white space, control or format characters (the last would let two
// names that look identical differ invisibly). Otherwise it returns an
// *InputError for Field "username".
//
// The function is idempotent: normalising a normalised name returns it
// unchanged.
func NormalizeUsername(s string) (string, error) {
	if len(s) > maxRawUsernameBytes {
		return "", &InputError{Field: "username", Reason: "Username is too long."}
	}
	if !utf8.ValidString(s) {
		return "", &InputError{Field: "username", Reason: "Username must be valid UTF-8 text."}
	}
	s = strings.TrimSpace(norm.NFKC.String(s))
	// Lower-casing can leave a string that is no longer in NFKC (a capital
	// with a precomposed lower-case form may lower to a base letter plus a
	// combining mark), so normalise once more; the fuzz test checks the
	// result is a fixed point.
	s = norm.NFKC.String(strings.ToLower(s))
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return "", &InputError{Field: "username", Reason: "Username is required."}
	case n > MaxUsernameRunes:
		return "", &InputError{Field: "username", Reason: "Username is too long."}
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return "", &InputError{Field: "username", Reason: "Username must not contain spaces or invisible characters."}
		}
	}
	return s, nil
}

// normalizeEmail checks an optional email address loosely: a bare address
// that net/mail accepts (no display name, no angle brackets), at most
// MaxEmailBytes. It is stored as typed, apart from surrounding white space;
// the local part may be case-sensitive (RFC 5321 §2.4).
func normalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > MaxEmailBytes {
		return "", &InputError{Field: "email", Reason: "Email address is too long."}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", &InputError{Field: "email", Reason: "Email address is not valid."}
	}
	return s, nil
}
