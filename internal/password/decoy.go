package password

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"slices"
)

// Census describes the stored hashes: the population an unknown username
// must be indistinguishable from.
type Census struct {
	// Counts are how many stored hashes were made with each Params.
	Counts map[Params]int
	// Key keys the HMAC by which a name is assigned a group. Every replica
	// needs the same one (derive it from the master key): an unknown name
	// whose cost changed from one replica, or one restart, to the next
	// would stand out against a real one, whose cost never does. It must be
	// secret, or whoever knows it could predict each unknown name's group
	// and spot the real users whose cost differs. Nil: the Hasher's own
	// random key, fine for one process.
	Key []byte
}

// ParamsOf returns the parameters recorded in a stored PHC string, for a
// Census. Errors: ErrInvalidHash (wrapped) when encoded is not a hash Verify
// would accept.
func ParamsOf(encoded string) (Params, error) {
	h, err := parsePHC(encoded)
	if err != nil {
		return Params{}, err
	}
	return h.params, nil
}

// decoys is the table VerifyDecoy draws from: one group per parameter set of
// the census, in a fixed order, each with a cumulative weight.
type decoys struct {
	key    []byte
	groups []decoyGroup
	total  uint64
}

type decoyGroup struct {
	params Params
	upTo   uint64 // cumulative weight: names drawing below it (and at or above the previous group's) land here
	hash   string // PHC string at params that no password matches
}

// newDecoys builds the table for c. Groups are ordered by their parameters,
// not by map order, so every replica with the same census and key draws the
// same group for the same name.
func newDecoys(c Census, defaultKey []byte) *decoys {
	ps := make([]Params, 0, len(c.Counts))
	for p, n := range c.Counts {
		if n > 0 && p.Validate() == nil {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b Params) int {
		return cmp.Or(cmp.Compare(a.Memory, b.Memory), cmp.Compare(a.Time, b.Time), cmp.Compare(a.Threads, b.Threads),
			cmp.Compare(a.SaltLen, b.SaltLen), cmp.Compare(a.KeyLen, b.KeyLen))
	})
	d := &decoys{key: defaultKey, groups: make([]decoyGroup, 0, len(ps))}
	if len(c.Key) > 0 {
		d.key = append([]byte(nil), c.Key...)
	}
	for _, p := range ps {
		d.total += uint64(c.Counts[p])
		d.groups = append(d.groups, decoyGroup{params: p, upTo: d.total, hash: randomHash(p)})
	}
	return d
}

// randomHash is a PHC string at p with a random salt and key: no password
// had to be hashed to make it, since Argon2id output is indistinguishable
// from random bytes, and none matches it.
func randomHash(p Params) string {
	salt := make([]byte, p.SaltLen)
	key := make([]byte, p.KeyLen)
	rand.Read(salt) // never fails: crypto/rand crashes the program instead
	rand.Read(key)
	return encodePHC(p, salt, key)
}

// SetCensus makes later decoy verifications cost what verifying the stored
// hashes costs: VerifyDecoy draws its parameters from c.Counts, in
// proportion to the counts. An empty census (no users yet) draws the
// Hasher's own params. Safe to call while other goroutines verify.
func (h *Hasher) SetCensus(c Census) {
	h.decoys.Store(newDecoys(c, h.decoyKey))
}

// DecoyParams returns the parameters VerifyDecoy uses for name: a group of
// the census chosen by an HMAC of name under the decoy key, weighted by the
// group's size. The choice is deterministic, so repeated tries of one
// unknown name always cost the same, as repeated tries of a real one do; and
// the names that land in a group are as many, in proportion, as the users
// in it. Without a census it is Params().
func (h *Hasher) DecoyParams(name string) Params {
	return h.decoyGroup(name).params
}

func (h *Hasher) decoyGroup(name string) decoyGroup {
	d := h.decoys.Load()
	if d == nil || d.total == 0 {
		return decoyGroup{params: h.params, hash: h.dummy}
	}
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte("authd decoy params\x00"))
	m.Write([]byte(name))
	// The modulo bias is below total/2^64: nothing a timing attack can see.
	x := binary.BigEndian.Uint64(m.Sum(nil)) % d.total
	i, _ := slices.BinarySearchFunc(d.groups, x, func(g decoyGroup, x uint64) int {
		if g.upTo <= x {
			return -1
		}
		return 1
	})
	return d.groups[i]
}

// VerifyDecoy does the work of a Verify against a hash no password matches,
// at DecoyParams(name). Call it when the username (name, as typed or
// normalised) is unknown, or when a stored hash is unusable, then answer
// "invalid credentials" as for a wrong password: with a census set, an
// unknown name then takes as long as some real group of users does, however
// many parameter changes the stored hashes have been through. It returns nil
// once the work is done, or ErrBusy as Verify does.
func (h *Hasher) VerifyDecoy(ctx context.Context, password, name string) error {
	_, _, err := h.Verify(ctx, password, h.decoyGroup(name).hash)
	return err
}
