package password

import (
	_ "embed"
	"strings"
	"sync"
)

// commonPasswordsTxt is SecLists' 10k-most-common.txt (MIT licence): one
// password a line, most common first. COMMON-PASSWORDS-SOURCE.md says where
// exactly it comes from.
//
//go:embed common-passwords.txt
var commonPasswordsTxt string

// commonPasswords is the list as a set of lower-cased entries. It is built on
// first use, not in init, so binaries and tests that never check a policy do
// not pay for it (about 10,000 map entries sharing the embedded text).
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 10000)
	for line := range strings.Lines(commonPasswordsTxt) {
		if w := strings.TrimRight(line, "\r\n"); w != "" {
			set[strings.ToLower(w)] = struct{}{}
		}
	}
	return set
})
