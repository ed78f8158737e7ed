package keys

// Key-derivation labels: every key authd derives from the master key, one
// constant each. The strings are part of the stored and issued state (a
// sealed signing key, an opaque token's tag, a CSRF form, a Redis value, a
// limiter key): changing one invalidates what was made under it on every
// replica at once, so they never change (TestLabelsAreStable).
const (
	LabelSigningKeys  = "signing keys"          // seals signing keys at rest
	LabelRedisCache   = "redis cache"           // seals values in Redis
	LabelTokenTag     = "opaque token tag"      // tags opaque access and refresh tokens
	LabelCSRF         = "csrf"                  // CSRF tokens and, below it, device cookies
	LabelLimiterNames = "limiter account names" // names accounts in limiter keys
	LabelDecoyParams  = "decoy params"          // picks decoy Argon2 parameters per name
	LabelClientSecret = "client secrets"        // seals client_secret_jwt secrets at rest
	LabelDPoPNonces   = "dpop nonces"           // derives server-supplied DPoP nonces
	LabelTokenSeal    = "opaque token seal"     // encrypts sealed opaque access tokens
)

// Labels lists every label, for the test that they stay distinct and stable.
var Labels = []string{LabelSigningKeys, LabelRedisCache, LabelTokenTag, LabelCSRF, LabelLimiterNames, LabelDecoyParams, LabelClientSecret, LabelDPoPNonces, LabelTokenSeal}

// Derived holds every data key serve uses (LoadDataKeys).
type Derived struct {
	SigningKeys, RedisCache, TokenTag, CSRF, LimiterNames, DecoyParams, ClientSecrets, DPoPNonces, TokenSeal []byte
}
