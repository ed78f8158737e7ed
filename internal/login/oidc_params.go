package login

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/authd/authd/internal/oauth"
)

// OpenID Connect Core §3.1.2.1 parameters beyond the OAuth ones.
const (
	pClaims    = "claims"     // §5.5
	pACRValues = "acr_values" // voluntary: the acr authd can give is oauth.ACRPassword
	// display, ui_locales and claims_locales are accepted and ignored, like
	// every parameter authd does not know (§3.1.2.1: "ignored if not
	// understood").

	maxClaimsBytes      = 4096
	maxIDTokenHintParam = 8192
)

// claimsRequest is the parts of the §5.5 claims parameter that change what
// authd does. Every claim it may name is released only as far as the
// granted scopes release it (the user consented to scopes), in the id_token
// and at userinfo alike, so which member asked matters only for these.
type claimsRequest struct {
	// sub is the §5.5.1 "sub" value asked for in the id_token: the OP may
	// answer positively only for that user.
	sub string
	// acr are the values an essential acr request accepts (§5.5.1.1); nil
	// when acr was not asked for as essential.
	acr []string
}

// claimSpec is one §5.5.1 individual claim request: null or an object.
type claimSpec struct {
	Essential bool              `json:"essential"`
	Value     json.RawMessage   `json:"value"`
	Values    []json.RawMessage `json:"values"`
}

// parseClaims validates the claims parameter (§5.5): a JSON object whose
// userinfo and id_token members, when present, are objects of claim names to
// null or claim specs. Other members are ignored (§5.5: extensions).
func parseClaims(raw string) (*claimsRequest, error) {
	if raw == "" {
		return nil, nil
	}
	bad := func(why string) error { return oauth.InvalidRequest("claims " + why) }
	if len(raw) > maxClaimsBytes {
		return nil, bad(fmt.Sprintf("must be at most %d bytes", maxClaimsBytes))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &top); err != nil || top == nil {
		return nil, bad("must be a JSON object (OpenID Connect Core §5.5)")
	}
	out := &claimsRequest{}
	for _, member := range []string{"userinfo", "id_token"} {
		m, ok := top[member]
		if !ok || bytes.Equal(bytes.TrimSpace(m), []byte("null")) {
			continue
		}
		var specs map[string]json.RawMessage
		if err := json.Unmarshal(m, &specs); err != nil || specs == nil {
			return nil, bad(member + " must be an object of claim names")
		}
		for name, s := range specs {
			var spec claimSpec
			if !bytes.Equal(bytes.TrimSpace(s), []byte("null")) {
				if err := json.Unmarshal(s, &spec); err != nil {
					return nil, bad(member + "." + name + " must be null or an object with essential, value or values")
				}
			}
			if member != "id_token" {
				continue
			}
			switch name {
			case "sub":
				if len(spec.Value) > 0 {
					var sub string
					if err := json.Unmarshal(spec.Value, &sub); err != nil || sub == "" {
						return nil, bad("id_token.sub.value must be a string")
					}
					out.sub = sub
				}
			case "acr":
				if !spec.Essential {
					continue // voluntary: authd's acr is what it is
				}
				vals := spec.Values
				if len(spec.Value) > 0 {
					vals = append(vals, spec.Value)
				}
				out.acr = []string{}
				for _, v := range vals {
					var s string
					if err := json.Unmarshal(v, &s); err != nil {
						return nil, bad("id_token.acr values must be strings")
					}
					out.acr = append(out.acr, s)
				}
			}
		}
	}
	return out, nil
}

// checkACR applies §5.5.1.1: an essential acr request whose values authd
// cannot meet is a failed authentication, answered before anyone signs in.
func (c *claimsRequest) checkACR() error {
	if c == nil || c.acr == nil || len(c.acr) == 0 || slices.Contains(c.acr, oauth.ACRPassword) {
		return nil
	}
	return oauth.AccessDenied("the essential acr requested cannot be met: authd signs people in with a password (acr " + oauth.ACRPassword + ")")
}

// hintSubject is the subject of an id_token_hint sent to the authorization
// endpoint (§3.1.2.1): an id_token authd issued, expired or not.
func (h *Handler) hintSubject(ctx context.Context, hint string) (string, error) {
	if len(hint) > maxIDTokenHintParam {
		return "", errors.New("id_token_hint is too long")
	}
	payload, err := h.idTokens.Verify(ctx, hint, "JWT")
	if err != nil {
		return "", errors.New("id_token_hint does not verify")
	}
	var c idTokenHintClaims
	if err := json.Unmarshal(payload, &c); err != nil || c.Iss != h.issuer || c.Sub == "" {
		return "", errors.New("id_token_hint is not an id_token of this server")
	}
	return c.Sub, nil
}

// expectedSubject is the user this request is for, if it says: the claims
// parameter's id_token sub value, which must be met, or the id_token_hint's
// subject, a hint. "" when neither.
func (h *Handler) expectedSubject(ctx context.Context, req *authRequest) (sub string, must bool, err *oauth.Error) {
	if req.claims != nil && req.claims.sub != "" {
		return req.claims.sub, true, nil
	}
	if hint := req.params.Get(pIDTokenHint); hint != "" {
		sub, herr := h.hintSubject(ctx, hint)
		if herr != nil {
			return "", false, oauth.InvalidRequest(herr.Error())
		}
		return sub, false, nil
	}
	return "", false, nil
}
