package keys_test

import (
	"encoding/hex"
	"testing"

	"github.com/authd/authd/internal/keys"
)

// The derived keys are part of stored and issued state: a label that changes
// silently invalidates every sealed key, opaque token, CSRF form and cached
// value across the fleet. These are the keys of an all-zero master key.
func TestLabelsAreStable(t *testing.T) {
	want := map[string]string{
		keys.LabelSigningKeys:  "40bd33bdff298d47c2d4c9743280ebba39befd0fc61db8d0f0763914d9f02fd9",
		keys.LabelRedisCache:   "034107ad792cb6b02702634a26b5a30722df156e22cf8df8fc3743ff92eafe1b",
		keys.LabelTokenTag:     "7a2654d4bf24554dfb5df5304625bdc2fbaee4791fc34b20e5ca6b3b95f5bd29",
		keys.LabelCSRF:         "3c4125190af472c3a6cabe7a0cb7d0b6681fa79a6084c6e6828592fc35e2c8b1",
		keys.LabelLimiterNames: "fffad8511c889edabb43ceaefb7d432ea14c6fb0bcd0bc4013894c0b8e344a71",
		keys.LabelDecoyParams:  "d6bba73b11d260de192eb2a1a655ece12fe3ab076f4a1e23b2a070bdfd9ee401",
		keys.LabelClientSecret: "a8b2a11e0530e62bb0ff41b47541f27b5da627b5d6b3facf813c8360e9fc7ea4",
		keys.LabelDPoPNonces:   "96cdd90c9064b6efe553b6de7ff6be7abda330a33821217604f4c49070385bb4",
		keys.LabelTokenSeal:    "30e7e5e310305376c0654247060363990b5bfef68e5851556f445e1f7c29ddc3",
	}
	if len(want) != len(keys.Labels) {
		t.Fatalf("%d distinct labels, %d listed: labels must be distinct and all listed", len(want), len(keys.Labels))
	}
	master := make([]byte, keys.MasterKeySize)
	seen := map[string]bool{}
	for _, l := range keys.Labels {
		k, err := keys.DeriveKey(master, l)
		if err != nil {
			t.Fatal(err)
		}
		got := hex.EncodeToString(k)
		if got != want[l] {
			t.Errorf("label %q derives %s, want %s: the label or the derivation changed", l, got, want[l])
		}
		if seen[got] {
			t.Errorf("label %q derives a key another label derives", l)
		}
		seen[got] = true
	}
}
