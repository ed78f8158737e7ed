// Command healthcheck is the container health probe for images without a
// shell or curl (distroless): it asks authd's /readyz and exits 0 on 200, 1
// otherwise. /readyz answers 200 while the store answers, "degraded" included
// (Redis down: authd keeps serving from its in-process cache and the store),
// and 503 when the store does not.
//
//	healthcheck [URL]    default http://127.0.0.1:8080/readyz, or HEALTHCHECK_URL
//
// It follows no redirects and gives up after 3 seconds, within any sensible
// HEALTHCHECK --timeout.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

const defaultURL = "http://127.0.0.1:8080/readyz"

func main() {
	url := os.Getenv("HEALTHCHECK_URL")
	if len(os.Args) > 1 {
		url = os.Args[1]
	}
	if url == "" {
		url = defaultURL
	}
	if err := check(url, 3*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		os.Exit(1)
	}
}

func check(url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s: %s", url, resp.Status, body)
	}
	return nil
}
