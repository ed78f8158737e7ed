// A single-page app as its developer would write it with oauth4webapi: a
// public client (no secret) on its own web origin, authorization code flow
// with PKCE (S256), then every later call by fetch from this origin, so each
// one works only if authd answers CORS correctly.
//
// /config.json (served by the Go test) says which issuer and client to use
// and what to do ("login", or "refused": probe the endpoints from an origin no
// client allows). The outcome is written as JSON into <pre id="result">,
// which gets data-done when it is final.
import * as oauth from '/oauth4webapi.js';

const out = document.getElementById('result');
function finish(value) {
  out.textContent = JSON.stringify(value);
  out.dataset.done = '1';
}

// The test's authd listens on plain http on loopback.
const insecure = { [oauth.allowInsecureRequests]: true };

async function main() {
  const cfg = await (await fetch('/config.json')).json();
  const issuer = new URL(cfg.issuer);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }),
  );
  const client = { client_id: cfg.client_id };
  const clientAuth = oauth.None();

  if (cfg.mode === 'refused') {
    return finish(await probeRefused(as, client, cfg));
  }

  const here = new URL(location.href);
  if (!here.searchParams.has('code') && !here.searchParams.has('error')) {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    sessionStorage.setItem('login', JSON.stringify({ verifier, state, nonce }));
    const authz = new URL(as.authorization_endpoint);
    authz.searchParams.set('client_id', client.client_id);
    authz.searchParams.set('redirect_uri', cfg.redirect_uri);
    authz.searchParams.set('response_type', 'code');
    authz.searchParams.set('scope', 'openid profile email');
    authz.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    authz.searchParams.set('code_challenge_method', 'S256');
    authz.searchParams.set('state', state);
    authz.searchParams.set('nonce', nonce);
    location.assign(authz.href);
    return;
  }

  const { verifier, state, nonce } = JSON.parse(sessionStorage.getItem('login'));
  sessionStorage.removeItem('login');
  const params = oauth.validateAuthResponse(as, client, here, state);
  const tokenResponse = await oauth.authorizationCodeGrantRequest(
    as, client, clientAuth, params, cfg.redirect_uri, verifier, insecure);
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenResponse, {
    expectedNonce: nonce,
    requireIdToken: true,
  });
  // The id_token's signature, against the keys at jwks_uri (fetched from here).
  await oauth.validateApplicationLevelSignature(as, tokenResponse, insecure);
  const claims = oauth.getValidatedIdTokenClaims(tokens);

  // A bearer token in Authorization: the browser preflights this.
  const userinfo = await oauth.processUserInfoResponse(as, client, claims.sub,
    await oauth.userInfoRequest(as, client, tokens.access_token, insecure));

  const refreshed = await oauth.processRefreshTokenResponse(as, client,
    await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, insecure));

  // Sign-out as an app does it: revoke the refresh token; it then no longer works.
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token, insecure));
  let afterRevocation;
  try {
    await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshed.refresh_token, insecure));
    afterRevocation = 'accepted';
  } catch (e) {
    afterRevocation = e.error ?? String(e);
  }

  // Replaying the code is refused with an error the script can read (CORS on
  // failures too), and revokes what the code gave (RFC 6749 §4.1.2).
  let replay;
  try {
    await oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, cfg.redirect_uri, verifier, insecure),
      { expectedNonce: nonce, requireIdToken: true });
    replay = 'accepted';
  } catch (e) {
    replay = e.error ?? `${e.name}: ${e.message}`;
  }
  // userinfo now refuses the access token with an RFC 6750 challenge, which
  // the script sees only if WWW-Authenticate is an exposed header.
  let userinfoAfterReplay;
  try {
    await oauth.processUserInfoResponse(as, client, claims.sub,
      await oauth.userInfoRequest(as, client, tokens.access_token, insecure));
    userinfoAfterReplay = 'accepted';
  } catch (e) {
    userinfoAfterReplay = { name: e.name, status: e.status, challenges: e.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE' ? e.cause : null };
  }

  finish({
    ok: true,
    replay,
    userinfo_after_replay: userinfoAfterReplay,
    page: location.origin + location.pathname,
    issuer: as.issuer,
    access_token: tokens.access_token,
    token_type: tokens.token_type,
    id_token_claims: claims,
    userinfo,
    refreshed: typeof refreshed.access_token === 'string' && refreshed.refresh_token !== tokens.refresh_token,
    after_revocation: afterRevocation,
  });
}

// probeRefused calls the endpoints from an origin no client allows: the
// public documents stay readable, the rest must not be.
async function probeRefused(as, client, cfg) {
  const attempt = async (request) => {
    try {
      const r = await request();
      return `readable ${r.status}`;
    } catch (e) {
      return e.name; // TypeError: the browser withheld the response
    }
  };
  return {
    ok: true,
    issuer: as.issuer,
    jwks: await attempt(() => fetch(as.jwks_uri)),
    token: await attempt(() => fetch(as.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code: 'not-a-code', client_id: client.client_id,
        redirect_uri: cfg.redirect_uri, code_verifier: oauth.generateRandomCodeVerifier(),
      }),
    })),
    userinfo: await attempt(() => fetch(as.userinfo_endpoint, {
      headers: { authorization: 'Bearer not-a-token' },
    })),
  };
}

main().catch((e) => finish({ ok: false, error: String(e), code: e.code, cause: e.cause }));
