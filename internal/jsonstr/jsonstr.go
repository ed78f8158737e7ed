// Package jsonstr finds, eight bytes at a time, the runs of a string that a
// JSON string (RFC 8259 §7) carries as they are.
//
// Batch introspection reads and writes a hundred tokens and claims a
// request; a byte-at-a-time loop over them was a tenth of its CPU. Each
// 8-byte word is tested for every byte that needs a look with a few integer
// operations (the "has a zero byte" bit trick); a word that may hold one is
// left to the caller's byte loop, which decides exactly.
package jsonstr

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// hasZero is non-zero when a byte of x may be zero: never zero when one is.
func hasZero(x uint64) uint64 { return (x - ones) &^ x & highs }

// hasByte is non-zero when a byte of x may be c.
func hasByte(x uint64, c byte) uint64 { return hasZero(x ^ ones*uint64(c)) }

// special is non-zero when a byte of x may be outside printable ASCII
// (below 0x20, 0x7f, or 0x80 and above), a quote or a backslash. Below 0x20
// is (x - 0x20…) &^ x & 0x80…, exact for bytes under 0x80; the others set
// their high bit themselves.
func special(x uint64) uint64 {
	return x&highs | (x-ones*0x20)&^x&highs | hasByte(x, '"') | hasByte(x, '\\') | hasByte(x, 0x7f)
}

func load(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// Plain is the length of the longest prefix of s made of printable ASCII
// (0x20 to 0x7e) other than '"' and '\\': what a JSON string holds as is.
func Plain(s string) int {
	i := 0
	for ; i+8 <= len(s) && special(load(s[i:])) == 0; i += 8 {
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			break
		}
	}
	return i
}

// PlainHTML is Plain without '<', '>' and '&' either, which encoding/json
// escapes so that its output is safe inside HTML.
func PlainHTML(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := load(s[i:])
		if special(x)|hasByte(x, '<')|hasByte(x, '>')|hasByte(x, '&') != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			break
		}
	}
	return i
}
