// RFC 8693 token exchange as an oauth4webapi v3 developer would use it
// (genericTokenEndpointRequest): service B hands its token to service A,
// which exchanges it, with its own token as the actor token, for a token
// for one API; the API's resource server, on the same library, validates
// the result as an RFC 9068 JWT access token and reads its act claim.
//
// Argument: JSON {issuer, a_id, a_secret, b_id, b_secret, api}.
// Prints one JSON line: {issued_token_type, token_type, claims, bad_subject, error}.
import * as oauth from 'oauth4webapi';

const spec = JSON.parse(process.argv[2]);
const issuer = new URL(spec.issuer);
const insecure = { [oauth.allowInsecureRequests]: true };
const grantType = 'urn:ietf:params:oauth:grant-type:token-exchange';
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';
const out = {};

try {
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  const a = { client_id: spec.a_id }, b = { client_id: spec.b_id };
  const authA = oauth.ClientSecretBasic(spec.a_secret), authB = oauth.ClientSecretBasic(spec.b_secret);
  const own = async (client, auth) => (await oauth.processClientCredentialsResponse(as, client,
    await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: 'read' }, insecure))).access_token;
  const subject = await own(b, authB);
  const actor = await own(a, authA);
  const exchange = async (subjectToken) => oauth.processGenericTokenEndpointResponse(as, a,
    await oauth.genericTokenEndpointRequest(as, a, authA, grantType, {
      subject_token: subjectToken, subject_token_type: accessTokenType,
      actor_token: actor, actor_token_type: accessTokenType, audience: spec.api,
    }, insecure));
  const res = await exchange(subject);
  out.issued_token_type = res.issued_token_type ?? null;
  out.token_type = res.token_type;
  const request = new Request('http://127.0.0.1/resource', { headers: { authorization: `Bearer ${res.access_token}` } });
  out.claims = await oauth.validateJwtAccessToken(as, request, spec.api, insecure);
  try {
    await exchange('not-a-token');
    out.bad_subject = 'accepted';
  } catch (e) {
    out.bad_subject = { name: e.name, error: e.error ?? null, status: e.status ?? null };
  }
} catch (e) {
  out.error = `${e.name}: ${e.message} ${e.code ?? ''} ${JSON.stringify(e.cause ?? null)}`;
}
console.log(JSON.stringify(out));
