package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/authd/authd/internal/store/sqlite"
	"github.com/authd/authd/internal/token"
)

// TestShutdownUnderLoad: SIGTERM (a cancelled context) while stored opaque tokens
// are being issued as fast as the server can. serve returns within
// AUTHD_SHUTDOWN_TIMEOUT in total, every token it acknowledged is durable,
// and no goroutine it started is left behind.
func TestShutdownUnderLoad(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	const budget = 5 * time.Second
	s := startServer(t, map[string]string{
		"AUTHD_SHUTDOWN_TIMEOUT":  budget.String(),
		"AUTHD_RATE_LIMIT_IP":     "0",
		"AUTHD_RATE_LIMIT_CLIENT": "0",
		// Stored tokens are the ones a shutdown could lose (group commit);
		// sealed ones are written nowhere (TestOpaqueTokensSurviveSIGKILL).
		"AUTHD_OPAQUE_TOKENS": "stored",
	})
	var created map[string]any
	if err := json.Unmarshal(s.cli(t, "client", "create", "--format", "opaque"), &created); err != nil {
		t.Fatal(err)
	}
	id, secret := created["client_id"].(string), created["client_secret"].(string)

	tr := &http.Transport{}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	started := make(chan struct{}, 8)
	for range 8 {
		wg.Go(func() {
			for n := 0; n < 5000; n++ { // bounded: the shutdown ends it long before
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodPost, s.public+"/oauth2/token",
					strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(id, secret)
				resp, err := hc.Do(req)
				if err != nil {
					return // the server is going away
				}
				var body struct {
					AccessToken string `json:"access_token"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&body)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || body.AccessToken == "" {
					continue
				}
				mu.Lock()
				acked = append(acked, body.AccessToken)
				mu.Unlock()
				if n == 50 {
					started <- struct{}{}
				}
			}
		})
	}
	for range 8 {
		<-started // every worker has 50 tokens acknowledged: the writer is busy
	}
	begin := time.Now()
	s.cancel() // SIGTERM
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(budget + 2*time.Second):
		t.Fatalf("serve did not return within its %v budget", budget)
	}
	took := time.Since(begin)
	close(stop)
	wg.Wait()
	tr.CloseIdleConnections()
	if took > budget {
		t.Fatalf("shutdown took %v, budget %v", took, budget)
	}

	// Every acknowledged token is in the store.
	db, err := sqlite.Open(context.Background(), filepath.Join(s.env["AUTHD_DATA_DIR"], SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mu.Lock()
	defer mu.Unlock()
	for _, tok := range acked {
		if _, err := db.AccessToken(context.Background(), token.Hash(tok)); err != nil {
			t.Fatalf("an acknowledged token is not durable (%d acknowledged): %v", len(acked), err)
		}
	}
	t.Logf("%d tokens acknowledged under load; shutdown took %v; all durable", len(acked), took)
	db.Close()
	goleak.VerifyNone(t, leaks)
}
