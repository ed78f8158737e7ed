package httpapi

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseBatchBody(t *testing.T) {
	long := strings.Repeat("A", 300)
	for _, tc := range []struct {
		body    string
		scanned bool // taken by the direct scan, not encoding/json
		want    batchRequest
		err     bool
	}{
		{`{"tokens":["a","b.c.d"]}`, true, batchRequest{Tokens: []string{"a", "b.c.d"}}, false},
		{" {\n\t\"tokens\" : [ \"" + long + "\" ] , \"client_id\":\"c\",\"client_secret\":\"s\"}\r\n", true,
			batchRequest{Tokens: []string{long}, ClientID: "c", ClientSecret: "s"}, false},
		{`{"client_id":"c","tokens":[]}`, true, batchRequest{Tokens: []string{}, ClientID: "c"}, false},
		// encoding/json's cases: the same answers.
		{`{"tokens":["a\u0041"]}`, false, batchRequest{Tokens: []string{"aA"}}, false},
		{`{"tokens":["x"],"tokens":["y"]}`, false, batchRequest{Tokens: []string{"y"}}, false},
		{`{"tokens":["x"],"extra":1}`, false, batchRequest{Tokens: []string{"x"}}, false},
		{`{"Tokens":["x"]}`, false, batchRequest{Tokens: []string{"x"}}, false}, // case-insensitive member names
		{`{"tokens":null}`, false, batchRequest{}, false},
		{`{"tokens":["é"]}`, false, batchRequest{Tokens: []string{"é"}}, false},
		{`{"tokens":["x"]}x`, false, batchRequest{}, true},
		{`{"tokens":["x",]}`, false, batchRequest{}, true},
		{`{"tokens":[1]}`, false, batchRequest{}, true},
		{`[]`, false, batchRequest{}, true},
		{``, false, batchRequest{}, true},
	} {
		var scanned batchRequest
		if got := scanBatchBody([]byte(tc.body), &scanned); got != tc.scanned {
			t.Errorf("%q: scanned %v, want %v", tc.body, got, tc.scanned)
		}
		var req batchRequest
		err := parseBatchBody([]byte(tc.body), &req)
		if (err != nil) != tc.err || (err == nil && !reflect.DeepEqual(req, tc.want)) {
			t.Errorf("%q: %+v, %v; want %+v (error %v)", tc.body, req, err, tc.want, tc.err)
		}
	}
}

// FuzzParseBatchBody: whatever the direct scan accepts, encoding/json
// decodes to the same request.
func FuzzParseBatchBody(f *testing.F) {
	for _, s := range []string{`{"tokens":["a","b"]}`, `{"tokens":[],"client_id":"c","client_secret":"s"}`, ` { "tokens" : [ "x" ] } `,
		`{"tokens":["x"],"tokens":["y"]}`, `{"tokens":["\u0041"]}`, `{"tokens":["x"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var scanned batchRequest
		if !scanBatchBody(b, &scanned) {
			return
		}
		var want batchRequest
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%q: scanned %+v, encoding/json refuses it: %v", b, scanned, err)
		}
		if !reflect.DeepEqual(scanned, want) {
			t.Fatalf("%q: scanned %+v, encoding/json %+v", b, scanned, want)
		}
	})
}

// readAll reads what io.ReadAll reads, whatever the declared length says,
// and passes the reader's error on.
func TestReadAll(t *testing.T) {
	for _, size := range []int{0, 1, 511, 512, 513, 20_000, 64 << 10, 64<<10 + 1, 200_000} {
		body := strings.Repeat("x", size)
		for _, declared := range []int64{-1, 0, 1, int64(size) - 1, int64(size), int64(size) + 1, 1 << 40} {
			got, err := readAll(iotest.OneByteReader(strings.NewReader(body)), declared)
			if err != nil || string(got) != body {
				t.Fatalf("size %d declared %d: %d bytes, %v", size, declared, len(got), err)
			}
			got, err = readAll(strings.NewReader(body), declared)
			if err != nil || string(got) != body {
				t.Fatalf("size %d declared %d (one read): %d bytes, %v", size, declared, len(got), err)
			}
		}
	}
	if _, err := readAll(iotest.ErrReader(errors.New("cut")), 10); err == nil || err.Error() != "cut" {
		t.Errorf("reader error: %v", err)
	}
}

// A long answer (a batch's) says its length, so net/http sends it in one
// write rather than chunked; a short one net/http measures itself.
func TestWriteRawLength(t *testing.T) {
	for _, n := range []int{10, 2048, 2049, 30_000} {
		w := httptest.NewRecorder()
		writeRaw(w, 200, []byte(strings.Repeat("x", n)))
		want := ""
		if n > 2048 {
			want = strconv.Itoa(n)
		}
		if got := w.Header().Get("Content-Length"); got != want {
			t.Errorf("%d bytes: Content-Length %q, want %q", n, got, want)
		}
	}
}
