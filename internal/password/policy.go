package password

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Policy is the rule set for a new password, after NIST SP 800-63B §5.1.1.2
// and OWASP ASVS V6: a length range, a blocklist of common passwords, and no
// password built from the user's own identifiers. There are deliberately no
// composition rules ("must contain a digit"): they push users towards
// predictable patterns without adding strength (§5.1.1.2). Spaces and all of
// Unicode are allowed. Zero fields take the defaults.
type Policy struct {
	// MinLength is the fewest characters (Unicode code points, after NFKC)
	// allowed; default 8. SP 800-63B rev. 4 asks for 15 where the password
	// is the only factor.
	MinLength int
	// MaxLength is the most characters allowed; default 1024. Values below
	// 64 are raised to 64: SP 800-63B requires accepting at least that. The
	// cap bounds the hashing cost of giant inputs.
	MaxLength int
}

// Rule names the check a password failed, for callers that map it to their
// own message or error code.
type Rule string

const (
	RuleInvalidUTF8 Rule = "invalid_utf8"
	RuleTooShort    Rule = "too_short"
	RuleTooLong     Rule = "too_long"
	RuleCommon      Rule = "common"
	RuleUserInput   Rule = "contains_user_input"
)

// PolicyError is the error Check returns. Reason is a sentence fit to show
// the user.
type PolicyError struct {
	Rule   Rule
	Reason string
}

func (e *PolicyError) Error() string { return "password policy: " + e.Reason }

const (
	defaultMinLength = 8
	defaultMaxLength = 1024
	nistMaxFloor     = 64
	// minInputRunes is the shortest user input also refused as a substring:
	// a two-letter username would otherwise forbid every password
	// containing those two letters. Shorter inputs are refused only as the
	// whole password.
	minInputRunes = 3
)

func (p Policy) withDefaults() Policy {
	if p.MinLength <= 0 {
		p.MinLength = defaultMinLength
	}
	if p.MaxLength <= 0 {
		p.MaxLength = defaultMaxLength
	}
	p.MaxLength = max(p.MaxLength, nistMaxFloor, p.MinLength)
	return p
}

// Check returns nil if password may be set, or a *PolicyError for the first
// rule it breaks. userInputs are the account's own identifiers (username,
// email address); the password may neither equal nor contain any of them,
// nor the local part of an email address, compared case-insensitively.
// Length is counted in code points after NFKC normalisation, the form
// Hasher hashes.
func (p Policy) Check(password string, userInputs ...string) error {
	p = p.withDefaults()
	if !utf8.ValidString(password) {
		return &PolicyError{RuleInvalidUTF8, "Password must be valid UTF-8 text."}
	}
	// Normalisation can merge a few code points into one but not more:
	// refuse absurd input before spending time normalising it.
	if len(password) > 4*utf8.UTFMax*p.MaxLength {
		return tooLong(p.MaxLength)
	}
	pw := norm.NFKC.String(password)
	n := utf8.RuneCountInString(pw)
	if n < p.MinLength {
		return &PolicyError{RuleTooShort, fmt.Sprintf("Password must be at least %d characters long.", p.MinLength)}
	}
	if n > p.MaxLength {
		return tooLong(p.MaxLength)
	}
	lower := strings.ToLower(pw)
	if _, ok := commonPasswords()[lower]; ok {
		return &PolicyError{RuleCommon, "Password is one of the most commonly used passwords; choose another."}
	}
	for _, in := range userInputs {
		in = strings.ToLower(norm.NFKC.String(strings.TrimSpace(in)))
		if containsInput(lower, in) {
			return &PolicyError{RuleUserInput, "Password must not contain your username or email address."}
		}
		if at := strings.LastIndexByte(in, '@'); at > 0 && containsInput(lower, in[:at]) {
			return &PolicyError{RuleUserInput, "Password must not contain your username or email address."}
		}
	}
	return nil
}

func tooLong(maxLen int) error {
	return &PolicyError{RuleTooLong, fmt.Sprintf("Password must be at most %d characters long.", maxLen)}
}

func containsInput(pw, in string) bool {
	if in == "" {
		return false
	}
	if pw == in {
		return true
	}
	return utf8.RuneCountInString(in) >= minInputRunes && strings.Contains(pw, in)
}
