package httpapi

import (
	"encoding/json"

	"github.com/authd/authd/internal/jsonstr"
)

// parseBatchBody decodes a batch introspection body into req. Bodies as
// clients send them ({"tokens":[…]} with the optional client_id and
// client_secret, plain ASCII strings) take a direct scan: encoding/json's
// validation and unquoting pass was a quarter of a batch's cost, tokens
// being most of the body. Anything else (escapes, other bytes, unknown or
// repeated members, null) goes to encoding/json, which decides; the scan
// accepts nothing encoding/json would not decode to the same value
// (FuzzParseBatchBody).
func parseBatchBody(body []byte, req *batchRequest) error {
	if scanBatchBody(body, req) {
		return nil
	}
	*req = batchRequest{}
	return json.Unmarshal(body, req)
}

// scanBatchBody is the direct scan; false: let encoding/json decide.
func scanBatchBody(b []byte, req *batchRequest) bool {
	// One copy of the body: the tokens are substrings of it, not an
	// allocation each.
	s := batchScanner{b: string(b)}
	if !s.byte('{') {
		return false
	}
	var seenTokens, seenID, seenSecret bool
	if s.peek() == '}' {
		return false // no tokens: encoding/json's answer (nil) is an error anyway
	}
	for {
		key, ok := s.str()
		if !ok || !s.byte(':') {
			return false
		}
		switch {
		case key == "tokens" && !seenTokens:
			seenTokens = true
			if !s.byte('[') {
				return false
			}
			req.Tokens = make([]string, 0, 16)
			if s.peek() == ']' {
				s.i++
			} else {
				for {
					t, ok := s.str()
					if !ok {
						return false
					}
					req.Tokens = append(req.Tokens, t)
					if s.byte(']') {
						break
					}
					if !s.byte(',') {
						return false
					}
				}
			}
		case key == "client_id" && !seenID:
			seenID = true
			if req.ClientID, ok = s.str(); !ok {
				return false
			}
		case key == "client_secret" && !seenSecret:
			seenSecret = true
			if req.ClientSecret, ok = s.str(); !ok {
				return false
			}
		default:
			return false
		}
		if s.byte('}') {
			break
		}
		if !s.byte(',') {
			return false
		}
	}
	s.space()
	return seenTokens && s.i == len(s.b)
}

type batchScanner struct {
	b string
	i int
}

func (s *batchScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r': // RFC 8259 §2
			s.i++
		default:
			return
		}
	}
}

func (s *batchScanner) peek() byte {
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// byte consumes c after optional whitespace.
func (s *batchScanner) byte(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// str reads a string of printable ASCII with no escapes; anything else is
// left to encoding/json.
func (s *batchScanner) str() (string, bool) {
	if !s.byte('"') {
		return "", false
	}
	start := s.i
	s.i += jsonstr.Plain(s.b[start:])
	if s.i < len(s.b) && s.b[s.i] == '"' {
		v := s.b[start:s.i]
		s.i++
		return v, true
	}
	return "", false
}
