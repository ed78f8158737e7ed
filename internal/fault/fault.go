// Package fault is the one place that decides what an error means to the
// caller: a protocol error passes through, a dependency that is down or slow
// is 503 temporarily_unavailable with Retry-After, a caller that hung up is
// nobody's fault, and anything else is an internal error, logged once with
// the request id and cause and shown without detail. The JSON writer, the
// browser pages and the admin API all ask it, so the same failure never
// means 500 in one place and 503 in another.
package fault

import (
	"context"
	"errors"
	"log/slog"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/store"
)

// Kind is what an error is to the caller.
type Kind int

const (
	// Protocol: an *oauth.Error, to be sent as it is.
	Protocol Kind = iota
	// Unavailable: a dependency is down, slow or saturated; retry shortly.
	Unavailable
	// Canceled: the caller went away; there is nobody to answer.
	Canceled
	// Internal: a fault of ours.
	Internal
)

func (k Kind) String() string {
	return [...]string{"protocol", "unavailable", "canceled", "internal"}[k]
}

// RetryAfter is the Retry-After, in seconds, of an Unavailable answer.
const RetryAfter = 1

// Class is an error classified: its Kind and the OAuth error to answer
// with (nil for Canceled).
type Class struct {
	Kind  Kind
	OAuth *oauth.Error
}

// Classify decides what err means for a request whose context is ctx.
func Classify(ctx context.Context, err error) Class {
	if e, ok := oauth.As(err); ok {
		return Class{Kind: Protocol, OAuth: e}
	}
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		// The work failed because the caller's context was canceled, in
		// whatever words the store used to say so.
		return Class{Kind: Canceled}
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, password.ErrBusy):
		return Class{Kind: Unavailable, OAuth: oauth.TemporarilyUnavailable("", RetryAfter)}
	}
	return Class{Kind: Internal, OAuth: oauth.ServerError()}
}

// Log records a classified error once, at the level its kind deserves:
// Internal at ERROR with the cause, Unavailable at WARN, Canceled at DEBUG;
// protocol errors are the caller's and are not logged here.
func Log(ctx context.Context, log *slog.Logger, c Class, requestID, path string, err error) {
	var level slog.Level
	switch c.Kind {
	case Protocol:
		return
	case Canceled:
		level = slog.LevelDebug
	case Unavailable:
		level = slog.LevelWarn
	default:
		level = slog.LevelError
	}
	log.LogAttrs(ctx, level, "request failed",
		slog.String("kind", c.Kind.String()),
		slog.String("request_id", requestID),
		slog.String("path", path),
		slog.String("error", err.Error()))
}
