package token

import (
	"encoding/json"
)

// Actor is RFC 8693 §4.1's act claim: the party acting for the subject,
// and, nested in it, the one that acted before it, down to the first (§4.1:
// "the least recent actor is the most deeply nested"). Only sub and iss
// identify an actor; other members an issuer may put there are dropped.
type Actor struct {
	Sub string `json:"sub"`
	Iss string `json:"iss,omitempty"`
	Act *Actor `json:"act,omitempty"`
}

// MaxActorDepth bounds a delegation chain: a token acted on by more
// parties than this is refused rather than carried (every hop makes every
// later token and introspection answer longer).
const MaxActorDepth = 5

// depth is the number of actors in the chain; 0 for nil.
func (a *Actor) depth() int {
	n := 0
	for ; a != nil; a = a.Act {
		n++
	}
	return n
}

// encode is a as stored with an opaque token: JSON, "" for none.
func (a *Actor) encode() string {
	if a == nil {
		return ""
	}
	b, _ := json.Marshal(a) // strings only: cannot fail
	return string(b)
}

// decodeActor undoes encode; nil for "".
func decodeActor(s string) (*Actor, error) {
	if s == "" {
		return nil, nil
	}
	a := new(Actor)
	if err := json.Unmarshal([]byte(s), a); err != nil {
		return nil, err
	}
	return a, nil
}

// validChain reports whether every actor in a names someone and the chain
// is no deeper than MaxActorDepth.
func (a *Actor) validChain() bool {
	if a.depth() > MaxActorDepth {
		return false
	}
	for x := a; x != nil; x = x.Act {
		if x.Sub == "" {
			return false
		}
	}
	return true
}

// appendActor appends a as a JSON object (the introspection encoder's
// act member).
func appendActor(b []byte, a *Actor) []byte {
	b = append(b, `{"sub":`...)
	b = appendString(b, a.Sub)
	b = appendField(b, "iss", a.Iss)
	if a.Act != nil {
		b = append(b, `,"act":`...)
		b = appendActor(b, a.Act)
	}
	return append(b, '}')
}
