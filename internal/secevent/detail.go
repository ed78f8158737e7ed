package secevent

import "encoding/json"

// sensitive are Detail keys whose values are credentials. Callers must never
// put them in Detail; if one slips through, its value is redacted rather than
// written to the audit trail, which lives longer than any token.
func sensitive(key string) bool {
	switch key {
	case "password", "secret", "client_secret", "token", "access_token", "refresh_token",
		"id_token", "code", "code_verifier", "assertion", "client_assertion",
		"authorization", "cookie":
		return true
	}
	return false
}

// redact returns d with the values of sensitive keys replaced, copying d
// only when it has one: the caller's map is never changed.
func redact(d map[string]string) map[string]string {
	for k := range d {
		if sensitive(k) {
			clean := make(map[string]string, len(d))
			for k, v := range d {
				if sensitive(k) {
					v = "[redacted]"
				}
				clean[k] = v
			}
			return clean
		}
	}
	return d
}

// encodeDetail renders d as a JSON object, keys sorted (json.Marshal sorts
// map keys), so equal details are equal strings.
func encodeDetail(d map[string]string) string {
	if len(d) == 0 {
		return "{}"
	}
	out, err := json.Marshal(redact(d))
	if err != nil { // a map[string]string always encodes
		return "{}"
	}
	return string(out)
}
