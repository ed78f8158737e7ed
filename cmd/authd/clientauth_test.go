package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/authd/authd/internal/clientauth/assertion"
	"github.com/authd/authd/internal/outbound"
)

// What a failed fetch of a client's or issuer's keys means to client
// authentication.
func TestSourceError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want error // nil: no error
	}{
		{"ok", nil, nil},
		{"no such key", fmt.Errorf("x: %w", outbound.ErrKeyNotFound), nil},
		{"refused address", fmt.Errorf("x: %w", outbound.ErrRefused), assertion.ErrKeysInvalid},
		{"not a key set", fmt.Errorf("x: %w", outbound.ErrBadResponse), assertion.ErrKeysInvalid},
		{"issuer mismatch", outbound.ErrIssuerMismatch, assertion.ErrKeysInvalid},
		{"too large", outbound.ErrTooLarge, assertion.ErrKeysInvalid},
		{"down", fmt.Errorf("x: %w", outbound.ErrUnavailable), assertion.ErrUnavailable},
		{"something else", errors.New("boom"), assertion.ErrUnavailable},
		{"caller gone", context.Canceled, context.Canceled},
	} {
		got := sourceError(tc.err)
		if (tc.want == nil) != (got == nil) || (tc.want != nil && !errors.Is(got, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
