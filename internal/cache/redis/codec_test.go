package redis

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func testCaches(t testing.TB) map[string]*Cache {
	clear, err := newCache(Options{})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := newCache(Options{EncryptionKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*Cache{"clear": clear, "sealed": sealed}
}

func TestCodecRoundTrip(t *testing.T) {
	exp := time.Now().Add(time.Minute).UnixMilli()
	for name, c := range testCaches(t) {
		for _, v := range [][]byte{nil, {}, []byte("v"), bytes.Repeat([]byte{0, 0xff}, 1000)} {
			raw := c.encode("p:intro:k", v, exp)
			e, err := c.decode("p:intro:k", raw)
			if err != nil {
				t.Fatalf("%s: decode: %v", name, err)
			}
			if e.Value == nil || !bytes.Equal(e.Value, v) || e.Expires.UnixMilli() != exp {
				t.Fatalf("%s: round trip of %q = %q (nil %v), expires %v", name, v, e.Value, e.Value == nil, e.Expires)
			}
			if _, err := c.decode("p:intro:other", raw); name == "sealed" && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("sealed value opened under another key: %v", err)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	cs := testCaches(f)
	f.Add([]byte{}, "k")
	f.Add(cs["clear"].encode("k", []byte("v"), 1), "k")
	f.Add(cs["sealed"].encode("k", []byte("v"), 1), "k")
	f.Fuzz(func(t *testing.T, raw []byte, key string) {
		for name, c := range cs {
			e, err := c.decode(key, raw)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s: error %v does not wrap ErrCorrupt", name, err)
				}
				continue
			}
			if e.Value == nil {
				t.Fatalf("%s: decoded a nil value", name)
			}
		}
	})
}
