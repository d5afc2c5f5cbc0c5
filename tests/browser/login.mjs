// checkupd in a real browser: Debian's Chromium, headless, driven by
// playwright-core, through nginx (TLS with a test CA, auth_request) in front
// of a dummy internal page. Run by tests/web_browser.sh, which starts
// everything and passes BASE, CHROMIUM, EMAIL and PASSWORD.
import { chromium } from 'playwright-core';

const { BASE, CHROMIUM, EMAIL, PASSWORD } = process.env;
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
