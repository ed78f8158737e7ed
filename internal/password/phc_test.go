package password

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// referenceVectors were made by the reference implementation's CLI (Debian
// package argon2 0~20171227), e.g.
//
//	echo -n "correct horse battery staple" | argon2 authd-saltsalt16 -id -t 2 -k 19456 -p 1 -l 32 -e
//
// so they pin our encoding and parameter handling to the reference's, not
// just to our own round trip.
var referenceVectors = []struct {
	password, encoded string
	params            Params
}{
	{
		"correct horse battery staple",
		"$argon2id$v=19$m=19456,t=2,p=1$YXV0aGQtc2FsdHNhbHQxNg$vPOo25tj943IvuxUjLIS2SHK+v0iwUV0b/99KwJp3TU",
		Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32},
	},
	{
		"password",
		"$argon2id$v=19$m=64,t=1,p=2$c29tZXNhbHRTT01FU0FMVA$R3u7hWQc1Yrs53iH1gCSag",
		Params{Memory: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 16},
	},
	{
		"p\u00e4ss w\u00f6rd", // printf 'p\xc3\xa4ss w\xc3\xb6rd' | argon2 saltysaltysalty! -id -t 3 -k 256 -p 4 -l 64 -e
		"$argon2id$v=19$m=256,t=3,p=4$c2FsdHlzYWx0eXNhbHR5IQ$AMD8pKR910CTetdR9XUYA5h9N467OJ25NsOSirVWDZM1sLTGOzWnfx+Wpn0+9KUgTF72SjEzR/fBsZPVYCu95A",
		Params{Memory: 256, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 64},
	},
}

func TestParsePHCReferenceVectors(t *testing.T) {
	for _, v := range referenceVectors {
		t.Run(v.password, func(t *testing.T) {
			h, err := parsePHC(v.encoded)
			if err != nil {
				t.Fatalf("parsePHC: %v", err)
			}
			if h.params != v.params {
				t.Errorf("params = %+v, want %+v", h.params, v.params)
			}
			if got := encodePHC(h.params, h.salt, h.key); got != v.encoded {
				t.Errorf("re-encoded\n got %s\nwant %s", got, v.encoded)
			}
		})
	}
}

func TestPHCRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		params Params
	}{
		{"defaults", DefaultParams()},
		{"minimums", Params{Memory: 8, Time: 1, Threads: 1, SaltLen: minSaltLen, KeyLen: minKeyLen}},
		{"maximums", Params{Memory: maxMemoryKiB, Time: maxTime, Threads: maxThreads, SaltLen: maxSaltLen, KeyLen: maxKeyLen}},
		{"odd lengths", Params{Memory: 1000, Time: 3, Threads: 3, SaltLen: 17, KeyLen: 33}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			salt := bytes.Repeat([]byte{0xfb}, int(tc.params.SaltLen))
			key := bytes.Repeat([]byte{0xff}, int(tc.params.KeyLen))
			s := encodePHC(tc.params, salt, key)
			if len(s) > maxEncodedLen {
				t.Fatalf("encoded length %d > maxEncodedLen %d", len(s), maxEncodedLen)
			}
			h, err := parsePHC(s)
			if err != nil {
				t.Fatalf("parsePHC(%q): %v", s, err)
			}
			if h.params != tc.params || !bytes.Equal(h.salt, salt) || !bytes.Equal(h.key, key) {
				t.Errorf("round trip of %q = %+v", s, h)
			}
		})
	}
}

func TestParsePHCRejects(t *testing.T) {
	const salt, key = "YXV0aGQtc2FsdHNhbHQxNg", "vPOo25tj943IvuxUjLIS2SHK+v0iwUV0b/99KwJp3TU"
	ok := "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key
	if _, err := parsePHC(ok); err != nil {
		t.Fatalf("baseline rejected: %v", err)
	}
	tests := []struct {
		name, in string
	}{
		{"empty", ""},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"no version (0x10)", "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key},
		{"version 16", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key},
		{"params out of order", "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key},
		{"extra param", "$argon2id$v=19$m=19456,t=2,p=1,keyid=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key},
		{"plus sign", "$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key},
		{"negative", "$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key},
		{"uint32 overflow", "$argon2id$v=19$m=4294967296,t=2,p=1$" + salt + "$" + key},
		{"memory 4 GiB", "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key},
		{"memory over cap", "$argon2id$v=19$m=131073,t=2,p=1$" + salt + "$" + key},
		{"memory under 8p", "$argon2id$v=19$m=31,t=2,p=4$" + salt + "$" + key},
		{"time 0", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key},
		{"time over cap", "$argon2id$v=19$m=19456,t=11,p=1$" + salt + "$" + key},
		{"threads 0", "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key},
		{"threads 256", "$argon2id$v=19$m=19456,t=2,p=256$" + salt + "$" + key},
		{"threads over cap", "$argon2id$v=19$m=19456,t=2,p=17$" + salt + "$" + key},
		{"salt too short", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key},
		{"salt too long", "$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("A", 87) + "$" + key},
		{"key too short", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$AAAAAAAAAAAAAAAAAAAA"},
		{"missing key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt},
		{"empty key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$"},
		{"extra field", ok + "$AAAA"},
		{"padded base64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key},
		{"newline in base64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt[:8] + "\n" + salt[8:] + "$" + key},
		{"url base64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.NewReplacer("+", "-", "/", "_").Replace(key)},
		{"non-canonical trailing bits", "$argon2id$v=19$m=19456,t=2,p=1$" + salt[:len(salt)-1] + "h$" + key},
		{"impossible base64 length", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "AAA$" + key},
		{"space", " " + ok},
		{"too long", ok + strings.Repeat("A", maxEncodedLen)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parsePHC(tc.in)
			if !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("parsePHC(%q) = %+v, %v; want ErrInvalidHash", tc.in, h, err)
			}
		})
	}
}

// FuzzParsePHC checks that the parser never panics, that whatever it accepts
// is within bounds (so Verify cannot be made to allocate without limit), and
// that it accepts only canonical strings: parse then encode gives the input.
func FuzzParsePHC(f *testing.F) {
	for _, v := range referenceVectors {
		f.Add(v.encoded)
	}
	f.Add(encodePHC(DefaultParams(), make([]byte, 16), make([]byte, 32)))
	f.Add("$argon2id$v=19$m=4294967295,t=4294967295,p=255$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG")
	f.Add("$argon2i$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$$")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("error %v does not match ErrInvalidHash", err)
			}
			return
		}
		if err := h.params.Validate(); err != nil {
			t.Fatalf("accepted out-of-bounds %q: %v", s, err)
		}
		if int(h.params.SaltLen) != len(h.salt) || int(h.params.KeyLen) != len(h.key) {
			t.Fatalf("lengths disagree: %+v", h)
		}
		if got := encodePHC(h.params, h.salt, h.key); got != s {
			t.Fatalf("non-canonical input accepted:\n in  %q\n out %q", s, got)
		}
	})
}

func BenchmarkParsePHC(b *testing.B) {
	s := referenceVectors[0].encoded
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parsePHC(s); err != nil {
			b.Fatal(err)
		}
	}
}
