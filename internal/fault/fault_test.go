package fault_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/authd/authd/internal/fault"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/store"
)

func TestClassify(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name       string
		ctx        context.Context
		err        error
		want       fault.Kind
		wantStatus int
		wantCode   string
	}{
		{"protocol error passes through", context.Background(), oauth.InvalidGrant("x"), fault.Protocol, 400, "invalid_grant"},
		{"wrapped protocol error", context.Background(), fmt.Errorf("grant: %w", oauth.InvalidScope("y")), fault.Protocol, 400, "invalid_scope"},
		{"store down", context.Background(), fmt.Errorf("postgres: x: %w", store.ErrUnavailable), fault.Unavailable, 503, "temporarily_unavailable"},
		{"deadline", context.Background(), context.DeadlineExceeded, fault.Unavailable, 503, "temporarily_unavailable"},
		{"hashing saturated", context.Background(), password.ErrBusy, fault.Unavailable, 503, "temporarily_unavailable"},
		{"caller hung up", canceled, errors.New("sqlite: interrupted"), fault.Canceled, 0, ""},
		{"caller hung up while the store was down", canceled, store.ErrUnavailable, fault.Canceled, 0, ""},
		{"anything else", context.Background(), errors.New("boom"), fault.Internal, 500, "server_error"},
		{"a protocol error even after a hang-up", canceled, oauth.InvalidRequest("z"), fault.Protocol, 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := fault.Classify(tc.ctx, tc.err)
			if c.Kind != tc.want {
				t.Fatalf("kind %v, want %v", c.Kind, tc.want)
			}
			if tc.wantCode == "" {
				if c.OAuth != nil {
					t.Fatalf("canceled carries %v", c.OAuth)
				}
				return
			}
			if c.OAuth.Status != tc.wantStatus || c.OAuth.Code != tc.wantCode {
				t.Fatalf("answer %d %s, want %d %s", c.OAuth.Status, c.OAuth.Code, tc.wantStatus, tc.wantCode)
			}
			if c.Kind == fault.Unavailable && c.OAuth.RetryAfter <= 0 {
				t.Fatal("unavailable without Retry-After")
			}
		})
	}
}
