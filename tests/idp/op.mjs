// SPDX-License-Identifier: BSD-3-Clause
// op.mjs - oidc-provider (npm, OpenID Certified) on a free loopback port for
// checkup's integration tests.
//
//   node op.mjs PORTFILE MODE REDIRECT_URI [RP_JWKS_FILE]
//
// Back-channel logout tokens this provider sends to the RP are caught by
// this same server at /rp-backchannel and appended to PORTFILE.bcl, one a
// line, for the test to hand to the RP.
//
// MODE plain:  a generic provider; client "checkup-plain" with
//              client_secret_basic (secret in $CK_OP_SECRET), ES256 ID tokens,
//              and the device authorization grant (RFC 8628).
// MODE fapi:   configured like CorpPass FAPI 2.0: client "checkup-fapi" with
//              private_key_jwt (ES256, the RP's public JWKS from RP_JWKS_FILE),
//              PKCE required, PAR required, DPoP-bound tokens with server
//              nonces, ID token encrypted with ECDH-ES+A256KW + A256GCM to the
//              RP's enc key, the iss response parameter.
// Keys are made at start. The login pages are oidc-provider's own
// (devInteractions): any login name is accepted as the account id.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const [portFile, mode, redirectUri, rpJwksFile] = process.argv.slice(2);
if (!portFile || !['plain', 'fapi'].includes(mode) || !redirectUri) {
  console.error('usage: node op.mjs PORTFILE plain|fapi REDIRECT_URI [RP_JWKS_FILE]');
  process.exit(2);
}

function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: crypto.randomBytes(8).toString('hex'), use: 'sig', alg: 'ES256' };
}

const accounts = {
  alice: { email: 'alice@clinic.example', role: 'doctor', clinic_id: 'c-17' },
  bob: { email: 'bob@clinic.example', role: 'nurse', clinic_id: 'c-18' },
};

// CorpPass FAPI 2.0 shaped claims: sub is the entity (the login name is
// taken as its UEN), act the acting user, sub_account the CorpPass account.
// Made-up test values.
function corppassClaims(uen) {
  return {
    sub: uen,
    sub_attributes: { entity_type: 'UEN', entity_name: 'Test Clinic Pte Ltd' },
    act: { sub: 'a3b2c1d0-0000-4000-8000-000000000001', sub_type: 'user',
      sub_attributes: { identity_number: 'S9000001A', account_type: 'admin' } },
    sub_account: { sub: 'CP000001' },
    email: 'admin@clinic.example',
  };
}

function clientFor(port) {
  const base = {
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: 'ES256',
    // so that ID tokens carry sid (the daemon keeps it for back-channel logout)
    backchannel_logout_uri: `http://127.0.0.1:${port}/rp-backchannel`,
    backchannel_logout_session_required: true,
  };
  if (mode === 'plain') {
    return {
      ...base,
      client_id: 'checkup-plain',
      client_secret: process.env.CK_OP_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
    };
  }
  const rpJwks = JSON.parse(fs.readFileSync(rpJwksFile, 'utf8'));
  return {
    ...base,
    client_id: 'checkup-fapi',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    id_token_encrypted_response_alg: 'ECDH-ES+A256KW',
    id_token_encrypted_response_enc: 'A256GCM',
    dpop_bound_access_tokens: true,
    require_pushed_authorization_requests: true,
    jwks: rpJwks,
  };
}

function configuration(port) {
  const config = {
    clients: [clientFor(port)],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    pkce: { required: () => true },
    responseTypes: ['code'],
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub'],
      email: ['email'],
      profile: ['role', 'clinic_id'],
      'user.identity': ['act', 'sub_account', 'sub_attributes'],
    },
    extraParams: ['authentication_context_type'],
    // The RP's back-channel endpoint is on loopback, which oidc-provider's
    // SSRF guard refuses; this provider talks to nothing else.
    fetch: (url, options) => {
      const { dispatcher, ...rest } = options;
      return globalThis.fetch(url, rest);
    },
    features: {
      devInteractions: { enabled: true },
      userinfo: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      backchannelLogout: { enabled: true },
      deviceFlow: { enabled: mode === 'plain' },
    },
    findAccount: (ctx, id) => ({
      accountId: id,
      claims: () => (mode === 'fapi' ? corppassClaims(id) : { sub: id, ...(accounts[id] || { email: `${id}@clinic.example` }) }),
    }),
  };
  if (mode === 'fapi') {
    Object.assign(config.features, {
      fapi: { enabled: true, profile: '2.0' },
      dPoP: {
        enabled: true,
        nonceSecret: crypto.randomBytes(32),
        requireNonce: () => true,
      },
      encryption: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
    });
    config.enabledJWA = {
      idTokenEncryptionAlgValues: ['ECDH-ES+A128KW', 'ECDH-ES+A256KW'],
      idTokenEncryptionEncValues: ['A256GCM', 'A256CBC-HS512'],
      idTokenSigningAlgValues: ['ES256'],
      clientAuthSigningAlgValues: ['ES256'],
      dPoPSigningAlgValues: ['ES256'],
    };
  }
  return config;
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const provider = new Provider(`http://127.0.0.1:${port}`, configuration(port));
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  provider.on('grant.error', (ctx, err) => console.error('grant.error', err.message, err.error_description || ''));
  provider.on('authorization.error', (ctx, err) => console.error('authorization.error', err.message, err.error_description || ''));
  provider.on('pushed_authorization_request.error', (ctx, err) => console.error('par.error', err.message, err.error_description || ''));
  provider.on('backchannel.error', (ctx, err) => console.error('backchannel.error', err.message, String(err.cause || '')));
  provider.on('end_session.error', (ctx, err) => console.error('end_session.error', err.message, err.error_description || ''));
  provider.on('userinfo.error', (ctx, err) => console.error('userinfo.error', err.message, err.error_description || ''));
  const op = provider.callback();
  server.on('request', (req, res) => {
    if (req.url !== '/rp-backchannel' || req.method !== 'POST') return op(req, res);
    let body = '';
    req.on('data', (c) => { if (body.length < 65536) body += c; });
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token') || '';
      fs.appendFileSync(`${portFile}.bcl`, `${token}\n`);
      res.writeHead(200);
      res.end();
    });
    return undefined;
  });
  fs.writeFileSync(`${portFile}.tmp`, `${port}\n`);
  fs.renameSync(`${portFile}.tmp`, portFile);
});
process.on('SIGTERM', () => process.exit(0));
