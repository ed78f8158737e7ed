package admin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/authd/authd/internal/store"
)

// AuditReader reads the audit trail (store.Audit).
type AuditReader interface {
	QueryAudit(ctx context.Context, q store.AuditQuery) ([]*store.AuditEvent, error)
}

// maxAuditPage bounds one page of GET /admin/audit.
const maxAuditPage = 1000

type auditEventJSON struct {
	ID       int64           `json:"id"`
	Time     time.Time       `json:"time"`
	Type     string          `json:"type"`
	ClientID string          `json:"client_id,omitempty"`
	Subject  string          `json:"subject,omitempty"`
	IP       string          `json:"ip,omitempty"`
	Detail   json.RawMessage `json:"detail,omitempty"`
}

type auditPage struct {
	Events []auditEventJSON `json:"events"`
	// Next continues the listing (pass it as cursor); absent on the last page.
	Next string `json:"next,omitempty"`
}

// listAudit is GET /admin/audit: newest first, filtered by since/until
// (RFC 3339), type, client_id, subject and ip, limit per page (default 100,
// at most 1000), and cursor from the previous page's next.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := store.AuditQuery{Type: v.Get("type"), ClientID: v.Get("client_id"), Subject: v.Get("subject"), IP: v.Get("ip"), Limit: 100}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if raw := v.Get(t.name); raw != "" {
			at, err := time.Parse(time.RFC3339Nano, raw)
			if err != nil {
				writeProblem(w, r, s.log, badRequest(t.name, t.name+" must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z"))
				return
			}
			*t.dst = at
		}
	}
	if raw := v.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxAuditPage {
			writeProblem(w, r, s.log, badRequest("limit", "limit must be from 1 to 1000"))
			return
		}
		q.Limit = n
	}
	if raw := v.Get("cursor"); raw != "" {
		c, ok := decodeCursor(raw)
		if !ok {
			writeProblem(w, r, s.log, badRequest("cursor", "cursor must be a next value this endpoint returned"))
			return
		}
		q.Before = c
	}
	// One more than asked tells whether there is a next page.
	want := q.Limit
	q.Limit++
	evs, err := s.trail.QueryAudit(r.Context(), q)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	page := auditPage{Events: make([]auditEventJSON, 0, min(len(evs), want))}
	for i, e := range evs {
		if i == want {
			last := evs[want-1]
			page.Next = encodeCursor(store.AuditCursor{Time: last.Time, ID: last.ID})
			break
		}
		j := auditEventJSON{ID: e.ID, Time: e.Time.UTC(), Type: e.Type, ClientID: e.ClientID, Subject: e.Subject, IP: e.IP}
		if e.Detail != "" && e.Detail != "{}" && json.Valid([]byte(e.Detail)) {
			j.Detail = json.RawMessage(e.Detail)
		}
		page.Events = append(page.Events, j)
	}
	writeJSON(w, http.StatusOK, page)
}

// A cursor is opaque to callers: the last event's time (µs) and id.
func encodeCursor(c store.AuditCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.Time.UnixMicro(), 10) + "." + strconv.FormatInt(c.ID, 10)))
}

func decodeCursor(s string) (*store.AuditCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	ts, id, ok := strings.Cut(string(b), ".")
	if !ok {
		return nil, false
	}
	us, err1 := strconv.ParseInt(ts, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || n < 0 {
		return nil, false
	}
	return &store.AuditCursor{Time: time.UnixMicro(us).UTC(), ID: n}, true
}
