// A confidential client as its developer would write it with openid-client v6
// (and jose for a resource server's check of a JWT access token): discovery,
// client_credentials, RFC 7662 introspection, RFC 7009 revocation, and a
// wrong secret, once per client the Go test registered.
//
// Argument: JSON {issuer, clients: [{name, id, secret, auth: "basic"|"post", format: "jwt"|"opaque"}]}.
// Prints one JSON line: {results: [{name, token_type, scope, jwt, introspection,
// after_revocation, wrong_secret, error}]}.
import * as client from 'openid-client';
import * as jose from 'jose';

const spec = JSON.parse(process.argv[2]);
const issuer = new URL(spec.issuer);
// The test's authd listens on plain http on loopback.
const insecure = { execute: [client.allowInsecureRequests] };
const auth = (c, secret) => (c.auth === 'basic' ? client.ClientSecretBasic(secret) : client.ClientSecretPost(secret));

const results = [];
for (const c of spec.clients) {
  const r = { name: c.name };
  results.push(r);
  try {
    const config = await client.discovery(issuer, c.id, undefined, auth(c, c.secret), insecure);
    const md = config.serverMetadata();
    const tokens = await client.clientCredentialsGrant(config, { scope: 'read' });
    r.token_type = tokens.token_type;
    r.scope = tokens.scope;
    r.expires_in = tokens.expiresIn();
    if (c.format === 'jwt') {
      // RFC 9068 §4, as a resource server does it: keys from jwks_uri, typ at+jwt.
      const jwks = jose.createRemoteJWKSet(new URL(md.jwks_uri));
      const { payload, protectedHeader } = await jose.jwtVerify(tokens.access_token, jwks, {
        issuer: md.issuer,
        typ: 'at+jwt',
        algorithms: md.access_token_signing_alg_values_supported,
      });
      r.jwt = { header: protectedHeader, payload };
    }
    r.introspection = await client.tokenIntrospection(config, tokens.access_token);
    await client.tokenRevocation(config, tokens.access_token);
    r.after_revocation = await client.tokenIntrospection(config, tokens.access_token);

    const wrong = await client.discovery(issuer, c.id, undefined, auth(c, c.secret + 'x'), insecure);
    try {
      await client.clientCredentialsGrant(wrong, { scope: 'read' });
      r.wrong_secret = 'accepted';
    } catch (e) {
      // With Basic, RFC 6749 §5.2 wants 401 and a Basic challenge, which
      // openid-client reports as a WWWAuthenticateChallengeError whose body
      // it leaves unread.
      const body = e.error ? { error: e.error } : await e.response?.json().catch(() => null);
      r.wrong_secret = {
        name: e.name, status: e.status, error: body?.error,
        www_authenticate: e.response?.headers.get('www-authenticate') ?? null,
      };
    }
  } catch (e) {
    r.error = `${e.name}: ${e.message} ${e.code ?? ''} ${JSON.stringify(e.cause ?? null)}`;
  }
}
console.log(JSON.stringify({ results }));
