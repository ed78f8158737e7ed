package token

import (
	"strconv"
	"unicode/utf8"

	"github.com/authd/authd/internal/jsonstr"
)

// AppendJSON appends info as an RFC 7662 JSON object. It is written by hand
// because introspection is the hottest path: reflection-based encoding cost
// more than the whole cached lookup. A cached answer keeps its rendering, so a
// hit encodes nothing at all.
func (i *Info) AppendJSON(b []byte) []byte {
	if i.raw != nil {
		return append(b, i.raw...)
	}
	return i.appendJSON(b)
}

func (i *Info) appendJSON(b []byte) []byte {
	if !i.Active {
		return append(b, `{"active":false}`...)
	}
	b = append(b, `{"active":true`...)
	b = appendField(b, "scope", i.Scope)
	b = appendField(b, "client_id", i.ClientID)
	b = appendField(b, "username", i.Username)
	b = appendField(b, "token_type", i.TokenType)
	b = appendInt(b, "exp", i.Exp)
	b = appendInt(b, "iat", i.Iat)
	b = appendInt(b, "nbf", i.Nbf)
	b = appendField(b, "sub", i.Sub)
	switch len(i.Aud) {
	case 0:
	case 1:
		b = append(b, `,"aud":`...)
		b = appendString(b, i.Aud[0])
	default:
		b = append(b, `,"aud":[`...)
		for k, a := range i.Aud {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendString(b, a)
		}
		b = append(b, ']')
	}
	b = appendField(b, "iss", i.Iss)
	b = appendField(b, "jti", i.Jti)
	if c := i.Cnf; c != nil && c.Bound() {
		b = append(b, `,"cnf":{`...)
		if c.JKT != "" {
			b = append(b, `"jkt":`...)
			b = appendString(b, c.JKT)
		}
		if c.X5TS256 != "" {
			if c.JKT != "" {
				b = append(b, ',')
			}
			b = append(b, `"x5t#S256":`...)
			b = appendString(b, c.X5TS256)
		}
		b = append(b, '}')
	}
	if i.Act != nil {
		b = append(b, `,"act":`...)
		b = appendActor(b, i.Act)
	}
	return append(b, '}')
}

// render fixes the JSON of an Info that will be shared (a cached answer).
func (i *Info) render() {
	i.raw = i.appendJSON(make([]byte, 0, 256))
}

func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b // omitempty, as encoding/json would
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendInt(b []byte, name string, v int64) []byte {
	if v == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string (RFC 8259 §7), escaping what must be
// escaped and replacing invalid UTF-8, as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for k := 0; k < len(s); {
		if n := jsonstr.PlainHTML(s[k:]); n > 0 {
			k += n
			continue
		}
		c := s[k]
		if c < utf8.RuneSelf {
			if c == 0x7f { // printable for JSON, though not for jsonstr
				k++
				continue
			}
			b = append(b, s[start:k]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			k++
			start = k
			continue
		}
		r, size := utf8.DecodeRuneInString(s[k:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:k]...)
			b = append(b, `\ufffd`...)
			k += size
			start = k
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:k]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			k += size
			start = k
			continue
		}
		k += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
