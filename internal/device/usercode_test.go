package device_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/authd/authd/internal/device"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, input, want string
		ok                bool
	}{
		{"display form", "BCDF-GHJK", "BCDFGHJK", true},
		{"lower case", "bcdf-ghjk", "BCDFGHJK", true},
		{"no dash", "bcdfghjk", "BCDFGHJK", true},
		{"spaces and dashes", " bc df - gh jk ", "BCDFGHJK", true},
		{"vowel", "BCDF-GHJA", "", false},
		{"digit", "BCDF-GHJ1", "", false},
		{"too short", "BCDF-GHJ", "", false},
		{"too long", "BCDF-GHJKL", "", false},
		{"empty", "", "", false},
		{"non-ASCII", "BCDF-GHJĶ", "", false},
		{"huge", strings.Repeat("-", 100) + "BCDFGHJK", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := device.Normalize(tc.input)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("Normalize(%q) = %q, %v; want %q, %v", tc.input, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestNewCodes(t *testing.T) {
	c := device.NewCodes(bytes.Repeat([]byte{1}, 32), nil)
	seen := map[string]bool{}
	for range 200 {
		code, hash := c.New()
		if len(code) != device.Length+1 || code[device.Length/2] != '-' {
			t.Fatalf("New() = %q, want XXXX-XXXX", code)
		}
		n, ok := device.Normalize(code)
		if !ok {
			t.Fatalf("New() = %q does not normalise", code)
		}
		if !bytes.Equal(c.Hash(n), hash) {
			t.Fatalf("hash of %q differs from New's", code)
		}
		seen[code] = true
	}
	if len(seen) < 199 {
		t.Fatalf("%d distinct codes of 200", len(seen))
	}
	// Another key, another hash: the stored hash is useless without the key.
	other := device.NewCodes(bytes.Repeat([]byte{2}, 32), nil)
	if bytes.Equal(c.Hash("BCDFGHJK"), other.Hash("BCDFGHJK")) {
		t.Fatal("hashes under different keys are equal")
	}
}

// Every character of the alphabet appears, and only those: the sampling
// neither drops nor adds characters.
func TestNewCodesUseAlphabet(t *testing.T) {
	b := byte(0)
	c := device.NewCodes(make([]byte, 32), func(p []byte) {
		for i := range p {
			p[i] = b
			b++
		}
	})
	counts := map[rune]int{}
	for range 100 {
		code, _ := c.New()
		for _, r := range strings.ReplaceAll(code, "-", "") {
			counts[r]++
		}
	}
	if len(counts) != len(device.Alphabet) {
		t.Fatalf("codes used %d characters, want %d", len(counts), len(device.Alphabet))
	}
	for r := range counts {
		if !strings.ContainsRune(device.Alphabet, r) {
			t.Fatalf("character %q outside the alphabet", r)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"BCDF-GHJK", "bcdfghjk", " b-c-d-f-g-h-j-k ", "AEIOU", "", "ĶĶĶĶ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		got, ok := device.Normalize(input)
		if !ok {
			if got != "" {
				t.Fatalf("Normalize(%q) = %q with false", input, got)
			}
			return
		}
		if len(got) != device.Length {
			t.Fatalf("Normalize(%q) = %q: length %d", input, got, len(got))
		}
		for i := 0; i < len(got); i++ {
			if !strings.ContainsRune(device.Alphabet, rune(got[i])) {
				t.Fatalf("Normalize(%q) = %q: %q outside the alphabet", input, got, got[i])
			}
		}
		// Normalising is idempotent, also from the display form.
		if again, ok := device.Normalize(device.Format(got)); !ok || again != got {
			t.Fatalf("Normalize(Format(%q)) = %q, %v", got, again, ok)
		}
	})
}
