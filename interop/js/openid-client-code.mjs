// A server-side web app as its developer would write it with openid-client
// v6: a confidential client signing a person in with the authorization code
// flow and PKCE, then userinfo, refresh and RP-initiated logout. The browser
// part (authd's login form) is the Go test's; this script runs twice:
//
//   {phase: "start", issuer, id, secret, redirect_uri}
//     prints {url, verifier, state, nonce}: where to send the browser
//   {phase: "finish", issuer, id, secret, callback, verifier, state, nonce, post_logout_redirect_uri}
//     redeems the callback URL and prints what it got, with end_session_url.
import * as client from 'openid-client';

const spec = JSON.parse(process.argv[2]);
// The test's authd listens on plain http on loopback.
const config = await client.discovery(new URL(spec.issuer), spec.id, spec.secret, undefined,
  { execute: [client.allowInsecureRequests] });

if (spec.phase === 'start') {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: spec.redirect_uri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  console.log(JSON.stringify({ url: url.href, verifier, state, nonce }));
} else {
  const out = {};
  try {
    // Checks state, the RFC 9207 iss parameter, the id_token's claims and nonce.
    const tokens = await client.authorizationCodeGrant(config, new URL(spec.callback), {
      pkceCodeVerifier: spec.verifier,
      expectedState: spec.state,
      expectedNonce: spec.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    out.claims = claims;
    out.scope = tokens.scope;
    out.userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    out.refreshed = refreshed.refresh_token !== tokens.refresh_token && typeof refreshed.access_token === 'string';
    out.refreshed_claims = refreshed.claims() ?? null;
    // Sign-out on the app's side: revoke its refresh token (RFC 7009 §2.1,
    // with the hint), which then no longer refreshes.
    await client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' });
    try {
      await client.refreshTokenGrant(config, refreshed.refresh_token);
      out.after_revocation = 'accepted';
    } catch (e) {
      out.after_revocation = e.error ?? String(e);
    }
    out.end_session_url = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: spec.post_logout_redirect_uri,
      state: 'signed-out-1',
    }).href;
  } catch (e) {
    out.error = `${e.name}: ${e.message} ${e.code ?? ''} ${JSON.stringify(e.cause ?? null)}`;
  }
  console.log(JSON.stringify(out));
}
