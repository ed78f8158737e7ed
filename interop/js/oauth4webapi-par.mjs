// A confidential web app as its developer would write it with oauth4webapi
// v3: it pushes its authorization request (RFC 9126) with private_key_jwt
// (RFC 7523) and a DPoP proof (RFC 9449 §10.1), sends the browser with only
// client_id and the request_uri, then redeems the callback with
// oauth4webapi's checks (state, the RFC 9207 iss parameter, id_token, nonce)
// and the same DPoP key. The browser part (authd's login form) is the Go
// test's; this script runs twice, its keys handed in as JWKs:
//
//   {phase: "start", issuer, id, client_jwk, dpop_jwk, dpop_pub}
//     prints {url, request_uri, expires_in, verifier, state, nonce, reused}
//   {phase: "finish", issuer, id, client_jwk, dpop_jwk, dpop_pub, callback, verifier, state, nonce}
//     prints {token_type, claims, error}
import * as oauth from 'oauth4webapi';

const spec = JSON.parse(process.argv[2]);
const issuer = new URL(spec.issuer);
// The test's authd listens on plain http on loopback.
const insecure = { [oauth.allowInsecureRequests]: true };
const out = {};

// Retries once when the server asks for a DPoP nonce (RFC 9449 §8).
async function withNonceRetry(fn) {
  try {
    return await fn();
  } catch (e) {
    if (oauth.isDPoPNonceError(e)) return fn();
    throw e;
  }
}

const importKey = (jwk, usages) => crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, usages);

try {
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  const client = { client_id: spec.id };
  const clientAuth = oauth.PrivateKeyJwt({ key: await importKey(spec.client_jwk, ['sign']), kid: spec.client_jwk.kid });
  const dpopKeys = { privateKey: await importKey(spec.dpop_jwk, ['sign']), publicKey: await crypto.subtle.importKey('jwk', spec.dpop_pub, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']) };
  const DPoP = oauth.DPoP(client, dpopKeys);

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
    Object.assign(out, { url: url.href, request_uri: par.request_uri, expires_in: par.expires_in, verifier, state, nonce });
    // A request_uri in the push is refused (RFC 9126 §2.1).
    const bad = new URLSearchParams(params);
    bad.set('request_uri', par.request_uri);
    try {
      await withNonceRetry(async () => oauth.processPushedAuthorizationResponse(as, client,
        await oauth.pushedAuthorizationRequest(as, client, clientAuth, bad, { ...insecure, DPoP })));
      out.request_uri_pushed = 'accepted';
    } catch (e) {
      out.request_uri_pushed = e.error ?? `${e.name}: ${e.message}`;
    }
  } else {
    // Checks iss (RFC 9207, advertised) and state.
    const callbackParams = oauth.validateAuthResponse(as, client, new URL(spec.callback), spec.state);
    const tokens = await withNonceRetry(async () => oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, callbackParams, spec.redirect_uri, spec.verifier, { ...insecure, DPoP }),
      { expectedNonce: spec.nonce, requireIdToken: true }));
    out.token_type = tokens.token_type;
    out.claims = oauth.getValidatedIdTokenClaims(tokens);
  }
} catch (e) {
  out.error = `${e.name}: ${e.message} ${e.code ?? ''} ${JSON.stringify(e.cause ?? null)}`;
}
console.log(JSON.stringify(out));
