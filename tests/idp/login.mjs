// SPDX-License-Identifier: BSD-3-Clause
// login.mjs - plays the browser through an identity provider's login pages,
// headless, over HTTP: follows redirects, keeps cookies, fills the forms.
//
//   node login.mjs AUTH_URL REDIRECT_PREFIX LOGIN
//
// Prints the redirect to REDIRECT_PREFIX (the callback URL with code, state,
// iss) and exits 0; anything unexpected exits 1 with the status on stderr.
// With REDIRECT_PREFIX "device", AUTH_URL is a device verification URL and
// the run ends at the provider's success page; with "logout", AUTH_URL is an
// end-session URL and the run ends when the provider has signed the user out.
// $CK_COOKIE_JAR, when set, names a file that keeps the cookies between runs.
import fs from 'node:fs';
// Pages understood: oidc-provider's devInteractions (login, consent) and
// mockpass's CorpPass login (a form whose user is picked by a field value).

const [authUrl, redirectPrefix, login] = process.argv.slice(2);
if (!authUrl || !redirectPrefix || !login) {
  console.error('usage: node login.mjs AUTH_URL REDIRECT_PREFIX LOGIN');
  process.exit(2);
}

const jarFile = process.env.CK_COOKIE_JAR;
const jar = new Map(jarFile && fs.existsSync(jarFile) ? JSON.parse(fs.readFileSync(jarFile, 'utf8')) : []);
const saveJar = () => { if (jarFile) fs.writeFileSync(jarFile, JSON.stringify([...jar]), { mode: 0o600 }); };

function keepCookies(res) {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
}

const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

function decodeEntities(s) {
  return s.replace(/&#x([0-9a-f]+);/gi, (m, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (m, d) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

// The next request a person would make on this page, or null.
function nextFromPage(html, base) {
  const forms = [...html.matchAll(/<form[^>]*>[\s\S]*?<\/form>/gi)].map((m) => m[0]);
  for (const form of forms) {
    const action = decodeEntities((form.match(/action="([^"]*)"/i) || [])[1] || base.href);
    const method = ((form.match(/method="([^"]*)"/i) || [])[1] || 'GET').toUpperCase();
    const fields = new URLSearchParams();
    for (const m of form.matchAll(/<input[^>]*>/gi)) {
      const tag = m[0];
      const name = (tag.match(/name="([^"]*)"/i) || [])[1];
      const value = decodeEntities((tag.match(/value="([^"]*)"/i) || [])[1] || '');
      if (name) fields.set(name, value);
    }
    if (fields.has('xsrf')) {
      // oidc-provider's device pages: confirm the code shown
      if (/name="confirm"/.test(html)) fields.set('confirm', 'yes');
      if (/name="logout"/.test(html)) fields.set('logout', 'yes');
    } else if (fields.get('prompt') === 'login') {
      fields.set('login', login);
      fields.set('password', 'any');
    } else if (fields.get('prompt') === 'consent') {
      // accept as shown
    } else if (fields.has('code') || fields.has('nric') || fields.has('uinfin')) {
      // mockpass: the user is chosen by this field
      for (const k of ['code', 'nric', 'uinfin']) if (fields.has(k)) fields.set(k, login);
    } else {
      continue;
    }
    const url = new URL(action, base);
    if (method === 'GET') {
      for (const [k, v] of fields) url.searchParams.set(k, v);
      return { url, method: 'GET' };
    }
    return { url, method: 'POST', body: fields.toString() };
  }
  return null;
}

let step = { url: new URL(authUrl), method: 'GET' };
for (let i = 0; i < 25; i++) {
  const headers = { cookie: cookieHeader() };
  if (step.body) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(step.url, { method: step.method, body: step.body, headers, redirect: 'manual' });
  keepCookies(res);
  if (res.status >= 300 && res.status < 400) {
    const to = new URL(res.headers.get('location'), step.url);
    if (to.href.startsWith(redirectPrefix)) {
      saveJar();
      console.log(to.href);
      process.exit(0);
    }
    step = { url: to, method: 'GET' };
    continue;
  }
  const text = await res.text();
  if (redirectPrefix === 'device' && res.status === 200 && /<title>Sign-in Success<\/title>/.test(text)) {
    saveJar();
    console.log('device approved');
    process.exit(0);
  }
  if (redirectPrefix === 'logout' && res.status === 200 && /<title>Sign-out Success<\/title>/.test(text)) {
    saveJar();
    console.log('signed out');
    process.exit(0);
  }
  const next = res.status === 200 ? nextFromPage(text, step.url) : null;
  if (!next) {
    console.error(`login: HTTP ${res.status} at ${step.url.pathname}: ${text.slice(0, 300)}`);
    process.exit(1);
  }
  step = next;
}
console.error('login: too many steps');
process.exit(1);
