// The web console in headless Chromium (Debian's, driven by playwright-core
// from tools/browser): sign-in, the feed (filters, views, like, follow),
// the router page, keyboard use, phone width, CSP, nothing loaded from
// outside this origin, sign-out.
//   node console.mjs ORIGIN TOKEN ROUTER_HASH CARDS_JSON
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const [origin, token, hash, cardsFile] = process.argv.slice(2);
const cards = JSON.parse((await import('node:fs')).readFileSync(cardsFile, 'utf8'));
let pass = 0, fail = 0;
const ok = (c, m) => { console.log((c ? 'ok   ' : 'FAIL ') + m); c ? pass++ : fail++; };

const browser = await chromium.launch({
  executablePath: '/usr/lib/chromium/chromium',
  args: ['--gaia-url=http://127.0.0.1:9', '--component-updater=url-source=http://127.0.0.1:9/',
         '--no-proxy-server'],
});
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const foreign = [], cspErrors = [], pageErrors = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin + '/')) foreign.push(r.url()); });
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  await page.goto(origin + '/');
  ok(new URL(page.url()).pathname === '/login', 'without a session the console sends us to /login');
  const field = page.getByLabel('Console token');
  ok(await field.count() === 1, 'the token field has a label');
  // keyboard only: Tab to the field, type, Enter
  let reached = false;
  for (let i = 0; i < 6 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement && document.activeElement.id === 'token');
  }
  ok(reached, 'Tab reaches the token field');
  await page.keyboard.type('0'.repeat(64));
  await page.keyboard.press('Enter');
  await page.getByText('Wrong token.').waitFor({ timeout: 10000 });
  ok(new URL(page.url()).pathname === '/login', 'a wrong token stays on /login with a message');
  await field.fill(token);
  await page.keyboard.press('Enter');
  await page.waitForURL(origin + '/', { timeout: 15000 });
  // the feed is the first page: the cards published through the API
  await page.getByText(cards.length + ' cards').waitFor({ timeout: 15000 });
  for (const c of cards)
    ok(await page.getByRole('heading', { name: c.title }).count() === 1, 'the feed shows "' + c.title + '"');
  const paid = cards.find((c) => c.price);
  ok(await page.locator('article', { hasText: paid.title }).getByText(paid.price + ' ' + paid.currency).count() === 1,
     'a paid card shows its price');
  ok(await page.locator('article', { hasText: cards[0].title }).locator('.pv img').count() === 1,
     "a card's preview image is shown");
  await page.getByLabel('Search').fill('otters');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('1 cards').waitFor({ timeout: 10000 });
  ok(await page.locator('#feed-list article').count() === 1, 'search narrows the feed to one card');
  await page.getByLabel('Search').fill('');
  await page.getByLabel('Price').selectOption('paid');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('1 cards').waitFor({ timeout: 10000 });
  ok(await page.getByRole('heading', { name: paid.title }).count() === 1, 'the paid filter keeps the paid card');
  await page.getByLabel('Price').selectOption('');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText(cards.length + ' cards').waitFor({ timeout: 10000 });
  const first = page.locator('article', { hasText: cards[0].title });
  await first.getByRole('button', { name: /^Like/ }).click();
  await first.getByRole('button', { name: 'Liked · 1' }).waitFor({ timeout: 10000 });
  ok(true, 'Like records a reaction');
  await first.getByRole('button', { name: 'Follow' }).click();
  await first.getByRole('button', { name: 'Following' }).waitFor({ timeout: 10000 });
  ok(true, "Follow follows the card's creator");
  await page.getByLabel('View').selectOption('rows');
  ok(await page.locator('#feed-list section h2').count() >= 2, 'the by-category view groups cards under their tags');
  await page.getByLabel('View').selectOption('store');
  ok(await page.locator('#feed-list.store article').count() === cards.length, 'the store list view');
  await page.getByLabel('View').selectOption('grid');
  ok(await page.locator('#feed-list.grid article').count() === cards.length, 'the grid view');
  await page.setViewportSize({ width: 360, height: 740 });
  await page.waitForTimeout(100);
  const wideFeed = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  ok(wideFeed <= 0, 'the feed at phone width has no sideways scrolling (' + wideFeed + ' px)');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByRole('link', { name: 'Router' }).click();
  await page.getByText('Up to date.').waitFor({ timeout: 15000 });
  const id = await page.locator('#router-id').textContent();
  ok(id.includes(hash), 'the router page shows our identity hash');
  ok(await page.locator('#bw polyline').count() === 2, 'the bandwidth graph has its two lines');
  // keyboard: the nav link and the sign-out button are reachable
  const seen = new Set();
  await page.locator('body').focus();
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    seen.add(await page.evaluate(() => { const e = document.activeElement; return e ? e.id || e.textContent.trim().slice(0, 20) : ''; }));
  }
  ok(seen.has('Feed') && seen.has('Router') && seen.has('logout'), 'Tab reaches the navigation and Sign out: ' + [...seen].join(', '));
  // an injected inline script is blocked by the CSP
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__injected = 1';
    document.head.append(s);
  });
  ok(await page.evaluate(() => window.__injected) === undefined, 'an inline script does not run (CSP)');
  // phone width: nothing wider than the screen
  await page.setViewportSize({ width: 360, height: 740 });
  await page.waitForTimeout(100);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  ok(wide <= 0, 'at phone width there is no sideways scrolling (' + wide + ' px)');
  await page.setViewportSize({ width: 1280, height: 800 });
  // sign out
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(origin + '/login', { timeout: 10000 });
  await page.goto(origin + '/');
  ok(new URL(page.url()).pathname === '/login', 'after sign-out the console asks again');
  // the link form signs in at once and leaves no token in the address bar
  await page.goto('about:blank');
  await page.goto(origin + '/login#token=' + token);
  await page.waitForURL(origin + '/', { timeout: 15000 });
  ok(!page.url().includes(token), 'a /login#token= link signs in and the token leaves the URL');
  await page.getByText(cards.length + ' cards').waitFor({ timeout: 15000 });
  ok(foreign.length === 0, 'nothing loaded from outside ' + origin + (foreign.length ? ': ' + foreign.join(' ') : ''));
  ok(cspErrors.length === 1, 'the only CSP report is the injected script (' + cspErrors.length + ')');
  ok(pageErrors.length === 0, 'no script errors' + (pageErrors.length ? ': ' + pageErrors.join('; ') : ''));
} catch (e) {
  ok(false, 'browser session: ' + e.message);
} finally {
  await browser.close();
}
console.log(`RESULT console.mjs: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
