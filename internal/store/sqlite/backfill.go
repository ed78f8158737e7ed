package sqlite

import (
	"context"
	"database/sql"

	"github.com/pressly/goose/v3"

	"github.com/authd/authd/internal/oauth"
)

// goMigrations are the migrations SQL cannot express.
func goMigrations() []*goose.Migration {
	return []*goose.Migration{
		// 00004: clients registered before 00003 get their effective CORS
		// origins (a public client's redirect-URI origins) in the lookup table.
		goose.NewGoMigration(4, &goose.GoFunc{RunTx: backfillOrigins}, nil),
	}
}

func backfillOrigins(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, token_endpoint_auth_method, redirect_uris, allowed_cors_origins FROM clients`)
	if err != nil {
		return err
	}
	var clients []*oauth.Client
	for rows.Next() {
		var (
			c             oauth.Client
			uris, origins string
		)
		if err := rows.Scan(&c.ID, &c.TokenEndpointAuthMethod, &uris, &origins); err != nil {
			rows.Close()
			return err
		}
		if c.RedirectURIs, err = decodeList(uris); err != nil {
			rows.Close()
			return err
		}
		if c.AllowedCORSOrigins, err = decodeList(origins); err != nil {
			rows.Close()
			return err
		}
		clients = append(clients, &c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ins, err := tx.PrepareContext(ctx, insertOrigin)
	if err != nil {
		return err
	}
	defer ins.Close()
	for _, c := range clients {
		if err := insertOrigins(ctx, ins, c); err != nil {
			return err
		}
	}
	return nil
}
