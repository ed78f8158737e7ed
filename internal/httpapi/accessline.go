package httpapi

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/authd/authd/internal/jsonstr"
)

// appendAccessLine appends the access log line accessLog writes through
// slog's JSONHandler (the same members, in the same order, with the same
// escaping), formatted directly: slog's generic record handling, and the
// json.Marshal it calls for a float, were a twelfth of a cached
// introspection's cost. TestAccessLineMatchesSlog and FuzzAccessLine hold
// it to slog's output.
func appendAccessLine(b []byte, now time.Time, level slog.Level, r *http.Request, st *requestState, status int, took time.Duration, clientIP string) []byte {
	b = append(b, `{"time":"`...)
	b = now.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":`...)
	b = appendJSONString(b, level.String())
	b = append(b, `,"msg":"request","request_id":`...)
	b = appendJSONString(b, st.id)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, bounded(r.Method, 16))
	b = append(b, `,"route":`...)
	b = appendJSONString(b, r.Pattern)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, bounded(r.URL.Path, 256))
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"duration_ms":`...)
	// Whole microseconds over 1000: a value json.Marshal writes in 'f'
	// form, as the shortest decimal that reads back the same.
	b = strconv.AppendFloat(b, float64(took.Microseconds())/1000, 'f', -1, 64)
	b = append(b, `,"client_ip":`...)
	b = appendJSONString(b, clientIP)
	if st.clientID != "" {
		b = append(b, `,"client_id":`...)
		b = appendJSONString(b, st.clientID)
	}
	return append(b, '}', '\n')
}

// appendJSONString appends s as a JSON string escaped as slog's JSONHandler
// escapes it: quotes, backslashes and control characters; invalid UTF-8
// as U+FFFD; U+2028 and U+2029 (which end lines in JavaScript) as \u
// escapes; everything else as it is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if n := jsonstr.Plain(s[i:]); n > 0 {
			i += n
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c == 0x7f { // printable for JSON, though not for jsonstr
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(append(b, s[start:i]...), `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(append(b, s[start:]...), '"')
}
