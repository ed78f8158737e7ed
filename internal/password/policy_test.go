package password

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func TestCommonPasswords(t *testing.T) {
	set := commonPasswords()
	t.Logf("common-password list: %d entries", len(set))
	if len(set) < 10000 {
		t.Errorf("common-password list has %d entries, want ≥ 10000", len(set))
	}
	for _, pw := range []string{"password", "123456", "qwerty", "iloveyou", "trustno1"} {
		if _, ok := set[pw]; !ok {
			t.Errorf("%q missing from the list", pw)
		}
	}
	for pw := range set {
		if pw != strings.ToLower(pw) || pw == "" {
			t.Fatalf("entry %q not lower-cased or empty", pw)
		}
	}
}

func TestPolicyCheck(t *testing.T) {
	tests := []struct {
		name       string
		policy     Policy
		password   string
		userInputs []string
		wantRule   Rule // "" for accepted
	}{
		{"8 chars ok", Policy{}, "zebrafin", nil, ""},
		{"8 chars but listed", Policy{}, "tangerin", nil, RuleCommon},
		{"passphrase ok", Policy{}, "correct horse battery staple", nil, ""},
		{"spaces allowed", Policy{}, "my  long pass phrase", nil, ""},
		{"no composition rules", Policy{}, "aaaazzzzqqqq", nil, ""},
		{"7 chars too short", Policy{}, "zebrafi", nil, RuleTooShort},
		{"empty too short", Policy{}, "", nil, RuleTooShort},
		{"runes not bytes: 7 × é", Policy{}, "ééééééé", nil, RuleTooShort},
		{"runes not bytes: 8 × é", Policy{}, "éééééééé", nil, ""},
		{"emoji count once each", Policy{}, "🔑🔑🔑🔑🔑🔑🔑🔑", nil, ""},
		{"counted after NFKC", Policy{}, strings.Repeat("e\u0301", 7), nil, RuleTooShort},
		{"64 chars ok", Policy{}, strings.Repeat("ab", 32), nil, ""},
		{"1024 chars ok", Policy{}, strings.Repeat("abcd", 256), nil, ""},
		{"1025 too long", Policy{}, strings.Repeat("abcd", 256) + "e", nil, RuleTooLong},
		{"giant too long", Policy{}, strings.Repeat("x", 1<<20), nil, RuleTooLong},
		{"max raised to NIST 64", Policy{MaxLength: 10}, strings.Repeat("ab", 32), nil, ""},
		{"custom min", Policy{MinLength: 15}, "fourteen chars", nil, RuleTooShort},
		{"invalid UTF-8", Policy{}, "abc\xffdefgh", nil, RuleInvalidUTF8},
		{"common", Policy{}, "password", nil, RuleCommon},
		{"common any case", Policy{}, "PassWord", nil, RuleCommon},
		{"common fullwidth", Policy{}, "ｐａｓｓｗｏｒｄ", nil, RuleCommon},
		{"common 123456", Policy{MinLength: 1}, "123456", nil, RuleCommon},
		{"common qwerty", Policy{MinLength: 1}, "qwerty", nil, RuleCommon},
		{"common 12345678", Policy{}, "12345678", nil, RuleCommon},
		{"equals username", Policy{}, "Alice.Wonder", []string{"alice.wonder"}, RuleUserInput},
		{"contains username", Policy{}, "xxALICExx-2024", []string{"alice"}, RuleUserInput},
		{"equals email", Policy{}, "Bob@Example.com", []string{"bob@example.com"}, RuleUserInput},
		{"contains email local part", Policy{}, "bob.smith-rocks", []string{"bob", "bob.smith@example.com"}, RuleUserInput},
		{"second input checked", Policy{}, "zed-carol-zed", []string{"someone", "carol@example.org"}, RuleUserInput},
		{"short username only whole", Policy{}, "al pacino fan club", []string{"al"}, ""},
		{"empty input ignored", Policy{}, "tangerine orbit", []string{"", "  "}, ""},
		{"unrelated inputs", Policy{}, "tangerine orbit", []string{"alice", "bob@example.com"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check(tc.password, tc.userInputs...)
			if tc.wantRule == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Check = %v, want *PolicyError %s", err, tc.wantRule)
			}
			if pe.Rule != tc.wantRule {
				t.Errorf("Rule = %s (%s), want %s", pe.Rule, pe.Reason, tc.wantRule)
			}
			if pe.Reason == "" || !strings.HasPrefix(err.Error(), "password policy: ") {
				t.Errorf("unhelpful error %q", err)
			}
		})
	}
}

func TestPolicyAcceptsRandomPassphrase(t *testing.T) {
	for range 100 {
		pw := rand.Text()[:20] // 20 random base32 characters
		if err := (Policy{}).Check(pw, "alice", "alice@example.com"); err != nil {
			t.Fatalf("Check(%q) = %v", pw, err)
		}
	}
}

func FuzzPolicyCheck(f *testing.F) {
	f.Add("password", "alice")
	f.Add("correct horse battery staple", "bob@example.com")
	f.Add("\ufdfa\ufdfa", "@")
	f.Fuzz(func(t *testing.T, pw, input string) {
		err := Policy{}.Check(pw, input)
		var pe *PolicyError
		if err != nil && (!errors.As(err, &pe) || pe.Reason == "") {
			t.Fatalf("Check(%q, %q) = %v, not a *PolicyError with a reason", pw, input, err)
		}
	})
}

func BenchmarkPolicyCheck(b *testing.B) {
	commonPasswords() // load once, outside the timing
	b.ReportAllocs()
	for b.Loop() {
		if err := (Policy{}).Check("correct horse battery staple", "alice", "alice@example.com"); err != nil {
			b.Fatal(err)
		}
	}
}
