// SPDX-License-Identifier: BSD-3-Clause
// The design's load scenario for k6 (https://k6.io), against checkupd's
// JSON API: each virtual user logs in, keeps its session alive with
// GET /v1/users/me and the Bearer token, logs out and logs in again.
// bench/load.sh runs the same requests with bench/load_gen (k6 is not a
// Debian package); use this file where k6 is at hand:
//
//   k6 run -e BASE_URL=https://checkup.example.org -e PASSWORD=... \
//          -e USERS=100 bench/load.k6.js
//
// Users load1@example.org .. load<USERS>@example.org must exist with one
// password (bench/load_common.sh makes them for bench/load.sh).
// Never point this at a deployment you do not own.
import http from 'k6/http';
import { check, sleep } from 'k6';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const PASSWORD = __ENV.PASSWORD;
const USERS = parseInt(__ENV.USERS || '100', 10);
const KEEPALIVE = parseFloat(__ENV.KEEPALIVE || '3');
const SESSION = parseFloat(__ENV.SESSION || '30');

export const options = {
  stages: [
    { duration: '1m', target: USERS },
    { duration: '1m30s', target: USERS },
    { duration: '30s', target: 0 },
  ],
  thresholds: {
    'http_req_failed': ['rate<0.001'],
    'http_req_duration{name:me}': ['p(99)<50'],
  },
};

function login() {
  const email = `load${(__VU - 1) % USERS + 1}@example.org`;
  const res = http.post(`${BASE_URL}/v1/auth/login`,
    JSON.stringify({ email: email, password: PASSWORD }),
    { headers: { 'Content-Type': 'application/json' }, tags: { name: 'login' } });
  check(res, { 'login 200': (r) => r.status === 200 });
  return res.status === 200 ? res.json('token') : null;
}

export default function () {
  if (!PASSWORD) {
    throw new Error('set PASSWORD (-e PASSWORD=...)');
  }
  const token = login();
  if (!token) {
    sleep(1);
    return;
  }
  const auth = { headers: { Authorization: `Bearer ${token}` } };
  const start = Date.now();
  while ((Date.now() - start) / 1000 < SESSION) {
    sleep(KEEPALIVE * (0.75 + 0.5 * Math.random()));
    const me = http.get(`${BASE_URL}/v1/users/me`, Object.assign({ tags: { name: 'me' } }, auth));
    check(me, { 'me 200': (r) => r.status === 200 });
  }
  const out = http.post(`${BASE_URL}/v1/auth/logout`, null,
    Object.assign({ tags: { name: 'logout' } }, auth));
  check(out, { 'logout 200': (r) => r.status === 200 });
}
