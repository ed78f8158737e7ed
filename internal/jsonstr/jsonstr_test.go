package jsonstr

import (
	"strings"
	"testing"
)

// plainRef and plainHTMLRef are the byte loops the word tests stand in for.
func plainRef(s string, html bool) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || html && (c == '<' || c == '>' || c == '&') {
			return i
		}
	}
	return len(s)
}

func TestPlain(t *testing.T) {
	base := "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_~ .,:;!?{}[]()"
	var cases []string
	// Every byte value at every offset of a run long enough for two words
	// and a tail, so the word test and the byte loop both meet it.
	for c := 0; c < 256; c++ {
		for at := 0; at < 20; at++ {
			b := []byte(base[:20])
			b[at] = byte(c)
			cases = append(cases, string(b))
		}
	}
	// Two specials in a word (a borrow from the first may flag the second),
	// and the empty and short strings.
	cases = append(cases, "", "a", "abcdefg", "abcdefgh", "\x00\x00abcdefgh", "ab\x1f\x20cdefgh", "\xff\x00abcdefgh",
		strings.Repeat("x", 1000)+"\"", "abcdefgh\x7fabcdefg", "abc<defgh", "01234567>", "&")
	for _, s := range cases {
		if got, want := Plain(s), plainRef(s, false); got != want {
			t.Fatalf("Plain(%q) = %d, want %d", s, got, want)
		}
		if got, want := PlainHTML(s), plainRef(s, true); got != want {
			t.Fatalf("PlainHTML(%q) = %d, want %d", s, got, want)
		}
	}
}

func FuzzPlain(f *testing.F) {
	f.Add("AbCdEfGhIjKlMnOp\"")
	f.Add("abc\\defgh<ijklmnop\x00")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Plain(s), plainRef(s, false); got != want {
			t.Fatalf("Plain(%q) = %d, want %d", s, got, want)
		}
		if got, want := PlainHTML(s), plainRef(s, true); got != want {
			t.Fatalf("PlainHTML(%q) = %d, want %d", s, got, want)
		}
	})
}

var sink int

func BenchmarkPlain(b *testing.B) {
	tok := strings.Repeat("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_", 6) + `"`
	b.Run("words", func(b *testing.B) {
		b.SetBytes(int64(len(tok)))
		for b.Loop() {
			sink += Plain(tok)
		}
	})
	b.Run("bytes", func(b *testing.B) {
		b.SetBytes(int64(len(tok)))
		for b.Loop() {
			sink += plainRef(tok, false)
		}
	})
}
