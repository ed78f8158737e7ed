package authzreq_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/authd/authd/internal/authzreq"
)

func TestRequestURI(t *testing.T) {
	n := byte(0)
	uri, hash := authzreq.NewRequestURI(func(b []byte) {
		for i := range b {
			n++
			b[i] = n
		}
	})
	if !strings.HasPrefix(uri, authzreq.RequestURIPrefix) || !authzreq.IsPushed(uri) {
		t.Fatalf("NewRequestURI = %q, not one of ours", uri)
	}
	if !bytes.Equal(hash, authzreq.HashRequestURI(uri)) {
		t.Fatal("the hash returned is not the stored key")
	}
	for _, bad := range []string{"", "urn:x", "https://app.example/req.jwt", uri + "A", uri[:len(uri)-1], authzreq.RequestURIPrefix + strings.Repeat("*", 43)} {
		if authzreq.IsPushed(bad) {
			t.Errorf("IsPushed(%q) = true", bad)
		}
	}
}
