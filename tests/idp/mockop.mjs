// SPDX-License-Identifier: BSD-3-Clause
// mockop.mjs - a small scriptable OpenID provider for checkup's unit and
// fault tests: discovery, JWKS, an authorization endpoint that approves at
// once, a token endpoint with fault modes, userinfo. Only node's own
// modules. Listens on a free loopback port, written to the file named by
// argv[2]; stops on SIGTERM. Behaviour is switched with POST /ctl?k=v.
//
//   node mockop.mjs PORTFILE [CERT.pem KEY.pem]     (https with a cert)
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const [portFile, certFile, keyFile] = process.argv.slice(2);
if (!portFile) {
  console.error('usage: node mockop.mjs PORTFILE');
  process.exit(2);
}

const CLIENT_ID = 'mock-client';
const CLIENT_SECRET = process.env.CK_MOCKOP_SECRET || crypto.randomBytes(16).toString('hex');
const ctl = {
  disc_issuer: '',        // discovery names this issuer instead of ours
  iss_supported: '1',     // advertise authorization_response_iss_parameter_supported
  iss_mode: 'ok',         // ok | missing | wrong
  token_mode: 'ok',       // ok | 400 | 500html | truncated | huge | hang | redirect
  disc_mode: 'ok',        // discovery answers: ok | 500 | hang
  jwks_mode: 'ok',        // JWKS answers: ok | 500 | hang
  device: 'pending',      // device grant polls: pending | slow | deny | approve
  sub: 'alice',
  ui_sub: '',             // userinfo names this subject instead
};
const stats = { discovery: 0, jwks: 0, token: 0, authorize: 0 };
const codes = new Map();
let issuer = '';
let key = newKey();
let servedKeys = [key];

function newKey() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = crypto.randomBytes(8).toString('hex');
  return { privateKey, jwk: { ...jwk, kid, use: 'sig', alg: 'ES256' }, kid };
}

const b64u = (buf) => Buffer.from(buf).toString('base64url');

