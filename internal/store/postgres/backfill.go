package postgres

import (
	"context"
	"database/sql"
	"encoding/json"

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
	// Through database/sql arrays are easiest as JSON.
	rows, err := tx.QueryContext(ctx, `SELECT id, token_endpoint_auth_method,
		array_to_json(redirect_uris)::text, array_to_json(allowed_cors_origins)::text FROM clients`)
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
		if err := json.Unmarshal([]byte(uris), &c.RedirectURIs); err != nil {
			rows.Close()
			return err
		}
		if err := json.Unmarshal([]byte(origins), &c.AllowedCORSOrigins); err != nil {
			rows.Close()
			return err
		}
		clients = append(clients, &c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range clients {
		for _, o := range c.CORSOrigins() {
			if _, err := tx.ExecContext(ctx, `INSERT INTO client_cors_origins (origin, client_id)
				VALUES ($1, $2) ON CONFLICT DO NOTHING`, o, c.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
