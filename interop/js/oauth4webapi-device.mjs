// A device (a TV app, a CLI) as its developer would write it with
// oauth4webapi v3, a public client of the device authorization grant
// (RFC 8628). The person's part (authd's verification page) is the Go
// test's; this script runs twice:
//
//   {phase: "start", issuer, id}
//     asks for codes (§3.1), polls once before anyone approved (§3.5)
//     prints {device_code, user_code, verification_uri, verification_uri_complete,
//             expires_in, interval, pending}
//   {phase: "finish", issuer, id, device_code}
//     polls as §3.5 says (honouring interval and slow_down) until it has tokens
//     prints {token_type, claims, scope, refresh, error}
import * as oauth from 'oauth4webapi';

const spec = JSON.parse(process.argv[2]);
const issuer = new URL(spec.issuer);
// The test's authd listens on plain http on loopback.
const insecure = { [oauth.allowInsecureRequests]: true };
const out = {};
const sleep = (s) => new Promise((resolve) => setTimeout(resolve, s * 1000));

try {
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  const client = { client_id: spec.id };
  const clientAuth = oauth.None();

  if (spec.phase === 'start') {
    const da = await oauth.processDeviceAuthorizationResponse(as, client,
      await oauth.deviceAuthorizationRequest(as, client, clientAuth, new URLSearchParams({ scope: 'openid profile' }), insecure));
    Object.assign(out, da);
    try {
      await oauth.processDeviceCodeResponse(as, client,
        await oauth.deviceCodeGrantRequest(as, client, clientAuth, da.device_code, insecure));
      out.pending = 'tokens before approval';
    } catch (e) {
      out.pending = e.error ?? `${e.name}: ${e.message}`;
    }
  } else {
    let interval = spec.interval ?? 5;
    for (let i = 0; i < 30; i++) {
      try {
        const tokens = await oauth.processDeviceCodeResponse(as, client,
          await oauth.deviceCodeGrantRequest(as, client, clientAuth, spec.device_code, insecure));
        out.token_type = tokens.token_type;
        out.scope = tokens.scope;
        out.refresh = typeof tokens.refresh_token === 'string';
        out.claims = oauth.getValidatedIdTokenClaims(tokens);
        break;
      } catch (e) {
        if (e.error === 'slow_down') interval += 5;
        else if (e.error !== 'authorization_pending') throw e;
        await sleep(interval);
      }
    }
  }
} catch (e) {
  out.error = `${e.name}: ${e.message} ${e.error ?? ''} ${e.code ?? ''}`;
}
console.log(JSON.stringify(out));
