package tiered

import (
	"slices"
	"strings"
	"testing"
)

func TestMessageRoundTrip(t *testing.T) {
	id := [idLen]byte{1, 2, 3, 4, 5, 6, 7, 8}
	tests := []struct {
		name string
		keys []string
	}{
		{"one", []string{"intro:abc"}},
		{"many", []string{"intro:a", "jwt:b", "client:c"}},
		{"odd bytes", []string{"k:\x00\n\xff", "", strings.Repeat("x", 300)}},
		{"none", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gotID, keys, err := decodeMessage(string(encodeMessage(id, tc.keys)))
			if err != nil || gotID != id || !slices.Equal(keys, tc.keys) {
				t.Fatalf("decode = %v, %q, %v; want %v, %q", gotID, keys, err, id, tc.keys)
			}
		})
	}
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add(string(encodeMessage([idLen]byte{}, []string{"intro:a", "b"})))
	f.Add("\x01\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")
	f.Add("")
	f.Fuzz(func(t *testing.T, p string) {
		id, keys, err := decodeMessage(p)
		if err != nil {
			return
		}
		// Whatever decodes survives a round trip unchanged.
		id2, keys2, err := decodeMessage(string(encodeMessage(id, keys)))
		if err != nil || id2 != id || !slices.Equal(keys2, keys) {
			t.Fatalf("round trip of %q: %v, %q, %v", p, id2, keys2, err)
		}
	})
}
