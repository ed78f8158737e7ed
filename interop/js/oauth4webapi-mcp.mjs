// An MCP client as the MCP authorization spec has it, on oauth4webapi v3: it
// has never met this authorization server, so its client_id is the https
// URL of its Client ID Metadata Document; it is a public client (PKCE S256,
// no secret) and names the MCP server it wants a token for with a resource
// indicator (RFC 8707) at the authorization and token endpoints; the MCP
// server, on the same library, validates the token as an RFC 9068 JWT whose
// aud is itself. The browser part (login and consent) is the Go test's.
//
//   {phase: "start", issuer, client_id, redirect_uri, resource}
//     prints {url, verifier, state, cimd}
//   {phase: "finish", ..., callback, verifier, state}
//     prints {claims, refreshed_aud, other_aud, error}
import * as oauth from 'oauth4webapi';

const spec = JSON.parse(process.argv[2]);
const issuer = new URL(spec.issuer);
const insecure = { [oauth.allowInsecureRequests]: true }; // authd on plain http on loopback
const out = {};

async function validate(as, token, audience) {
  const request = new Request('http://127.0.0.1/mcp', { headers: { authorization: `Bearer ${token}` } });
  try {
    return await oauth.validateJwtAccessToken(as, request, audience, insecure);
  } catch (e) {
    return { error: `${e.name}: ${e.message}` };
  }
}

try {
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  const client = { client_id: spec.client_id };
  const auth = oauth.None();
  if (spec.phase === 'start') {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint);
    for (const [k, v] of Object.entries({
      client_id: client.client_id, redirect_uri: spec.redirect_uri, response_type: 'code', scope: 'mcp:tools', state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', resource: spec.resource,
    })) url.searchParams.set(k, v);
    Object.assign(out, { url: url.href, verifier, state, cimd: as.client_id_metadata_document_supported ?? false });
  } else {
    const params = oauth.validateAuthResponse(as, client, new URL(spec.callback), spec.state);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, params, spec.redirect_uri, spec.verifier,
        { ...insecure, additionalParameters: { resource: spec.resource } }));
    out.claims = await validate(as, tokens.access_token, spec.resource);
    out.other_aud = await validate(as, tokens.access_token, 'https://other-mcp.example/');
    const refreshed = await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token, insecure));
    out.refreshed_aud = (await validate(as, refreshed.access_token, spec.resource)).aud ?? null;
  }
} catch (e) {
  out.error = `${e.name}: ${e.message} ${e.code ?? ''} ${JSON.stringify(e.cause ?? null)}`;
}
console.log(JSON.stringify(out));
