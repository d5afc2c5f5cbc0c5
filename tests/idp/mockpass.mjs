// SPDX-License-Identifier: BSD-3-Clause
// mockpass.mjs - @opengovsg/mockpass (GovTech's mock Singpass/CorpPass) on a
// free loopback port, for checkup's CorpPass integration test.
//
//   node mockpass.mjs PORTFILE RP_JWKS_FILE
//
// CorpPass OIDC v2 lives under /corppass/v2 (issuer http://127.0.0.1:PORT/corppass/v2):
// private_key_jwt client assertions checked against the RP's public JWKS,
// which this process also serves at /rp/jwks (mockpass fetches it from
// CP_RP_JWKS_ENDPOINT); ID tokens are ES256 inside ECDH-ES+A256KW +
// A256CBC-HS512 JWEs with the legacy CorpPass claims. The login page is on,
// so a test picks the user (NRIC, UUID, UEN) with mockpass's custom profile form.
import fs from 'node:fs';

const [portFile, rpJwksFile] = process.argv.slice(2);
if (!portFile || !rpJwksFile) {
  console.error('usage: node mockpass.mjs PORTFILE RP_JWKS_FILE');
  process.exit(2);
}
const rpJwks = fs.readFileSync(rpJwksFile, 'utf8');

process.env.SHOW_LOGIN_PAGE = 'true';
// mockpass prints tokens and assertions at debug level: keep them out of logs.
console.debug = () => {};

const { app } = (await import('@opengovsg/mockpass')).default;

app.get('/rp/jwks', (req, res) => {
  res.type('application/json').send(rpJwks);
});

const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.env.CP_RP_JWKS_ENDPOINT = `http://127.0.0.1:${port}/rp/jwks`;
  fs.writeFileSync(`${portFile}.tmp`, `${port}\n`);
  fs.renameSync(`${portFile}.tmp`, portFile);
});
process.on('SIGTERM', () => process.exit(0));