function signJwt(claims, typ = 'JWT') {
  const header = { alg: 'ES256', typ, kid: key.kid };
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  const sig = crypto.sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64u(sig)}`;
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function readBody(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => { if (data.length < 65536) data += c; });
    req.on('end', () => resolve(new URLSearchParams(data)));
  });
}

// The discovery and JWKS faults: true when the answer was a fault.
function docFault(mode, res) {
  if (mode === '500') {
    json(res, 500, { error: 'server_error' });
    return true;
  }
  if (mode === 'hang') {
    const t = setTimeout(() => res.end(), 30000);
    res.on('close', () => clearTimeout(t));
    return true;
  }
  return false;
}

function discovery(res) {
  stats.discovery++;
  if (docFault(ctl.disc_mode, res)) return;
  json(res, 200, {
    issuer: ctl.disc_issuer || issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    userinfo_endpoint: `${issuer}/userinfo`,
    jwks_uri: `${issuer}/jwks`,
    device_authorization_endpoint: `${issuer}/device`,
    end_session_endpoint: `${issuer}/logout`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: ctl.iss_supported === '1',
  });
}

function authorize(url, res) {
  stats.authorize++;
  const p = url.searchParams;
  if (p.get('client_id') !== CLIENT_ID || p.get('code_challenge_method') !== 'S256' ||
      !p.get('code_challenge') || !p.get('nonce') || !p.get('state')) {
    return json(res, 400, { error: 'invalid_request' });
  }
  const code = crypto.randomBytes(24).toString('base64url');
  codes.set(code, { nonce: p.get('nonce'), challenge: p.get('code_challenge'), redirect_uri: p.get('redirect_uri') });
  const to = new URL(p.get('redirect_uri'));
  to.searchParams.set('code', code);
  to.searchParams.set('state', p.get('state'));
  if (ctl.iss_mode === 'ok') to.searchParams.set('iss', issuer);
  if (ctl.iss_mode === 'wrong') to.searchParams.set('iss', 'https://evil.example');
  res.writeHead(302, { location: to.toString() });
  res.end();
}

function faultAnswer(res) {
  switch (ctl.token_mode) {
    case '400':
      return json(res, 400, { error: 'invalid_grant', error_description: 'nope' });
    case '500html':
      res.writeHead(500, { 'content-type': 'text/html' });
      return res.end('<html><body><h1>Internal Server Error</h1></body></html>');
    case 'redirect':
      res.writeHead(307, { location: `${issuer}/token-elsewhere` });
      return res.end();
    case 'truncated':
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"access_token":"abc","token_type":"Bear');
    case 'huge': {
      // 50 MB, written as the client reads; stops when the client hangs up.
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let left = 50 * 1024 * 1024;
      const pump = () => {
        while (left > 0) {
          left -= chunk.length;
          if (!res.write(chunk)) return res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => { left = 0; });
      return pump();
    }
    case 'hang': {
      const t = setTimeout(() => res.end(), 30000);
      res.on('close', () => clearTimeout(t));
      return undefined;
    }
    default:
      return null;
  }
}

function clientOk(req) {
  const auth = req.headers.authorization || '';
  const [id, secret] = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString().split(':')
    .map(decodeURIComponent);
  return id === CLIENT_ID && secret === CLIENT_SECRET;
}

function idToken(claims) {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({
    iss: issuer, sub: ctl.sub, aud: CLIENT_ID, iat: now, exp: now + 300,
    email: `${ctl.sub}@clinic.example`, role: 'doctor', clinic_id: 'c-17', sid: 'idp-session-1',
    ...claims,
  });
}

async function device(req, res) {
  await readBody(req);
  if (!clientOk(req)) return json(res, 401, { error: 'invalid_client' });
  const code = crypto.randomBytes(24).toString('base64url');
  codes.set(`dc:${code}`, {});
  return json(res, 200, {
    device_code: code, user_code: 'WDJB-MJHT', verification_uri: `${issuer}/activate`,
    verification_uri_complete: `${issuer}/activate?user_code=WDJB-MJHT`, expires_in: 60, interval: 1,
  });
}

function deviceGrant(body, res) {
  if (!codes.has(`dc:${body.get('device_code')}`)) return json(res, 400, { error: 'invalid_grant' });
  switch (ctl.device) {
    case 'slow': return json(res, 400, { error: 'slow_down' });
    case 'deny': return json(res, 400, { error: 'access_denied' });
    case 'approve':
      codes.delete(`dc:${body.get('device_code')}`);
      return json(res, 200, { access_token: 'x', token_type: 'Bearer', id_token: idToken({}) });
    default: return json(res, 400, { error: 'authorization_pending' });
  }
}

async function token(req, res) {
  stats.token++;
  const body = await readBody(req);
  if (faultAnswer(res) !== null) return;
  if (!clientOk(req)) return json(res, 401, { error: 'invalid_client' });
  if (body.get('grant_type') === 'urn:ietf:params:oauth:grant-type:device_code') return deviceGrant(body, res);
  const c = codes.get(body.get('code'));
  codes.delete(body.get('code'));
  if (!c) return json(res, 400, { error: 'invalid_grant' });
  const challenge = crypto.createHash('sha256').update(body.get('code_verifier') || '').digest('base64url');
  if (challenge !== c.challenge || body.get('redirect_uri') !== c.redirect_uri) {
    return json(res, 400, { error: 'invalid_grant' });
  }
  const now = Math.floor(Date.now() / 1000);
  const at = crypto.randomBytes(24).toString('base64url');
  codes.set(`at:${at}`, { sub: ctl.sub });
  return json(res, 200, {
    access_token: at,
    token_type: 'Bearer',
    expires_in: 300,
    id_token: signJwt({
      iss: issuer, sub: ctl.sub, aud: CLIENT_ID, iat: now, exp: now + 300, nonce: c.nonce,
      email: `${ctl.sub}@clinic.example`, role: 'doctor', clinic_id: 'c-17', sid: 'idp-session-1',
    }),
  }, { 'cache-control': 'no-store' });
}

const handler = async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (url.pathname === '/.well-known/openid-configuration') return discovery(res);
    if (url.pathname === '/jwks') {
      stats.jwks++;
      if (docFault(ctl.jwks_mode, res)) return undefined;
      return json(res, 200, { keys: servedKeys.map((k) => k.jwk) });
    }
    if (url.pathname === '/authorize') return authorize(url, res);
    if (url.pathname === '/token' && req.method === 'POST') return await token(req, res);
    if (url.pathname === '/device' && req.method === 'POST') return await device(req, res);
    if (url.pathname === '/userinfo') {
      const at = (req.headers.authorization || '').replace(/^Bearer /, '');
      const s = codes.get(`at:${at}`);
      if (!s) return json(res, 401, { error: 'invalid_token' });
      return json(res, 200, { sub: ctl.ui_sub || s.sub, email: `${s.sub}@clinic.example`, phone: '+65 0000 0000' });
    }
    if (url.pathname === '/ctl' && req.method === 'POST') {
      for (const [k, v] of url.searchParams) {
        if (k === 'rotate') {
          key = newKey();
          servedKeys = v === 'both' ? [...servedKeys, key] : [key];
        } else if (k in ctl) {
          ctl[k] = v;
        }
      }
      return json(res, 200, { ok: true });
    }
    if (url.pathname === '/ctl/stats') return json(res, 200, stats);
    if (url.pathname === '/ctl/logout_token') {
      // A back-channel logout token; the query says what to get wrong.
      const q = url.searchParams;
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: issuer, aud: q.get('aud') || CLIENT_ID, iat: now, exp: now + 120,
        jti: q.get('jti') || crypto.randomBytes(12).toString('hex'), sub: ctl.sub, sid: 'idp-session-1',
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      };
      if (q.has('nonce')) claims.nonce = 'n';
      if (q.has('noevent')) delete claims.events;
      if (q.has('nosid')) delete claims.sid;
      if (q.has('nosub')) delete claims.sub;
      return json(res, 200, { token: signJwt(claims, q.get('typ') || 'logout+jwt') });
    }
    return json(res, 404, { error: 'not_found' });
  } catch (e) {
    return json(res, 500, { error: 'server_error' });
  }
};
const server = certFile
  ? https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, handler)
  : http.createServer(handler);

server.listen(0, '127.0.0.1', () => {
  issuer = `${certFile ? 'https' : 'http'}://127.0.0.1:${server.address().port}`;
  fs.writeFileSync(`${portFile}.tmp`, `${server.address().port}\n`);
  fs.renameSync(`${portFile}.tmp`, portFile);
});
process.on('SIGTERM', () => process.exit(0));
