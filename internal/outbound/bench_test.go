package outbound

import (
	"net/http/httptest"
	"testing"
)

// The cache-hit paths are what a token request pays: measure them.

func BenchmarkGetHit(b *testing.B) {
	srv := httptest.NewServer(jsonHandler(`{"issuer":"x"}`))
	defer srv.Close()
	f := newFetcher(b, Options{AllowLoopback: true})
	if _, err := f.Get(b.Context(), srv.URL, jsonType); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Get(b.Context(), srv.URL, jsonType); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeysHit(b *testing.B) {
	srv := httptest.NewServer(jsonHandler(jwkSet(newEd25519(b, "a").pub, newEC(b, "b").pub)))
	defer srv.Close()
	f := newFetcher(b, Options{AllowLoopback: true})
	jwks := NewJWKS(f.Fetcher, JWKSOptions{})
	if _, err := jwks.Keys(b.Context(), srv.URL, "b"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jwks.Keys(b.Context(), srv.URL, "b"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeysUnknownKidThrottled(b *testing.B) {
	srv := httptest.NewServer(jsonHandler(jwkSet(newEd25519(b, "a").pub)))
	defer srv.Close()
	f := newFetcher(b, Options{AllowLoopback: true})
	jwks := NewJWKS(f.Fetcher, JWKSOptions{})
	if _, err := jwks.Keys(b.Context(), srv.URL, "nope"); err == nil {
		b.Fatal("found")
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jwks.Keys(b.Context(), srv.URL, "nope"); err == nil {
			b.Fatal("found")
		}
	}
}
