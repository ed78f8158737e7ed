package assertion

import (
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// checkTimes applies exp, nbf and iat with the leeway, and bounds the
// assertion's lifetime by max.
//
// The lifetime is exp − iat, or exp − now when there is no iat. Measuring from
// iat makes the rule a property of the token (a 2-hour token is refused in its
// first hour and its second alike), and since iat may not be in the future, exp
// is never more than max + 2·leeway ahead of now: that bounds how long the
// replay store must remember a jti.
func (v *Verifier) checkTimes(cl *jwt.Claims, max time.Duration) error {
	now := v.cfg.Now()
	leeway := v.cfg.Leeway
	exp := cl.Expiry.Time()
	// RFC 7519 §4.1.4, RFC 7523 §3 item 4: now must be before exp.
	if !now.Before(exp.Add(leeway)) {
		return refuse(ReasonExpired, "exp passed %s ago", now.Sub(exp).Round(time.Second))
	}
	// RFC 7519 §4.1.5, RFC 7523 §3 item 5: not before nbf.
	if cl.NotBefore != nil && now.Add(leeway).Before(cl.NotBefore.Time()) {
		return refuse(ReasonNotYetValid, "nbf is %s ahead", cl.NotBefore.Time().Sub(now).Round(time.Second))
	}
	from := now
	if cl.IssuedAt != nil {
		iat := cl.IssuedAt.Time()
		// RFC 7523 §3 item 6 lets the server refuse an unreasonable iat; one
		// in the future is.
		if iat.After(now.Add(leeway)) {
			return refuse(ReasonNotYetValid, "iat is %s ahead", iat.Sub(now).Round(time.Second))
		}
		from = iat
	}
	if exp.Sub(from) > max+leeway {
		return refuse(ReasonLifetime, "lifetime %s exceeds %s", exp.Sub(from).Round(time.Second), max)
	}
	return nil
}
