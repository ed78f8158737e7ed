package logoutnotify

import "github.com/prometheus/client_golang/prometheus"

// Outcomes of one delivery attempt, the label of
// authd_logout_notifications_total.
const (
	resultDelivered = "delivered" // the relying party answered 2xx
	resultRetried   = "retried"   // failed; tried again later
	resultGivenUp   = "given_up"  // refused, or past the maximum age
	resultDropped   = "dropped"   // the client was deleted or no longer has a backchannel_logout_uri
)

// counters is one counter per outcome, resolved up front.
type counters map[string]prometheus.Counter

func newCounters(reg prometheus.Registerer) (counters, error) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authd_logout_notifications_total",
		Help: "Back-channel logout delivery attempts by outcome: delivered (2xx), retried, given_up (refused, or past AUTHD_LOGOUT_MAX_AGE), dropped (client deleted or without backchannel_logout_uri).",
	}, []string{"result"})
	c := counters{}
	for _, r := range []string{resultDelivered, resultRetried, resultGivenUp, resultDropped} {
		c[r] = vec.WithLabelValues(r)
	}
	if reg != nil {
		if err := reg.Register(vec); err != nil {
			return nil, err
		}
	}
	return c, nil
}
