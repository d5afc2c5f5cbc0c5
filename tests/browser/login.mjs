// SPDX-License-Identifier: BSD-3-Clause
// checkupd in a real browser: Debian's Chromium, headless, driven by
// playwright-core, through nginx (TLS with a test CA, auth_request) in front
// of a dummy internal page. Run by tests/web_browser.sh, which starts
// everything and passes BASE, CHROMIUM, EMAIL and PASSWORD, and in
// PROVIDERS (JSON: [{name, login, user}]) the identity providers to log in
// with: CorpPass through mockpass, oidc-provider as CorpPass FAPI 2.0.
import { chromium } from 'playwright-core';

const { BASE, CHROMIUM, EMAIL, PASSWORD } = process.env;
const PROVIDERS = JSON.parse(process.env.PROVIDERS || '[]');
const BIND = '__Host-checkup_login';
const COOKIE = '__Host-checkup_session';
const APP = `${BASE}/app/index.html`;
let passed = 0;
let failed = 0;

function check(desc, expected, actual) {
  if (expected === actual) {
    passed++;
    console.log(`ok - ${desc}`);
  } else {
    failed++;
    console.log(`not ok - ${desc}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

// Opens the tool; without a session nginx sends the browser to the login page.
async function login(page) {
  await page.goto(APP);
  check('sent to the login page', `${BASE}/login?rd=/app/index.html`, page.url());
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL(APP), page.getByRole('button', { name: 'Sign in' }).click()]);
  check('back at the tool after login', APP, page.url());
  check('the tool is shown', 'internal tool', await page.locator('#tool').textContent());
}

// One step at a provider's page, run inside the page: fill the form a
// person would (oidc-provider's login and consent, mockpass's user
// field) and submit it. False when the page has no such form.
function providerStep(login) {
  for (const form of document.forms) {
    const f = (n) => form.elements.namedItem(n);
    const prompt = f('prompt');
    if (prompt && prompt.value === 'login') {
      f('login').value = login;
      f('password').value = 'any';
    } else if (!(prompt && prompt.value === 'consent')) {
      const k = ['code', 'nric', 'uinfin'].find((n) => f(n));
      if (!k) continue;
      f(k).value = login;
    }
    HTMLFormElement.prototype.submit.call(form);
    return true;
  }
  return false;
}

// From the tool, through the login page's provider link and the
// provider's pages, back to the tool.
async function providerLogin(ctx, page, p) {
  await page.goto(APP);
  check(`${p.name}: sent to the login page`, `${BASE}/login?rd=/app/index.html`, page.url());
  await Promise.all([
    page.waitForURL((u) => !u.href.startsWith(BASE)),
    page.getByRole('link', { name: `Sign in with ${p.name}` }).click(),
  ]);
  const bind = (await ctx.cookies(BASE)).find((x) => x.name === BIND);
  check(`${p.name}: binding cookie SameSite`, 'Lax', bind && bind.sameSite);
  check(`${p.name}: binding cookie HttpOnly, Secure`, true, Boolean(bind && bind.httpOnly && bind.secure));
  for (let i = 0; i < 8 && !page.url().startsWith(BASE); i++) {
    const before = page.url();
    const acted = await page.evaluate(providerStep, p.login);
    if (!acted) throw new Error(`${p.name}: no form at ${new URL(before).pathname}`);
    await page.waitForURL((u) => u.href !== before, { timeout: 15000 });
    await page.waitForLoadState();
  }
  // The callback's page moves on to the tool by itself (meta refresh).
  await page.waitForURL(APP, { timeout: 10000 }).catch(() => {});
  check(`${p.name}: back at the tool`, APP, page.url());
  const r = await page.goto(APP);
  check(`${p.name}: nginx auth_request sees the mapped user`, p.user, r.headers()['x-seen-user']);
  check(`${p.name}: the tool is shown`, 'internal tool', await page.locator('#tool').textContent());
  const cookies = await ctx.cookies(BASE);
  const c = cookies.find((x) => x.name === COOKIE);
  check(`${p.name}: session cookie flags`, 'true true Strict / localhost',
    c && `${c.httpOnly} ${c.secure} ${c.sameSite} ${c.path} ${c.domain}`);
  check(`${p.name}: binding cookie cleared`, undefined, cookies.find((x) => x.name === BIND));
  await Promise.all([
    page.waitForURL((u) => u.href !== APP),
    page.getByRole('button', { name: 'Log out', exact: true }).click(),
  ]);
  check(`${p.name}: cookie cleared by logout`, undefined,
    (await ctx.cookies(BASE)).find((x) => x.name === COOKIE));
  await refused(page, `${p.name}: refused after logout`);
}

async function refused(page, desc) {
  await page.goto(APP);
  check(desc, `${BASE}/login?rd=/app/index.html`, page.url());
}

async function main() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container has no user namespaces for Chromium's sandbox.
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
  try {
    // The test CA is not in Chromium's store; everything else is real TLS.
    const a = await browser.newContext({ ignoreHTTPSErrors: true });
    const b = await browser.newContext({ ignoreHTTPSErrors: true });
    const pa = await a.newPage();
    const pb = await b.newPage();

    await login(pa);
    const cookies = await a.cookies();
    const c = cookies.find((x) => x.name === COOKIE);
    check('session cookie stored', true, Boolean(c));
    if (c) {
      check('cookie HttpOnly', true, c.httpOnly);
      check('cookie Secure', true, c.secure);
      check('cookie SameSite', 'Strict', c.sameSite);
      check('cookie Path', '/', c.path);
      check('cookie host-only (no Domain)', 'localhost', c.domain);
      const left = c.expires - Date.now() / 1000;
      check('cookie lives 24 hours', true, left > 86400 - 120 && left <= 86400 + 5);
    }
    const visible = await pa.evaluate(() => document.cookie);
    check('cookie hidden from scripts', false, visible.includes(COOKIE));

    // Log out from the tool's own form: the session ends, the tool refuses.
    await Promise.all([pa.waitForURL(/\/login/), pa.getByRole('button', { name: 'Log out', exact: true }).click()]);
    check('cookie cleared by logout', undefined, (await a.cookies()).find((x) => x.name === COOKIE));
    await refused(pa, 'refused after logout');

    // Two browsers, one user: "log out from all devices" in one ends the other.
    await login(pa);
    await login(pb);
    await pb.goto(APP);
    check('second browser reaches the tool', APP, pb.url());
    await Promise.all([
      pa.waitForURL(/\/login/),
      pa.getByRole('button', { name: 'Log out from all devices' }).click(),
    ]);
    await refused(pb, 'other browser refused after logout from all devices');
    await refused(pa, 'this browser refused too');

    for (const p of PROVIDERS) {
      const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
      try {
        await providerLogin(ctx, await ctx.newPage(), p);
      } catch (e) {
        failed++;
        console.log(`not ok - ${p.name} login: ${e.message.split('\n')[0]}`);
      } finally {
        await ctx.close();
      }
    }
  } finally {
    await browser.close();
  }
}

try {
  await main();
} catch (e) {
  failed++;
  console.log(`not ok - browser run: ${e.message.split('\n')[0]}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
