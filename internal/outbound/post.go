package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Response is the answer to a Post: its status and at most Options.MaxBytes
// of its body (for the caller's log; a notification's answer is not parsed).
type Response struct {
	Status int
	Body   []byte
}

// Post sends form as application/x-www-form-urlencoded to rawURL under the
// same SSRF rules, transports, time cap, size cap and in-flight bound as
// Get, and returns whatever status the server answered. Nothing is cached,
// and no redirect is followed: a POST that is redirected is not delivered
// (a 3xx comes back as the Response), since following it would either drop
// the body (303) or resend a notification to a target nobody registered.
// It is for notifications (Back-Channel Logout §2.5), which the caller
// retries.
//
// Errors (no response at all) wrap ErrRefused or ErrUnavailable; a body
// over the cap is ErrTooLarge.
func (f *Fetcher) Post(ctx context.Context, rawURL string, form url.Values) (*Response, error) {
	u, err := f.parseURL(rawURL)
	if err != nil {
		f.m.fetches[resultRefused].Inc()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	select {
	case f.sem <- struct{}{}:
		defer func() { <-f.sem }()
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w: waiting for a fetch slot: %w", u, ErrUnavailable, ctx.Err())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", f.opts.UserAgent)
	start := time.Now()
	resp, err := f.poster.Do(req)
	f.m.duration.Observe(time.Since(start).Seconds())
	if err != nil {
		if !errors.Is(err, ErrRefused) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		f.m.fetches[resultOf(err)].Inc()
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBytes+1))
	switch {
	case err != nil:
		err = fmt.Errorf("%s: %w: reading the body: %w", u, ErrUnavailable, err)
	case int64(len(body)) > f.opts.MaxBytes:
		err = fmt.Errorf("%s: %w: more than %d bytes", u, ErrTooLarge, f.opts.MaxBytes)
	}
	if err != nil {
		f.m.fetches[resultOf(err)].Inc()
		return nil, err
	}
	f.m.fetches[resultOK].Inc()
	return &Response{Status: resp.StatusCode, Body: body}, nil
}
