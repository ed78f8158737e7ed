// A FAPI 2.0 client as its developer would write it with oauth4webapi v3:
// pushed authorization requests (RFC 9126) with private_key_jwt whose aud is
// the issuer, PKCE, DPoP (RFC 9449) for the code, the tokens, userinfo and
// the refresh. authd holds the client to its fapi2 security profile. The
// browser part (authd's login form) is the Go test's; this script runs
// twice, its keys handed in as JWKs:
//
//   {phase: "start", issuer, id, redirect_uri, client_jwk, dpop_jwk, dpop_pub}
//     prints {url, verifier, state, nonce}
//   {phase: "finish", ..., callback, verifier, state, nonce}
//     prints {token_type, claims, userinfo, refreshed_type, bearer_userinfo, error}
import * as oauth from 'oauth4webapi';

const spec = JSON.parse(process.argv[2]);
const issuer = new URL(spec.issuer);
const insecure = { [oauth.allowInsecureRequests]: true }; // authd on plain http on loopback
const out = {};

async function withNonceRetry(fn) {
  try {
    return await fn();
  } catch (e) {
    if (oauth.isDPoPNonceError(e)) return fn();
    throw e;
  }
}

const importKey = (jwk, usages, extractable = false) =>
  crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, extractable, usages);

try {
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  const client = { client_id: spec.id };
  const clientAuth = oauth.PrivateKeyJwt({ key: await importKey(spec.client_jwk, ['sign']), kid: spec.client_jwk.kid });
  const DPoP = oauth.DPoP(client, { privateKey: await importKey(spec.dpop_jwk, ['sign']), publicKey: await importKey(spec.dpop_pub, ['verify'], true) });

  if (spec.phase === 'start') {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const params = new URLSearchParams({
      redirect_uri: spec.redirect_uri, response_type: 'code', scope: 'openid profile', state, nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const par = await withNonceRetry(async () => oauth.processPushedAuthorizationResponse(as, client,
      await oauth.pushedAuthorizationRequest(as, client, clientAuth, params, { ...insecure, DPoP })));
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('request_uri', par.request_uri);
    Object.assign(out, { url: url.href, verifier, state, nonce });
  } else {
    const callbackParams = oauth.validateAuthResponse(as, client, new URL(spec.callback), spec.state);
    const tokens = await withNonceRetry(async () => oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, callbackParams, spec.redirect_uri, spec.verifier, { ...insecure, DPoP }),
      { expectedNonce: spec.nonce, requireIdToken: true }));
    out.token_type = tokens.token_type;
    const claims = oauth.getValidatedIdTokenClaims(tokens);
    out.claims = claims;
    // userinfo with the DPoP-bound token and a fresh proof (RFC 9449 §7).
    const ui = await withNonceRetry(async () => oauth.processUserInfoResponse(as, client, claims.sub,
      await oauth.userInfoRequest(as, client, tokens.access_token, { ...insecure, DPoP })));
    out.userinfo = ui;
    // The same token as a bearer token must not work.
    const bearer = await fetch(as.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    out.bearer_userinfo = bearer.status;
    const refreshed = await withNonceRetry(async () => oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, { ...insecure, DPoP })));
    out.refreshed_type = refreshed.token_type;
  }
} catch (e) {
  out.error = `${e.name}: ${e.message} ${e.code ?? ''} ${JSON.stringify(e.cause ?? null)}`;
}
console.log(JSON.stringify(out));
