// RFC 8707 resource indicators as an oauth4webapi v3 developer would use
// them: a service asks for a token for one API (resource at the token
// endpoint), and a resource server built on the same library validates it
// as an RFC 9068 JWT access token whose aud must be that API. A token for
// another audience is refused by that server.
//
// Argument: JSON {issuer, client_id, client_secret, resource, other}.
// Prints one JSON line: {token_scope, own, without_resource, for_other, bad_target, error}.
import * as oauth from 'oauth4webapi';

const spec = JSON.parse(process.argv[2]);
const issuer = new URL(spec.issuer);
// The test's authd listens on plain http on loopback.
const insecure = { [oauth.allowInsecureRequests]: true };
const out = {};

// validate is what the resource server for audience does with a token.
async function validate(token, audience) {
  const request = new Request('http://127.0.0.1/resource', { headers: { authorization: `Bearer ${token}` } });
  try {
    const claims = await oauth.validateJwtAccessToken(as, request, audience, insecure);
    return { ok: true, aud: claims.aud, scope: claims.scope ?? null };
  } catch (e) {
    return { ok: false, error: `${e.name}: ${e.message}` };
  }
}

let as;
try {
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  const client = { client_id: spec.client_id };
  const auth = oauth.ClientSecretBasic(spec.client_secret);
  const grant = async (params) => oauth.processClientCredentialsResponse(as, client,
    await oauth.clientCredentialsGrantRequest(as, client, auth, params, insecure));

  const forAPI = await grant({ resource: spec.resource });
  out.token_scope = forAPI.scope ?? null;
  out.own = await validate(forAPI.access_token, spec.resource);
  const plain = await grant({});
  out.without_resource = await validate(plain.access_token, spec.resource);
  const forOther = await grant({ resource: spec.other });
  out.for_other = await validate(forOther.access_token, spec.resource);
  try {
    await grant({ resource: 'https://unknown.example/' });
    out.bad_target = 'accepted';
  } catch (e) {
    out.bad_target = { name: e.name, error: e.error ?? null, status: e.status ?? null };
  }
} catch (e) {
  out.error = `${e.name}: ${e.message} ${e.code ?? ''} ${JSON.stringify(e.cause ?? null)}`;
}
console.log(JSON.stringify(out));
