// A secretless client as its developer would write it with oauth4webapi v3,
// which follows the RFCs strictly: it registers itself with an initial access
// token (RFC 7591), authenticates with private_key_jwt (RFC 7523), gets a
// DPoP-bound access token (RFC 9449), and a resource server built on the same
// library checks it (RFC 9068 + RFC 9449: the token and a proof of its key).
// A thief holding the token but not the key is refused, as Bearer and with a
// proof of another key; the authorization server's introspection shows the
// binding to a resource server that asks it instead.
//
// Argument: JSON {issuer, initial_access_token, rs_client_id, rs_client_secret}.
// Prints one JSON line: {registered, token_type, jwt_cnf, introspection,
// rs_owner, rs_bearer, rs_thief, replayed_assertion, error}.
import * as oauth from 'oauth4webapi';
import http from 'node:http';

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

try {
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));

  // RFC 7591 registration with keys instead of a secret.
  const clientKeys = await oauth.generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await crypto.subtle.exportKey('jwk', clientKeys.publicKey)), kid: 'client-1', alg: 'ES256', use: 'sig' };
  const regResponse = await oauth.dynamicClientRegistrationRequest(as, {
    client_name: 'oauth4webapi agent',
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [jwk] },
    scope: 'read',
    dpop_bound_access_tokens: true,
  }, { ...insecure, initialAccessToken: spec.initial_access_token });
  const client = await oauth.processDynamicClientRegistrationResponse(regResponse);
  out.registered = { client_id: client.client_id, has_secret: 'client_secret' in client, registration_client_uri: client.registration_client_uri };

  const clientAuth = oauth.PrivateKeyJwt({ key: clientKeys.privateKey, kid: 'client-1' });
  const dpopKeys = await oauth.generateKeyPair('ES256');
  const DPoP = oauth.DPoP(client, dpopKeys);
  const tokens = await withNonceRetry(async () => oauth.processClientCredentialsResponse(as, client,
    await oauth.clientCredentialsGrantRequest(as, client, clientAuth, { scope: 'read' }, { ...insecure, DPoP })));
  out.token_type = tokens.token_type;

  // A resource server on loopback that checks tokens with the same library.
  const rs = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const url = new URL(req.url, `http://127.0.0.1:${rs.address().port}`);
    const request = new Request(url, { method: req.method, headers: req.headers });
    try {
      const claims = await oauth.validateJwtAccessToken(as, request, as.issuer, insecure);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, cnf: claims.cnf ?? null }));
    } catch (e) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: `${e.name}: ${e.message}` }));
    }
  });
  await new Promise((resolve) => rs.listen(0, '127.0.0.1', resolve));
  const rsURL = `http://127.0.0.1:${rs.address().port}/resource`;
  const call = async (headers) => {
    const r = await fetch(rsURL, { headers });
    return r.json();
  };

  // The owner: oauth4webapi's protected resource request with its DPoP key.
  const owner = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(rsURL), new Headers(), null, { ...insecure, DPoP });
  out.rs_owner = await owner.json();
  out.jwt_cnf = out.rs_owner.cnf;
  // A thief with the token only: as a bearer token, and with a proof of its own key.
  out.rs_bearer = await call({ authorization: `Bearer ${tokens.access_token}` });
  const thiefKeys = await oauth.generateKeyPair('ES256');
  const thief = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(rsURL), new Headers(), null,
    { ...insecure, DPoP: oauth.DPoP(client, thiefKeys) });
  out.rs_thief = await thief.json();
  rs.close();

  // A resource server that introspects instead (RFC 7662) sees the binding.
  const rsClient = { client_id: spec.rs_client_id };
  out.introspection = await oauth.processIntrospectionResponse(as, rsClient,
    await oauth.introspectionRequest(as, rsClient, oauth.ClientSecretBasic(spec.rs_client_secret), tokens.access_token, insecure));

  // The same assertion twice: its jti is single-use (RFC 7523 §3, OIDC Core §9).
  let assertion;
  const capture = oauth.PrivateKeyJwt({ key: clientKeys.privateKey, kid: 'client-1' }, {
    [oauth.modifyAssertion]: (header, payload) => { assertion = payload; },
  });
  await withNonceRetry(async () => oauth.processClientCredentialsResponse(as, client,
    await oauth.clientCredentialsGrantRequest(as, client, capture, { scope: 'read' }, { ...insecure, DPoP })));
  const replay = oauth.PrivateKeyJwt({ key: clientKeys.privateKey, kid: 'client-1' }, {
    [oauth.modifyAssertion]: (header, payload) => { Object.assign(payload, { jti: assertion.jti }); },
  });
  try {
    await withNonceRetry(async () => oauth.processClientCredentialsResponse(as, client,
      await oauth.clientCredentialsGrantRequest(as, client, replay, { scope: 'read' }, { ...insecure, DPoP })));
    out.replayed_assertion = 'accepted';
  } catch (e) {
    // authd answers every invalid_client with 401 and a challenge (RFC 9110
    // §15.5.2), which oauth4webapi reports without reading the body.
    const body = e.error ? { error: e.error } : await e.response?.json().catch(() => null);
    out.replayed_assertion = { name: e.name, error: body?.error ?? null, status: e.status ?? null };
  }
} catch (e) {
  out.error = `${e.name}: ${e.message} ${e.code ?? ''} ${JSON.stringify(e.cause ?? null)}`;
}
console.log(JSON.stringify(out));
