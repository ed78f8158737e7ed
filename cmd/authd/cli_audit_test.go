package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// authd audit reads what the admin API did, through the admin API.
func TestCLIAudit(t *testing.T) {
	s := startServer(t, nil)
	var created map[string]any
	if err := json.Unmarshal(s.cli(t, "client", "create", "--name", "audited"), &created); err != nil {
		t.Fatal(err)
	}
	id := created["client_id"].(string)
	// Events reach the trail in batches, in their own time, but a shutdown
	// writes everything queued before it returns: stop, and read the trail
	// through a serve started again on the same data folder.
	s.stop(t)
	s = startServer(t, map[string]string{"AUTHD_DATA_DIR": s.env["AUTHD_DATA_DIR"]})
	var out bytes.Buffer
	args := []string{"audit", "--admin-url", s.admin, "--type", "admin.client_created", "--json", "--since", "1h"}
	if err := run(context.Background(), args, s.getenv, strings.NewReader(""), &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(strings.TrimSpace(out.String()))
	if len(lines) != 1 || !strings.Contains(lines[0], id) || !strings.Contains(lines[0], `"by":"admin-token"`) {
		t.Fatalf("authd audit printed %q, want the one client creation by the admin token", lines)
	}
	var table bytes.Buffer
	if err := run(context.Background(), []string{"audit", "list", "--admin-url", s.admin, "--limit", "5"}, s.getenv, strings.NewReader(""), &table, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(table.String(), "TIME") || !strings.Contains(table.String(), "admin.client_created") {
		t.Fatalf("table:\n%s", table.String())
	}
}
