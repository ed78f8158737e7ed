// A relying party's check of a Back-Channel Logout token (OpenID Connect
// Back-Channel Logout 1.0 §2.6) written with jose, as its developer would:
// the signature against the OP's JWKS, explicit typing (logout+jwt), iss,
// aud, iat/exp, a jti, the back-channel event, a sid, and no nonce.
//
//   {issuer, jwks_uri, client_id, token}
//     prints {header, payload} or {error}
import * as jose from 'jose';

const spec = JSON.parse(process.argv[2]);
const out = {};
try {
  const jwks = jose.createRemoteJWKSet(new URL(spec.jwks_uri));
  const { payload, protectedHeader } = await jose.jwtVerify(spec.token, jwks, {
    issuer: spec.issuer,
    audience: spec.client_id,
    typ: 'logout+jwt',
    requiredClaims: ['iat', 'exp', 'jti', 'events'],
    maxTokenAge: '2m',
  });
  const events = payload.events;
  if (typeof events !== 'object' || events === null ||
      typeof events['http://schemas.openid.net/event/backchannel-logout'] !== 'object') {
    throw new Error('events lacks the back-channel logout event');
  }
  if ('nonce' in payload) {
    throw new Error('a logout token must not carry a nonce');
  }
  if (typeof payload.sid !== 'string' && typeof payload.sub !== 'string') {
    throw new Error('neither sid nor sub');
  }
  out.header = protectedHeader;
  out.payload = payload;
} catch (e) {
  out.error = String(e);
}
console.log(JSON.stringify(out));
