package main

import (
	"context"

	"github.com/authd/authd/internal/batch"
	"github.com/authd/authd/internal/store"
)

// batchedTokens puts the group-commit writer in front of the store for
// inserts; reads and deletes go straight to the store.
type batchedTokens struct {
	w  *batch.AccessTokens
	st store.AccessTokens
}

func (b batchedTokens) CreateAccessTokens(ctx context.Context, t []*store.AccessToken) error {
	return b.w.CreateAccessTokens(ctx, t)
}

func (b batchedTokens) AccessToken(ctx context.Context, h []byte) (*store.AccessToken, error) {
	return b.st.AccessToken(ctx, h)
}

func (b batchedTokens) DeleteAccessToken(ctx context.Context, h []byte) error {
	return b.st.DeleteAccessToken(ctx, h)
}
