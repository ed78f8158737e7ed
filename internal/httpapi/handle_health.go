package httpapi

import (
	"context"
	"net/http"
)

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeRaw(w, http.StatusOK, []byte(`{"status":"ok"}`))
}

type readyBody struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	body := readyBody{Status: "ok", Checks: map[string]string{}}
	status := http.StatusOK
	for _, c := range s.opts.Ready {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		err := c.Fn(ctx)
		cancel()
		if err != nil && clientGone(r) {
			w.WriteHeader(StatusClientClosedRequest)
			return
		}
		if err != nil {
			// The detail is logged, not shown: readyz is public.
			s.log.Warn("readiness check failed", "check", c.Name, "error", err.Error())
			body.Checks[c.Name] = "unavailable"
			if c.Optional {
				if status == http.StatusOK {
					body.Status = "degraded"
				}
				continue
			}
			body.Status, status = "unavailable", http.StatusServiceUnavailable
			continue
		}
		body.Checks[c.Name] = "ok"
	}
	writeJSON(w, status, body)
}
