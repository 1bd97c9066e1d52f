// The web console in headless Chromium (Debian's, driven by playwright-core
// from tools/browser): sign-in, the feed (filters, views, like, follow),
// the router page, keyboard use, phone width, CSP, nothing loaded from
// outside this origin, sign-out; then publishing a file through the page,
// finding it in the feed and playing it (progress bar, seek); a video, an
// image and a text made in the browser (a canvas, its PNG, MediaRecorder's
// WebM), published through the page, played, shown and read; a paid card
// asking for its key, the wallet without a market (bytes served by the
// hosted site, no money for traffic), the proxy settings and the hosted
// site with its bytes served on the router page.
//   node console.mjs ORIGIN TOKEN ROUTER_HASH CARDS_JSON MEDIA_FILE PROXY_HTTP SITE_B32
import { createRequire } from 'node:module';
import { canvasMedia } from './console-lib.mjs';
const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const [origin, token, hash, cardsFile, mediaFile, proxyHttp, siteB32] = process.argv.slice(2);
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
  // the state already says "1 cards" (the search): wait for the list itself
  await page.waitForFunction((t) => {
    const a = document.querySelectorAll('#feed-list article');
    return a.length === 1 && a[0].querySelector('h3').textContent === t;
  }, paid.title, { timeout: 10000 }).catch(() => {});
  ok(await page.getByRole('heading', { name: paid.title }).count() === 1 &&
     await page.locator('#feed-list article').count() === 1, 'the paid filter keeps the paid card');
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
  ok(/^Routers\d+Floodfills\d+LeaseSets\d+$/.test(await page.locator('#router-netdb').textContent()),
     'the router page shows the netDb counts: ' + await page.locator('#router-netdb').textContent());
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
  // ---- publish a free audio file through the page ----
  const phoneOk = async (what) => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.waitForTimeout(100);
    const w = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    ok(w <= 0, what + ' at 360 px has no sideways scrolling (' + w + ' px)');
    await page.setViewportSize({ width: 1280, height: 800 });
  };
  await page.getByRole('link', { name: 'Publish' }).click();
  for (const l of ['File', 'Title', 'Description', 'Tags (commas between)', 'Cost of a licence (0: free)', 'Currency',
                   'Royalty on resales (%)'])
    ok(await page.getByLabel(l, { exact: true }).count() === 1, 'the publish form labels "' + l + '"');
  await phoneOk('the publish page');
  await page.getByLabel('File', { exact: true }).setInputFiles(mediaFile);
  await page.getByLabel('Title', { exact: true }).fill('A quiet tone');
  await page.getByLabel('Tags (commas between)').fill('sound, test');
  await page.getByLabel('Or a text excerpt').fill('Six seconds of a quiet tone.');
  // keyboard: focus the button and press Enter
  await page.getByRole('button', { name: 'Publish' }).focus();
  await page.keyboard.press('Enter');
  await page.getByText(/^Published: free/).waitFor({ timeout: 60000 });
  const stepsText = await page.locator('#pub-steps').textContent();
  ok(/Upload: 100 %/.test(stepsText) && /Encrypt \(seal\) ✓/.test(stepsText) && /Seed: this router seeds/.test(stepsText) &&
     /Card in the feed: card/.test(stepsText), 'the publish steps went upload, seal, seed, card: ' + stepsText);
  ok(/market not configured/.test(stepsText), 'the chain step says the market is not configured');
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByText((cards.length + 1) + ' cards').waitFor({ timeout: 15000 });
  const mine = page.locator('article', { hasText: 'A quiet tone' });
  ok(await mine.count() === 1, 'the published file is in the feed');
  ok(await mine.getByText('Free').count() === 1, 'it is free');
  await mine.getByRole('link', { name: 'Play A quiet tone' }).click();
  await page.locator('#play-media audio').waitFor({ timeout: 30000 });
  await page.waitForFunction(() => { const a = document.querySelector('#play-media audio'); return a && a.duration > 5; },
                             null, { timeout: 30000 });
  const dur = await page.evaluate(() => document.querySelector('#play-media audio').duration);
  ok(dur > 5.5 && dur < 6.5, 'the player reads the audio through /api/swarm/content (' + dur.toFixed(2) + ' s)');
  await page.getByText(/(\d+) of \1 chunks here/).waitFor({ timeout: 15000 });
  const stats = await page.locator('#play-stats').textContent();
  ok(/^5 of 5 chunks here · 0 seeders/.test(stats), 'the progress line counts chunks and seeders: ' + stats);
  ok(await page.locator('#play-bar rect.have').count() >= 1, 'the progress bar draws the downloaded chunks');
  // seek with the keyboard on the Position slider
  const seek = page.getByLabel('Position');
  await seek.focus();
  await page.evaluate(() => { window.__seeked = 0;
    document.querySelector('#play-media audio').addEventListener('seeked', () => { window.__seeked++; }); });
  for (let i = 0; i < 5; i++) await page.keyboard.press('PageUp');
  await page.waitForFunction(() => window.__seeked > 0, null, { timeout: 15000 });
  const at = await page.evaluate(() => document.querySelector('#play-media audio').currentTime);
  ok(at > 0.5, 'seeking with the Position slider moves the audio (' + at.toFixed(2) + ' s)');
  await phoneOk('the player');
  // ---- a video, an image and a text, made here and published through the page ----
  const made = await canvasMedia(ctx, 2000);	// two seconds of VP8
  const text = 'Notes on onion and garlic routing.\nLine two: every hop peels one layer.\n';
  const media = [
    { title: 'A made-up clip', name: 'clip.webm', mimeType: 'video/webm', buffer: made.webm },
    { title: 'A made-up picture', name: 'picture.png', mimeType: 'image/png', buffer: made.png },
    { title: 'A short note', name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from(text) },
  ];
  ok(media[0].buffer.length > 1000 && media[0].buffer.subarray(0, 4).toString('hex') === '1a45dfa3',
     'Chromium recorded a WebM video (' + media[0].buffer.length + ' bytes)');
  for (const mf of media) {
    await page.getByRole('link', { name: 'Publish' }).click();
    await page.getByLabel('File', { exact: true }).setInputFiles({ name: mf.name, mimeType: mf.mimeType, buffer: mf.buffer });
    await page.getByLabel('Title', { exact: true }).fill(mf.title);
    await page.getByLabel('Tags (commas between)').fill(mf.mimeType.split('/')[0]);
    await page.getByLabel('Or a text excerpt').fill('');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText(/^Published: free/).waitFor({ timeout: 60000 });
    const href = await page.getByRole('link', { name: 'Open it in the player' }).getAttribute('href');
    mf.id = (/^#\/play\/([0-9a-f]{64})$/.exec(href) || [])[1];
    ok(!!mf.id, 'published ' + mf.name + ' through the page');
  }
  // the video plays: its time advances
  await page.goto(origin + '/#/play/' + media[0].id);
  await page.locator('#play-media video').waitFor({ timeout: 30000 });
  await page.evaluate(() => { const v = document.querySelector('#play-media video'); v.muted = true; v.play(); });
  await page.waitForFunction(() => { const v = document.querySelector('#play-media video');
    return v && v.currentTime > 0.5; }, null, { timeout: 30000 }).catch(() => {});
  const vt = await page.evaluate(() => { const v = document.querySelector('#play-media video');
    return v ? { t: v.currentTime, w: v.videoWidth, h: v.videoHeight, err: v.error && v.error.message } : null; });
  ok(vt && vt.t > 0.5 && vt.w === 64 && vt.h === 48,
     'the video plays through /api/swarm/content: ' + JSON.stringify(vt));
  await phoneOk('the player with a video');
  // the image renders
  await page.goto(origin + '/#/play/' + media[1].id);
  await page.waitForFunction(() => { const i = document.querySelector('#play-media img');
    return i && i.complete && i.naturalWidth > 0; }, null, { timeout: 30000 }).catch(() => {});
  const iw = await page.evaluate(() => { const i = document.querySelector('#play-media img');
    return i ? [i.naturalWidth, i.naturalHeight] : null; });
  ok(iw && iw[0] === 64 && iw[1] === 48, 'the image renders (' + JSON.stringify(iw) + ')');
  ok(await page.getByRole('img', { name: 'A made-up picture' }).count() === 1, 'the image has its title as alt text');
  // the text shows
  await page.goto(origin + '/#/play/' + media[2].id);
  await page.locator('#play-media pre').waitFor({ timeout: 30000 });
  ok(await page.locator('#play-media pre').textContent() === text, 'the text shows, whole');
  await page.getByText('The whole text.').waitFor({ timeout: 10000 });
  ok(true, 'the player says it shows the whole text');
  // a paid card with no key: the page asks for it
  const paidId = await page.evaluate(async (t) => {
    const r = await fetch('/api/feed?text=' + encodeURIComponent(t)); return (await r.json()).cards[0].id;
  }, paid.title);
  await page.goto(origin + '/#/play/' + paidId);
  await page.getByLabel('Content key').waitFor({ timeout: 15000 });
  await page.waitForTimeout(1500);	// the progress poll must not overwrite the request
  ok(await page.getByText('This content is paid: buy a licence, or enter the key your licence gave you.').count() === 1,
     'a paid card without a key asks for the key');
  await page.getByLabel('Content key').fill('00'.repeat(32));
  await page.getByRole('button', { name: 'Play with this key' }).click();
  await page.getByText(/This key does not open the content|Looking for seeders|No seeder found/).waitFor({ timeout: 15000 });
  ok(true, 'a key for content nobody seeds: the page says it is looking for seeders');
  // ---- wallet without a market ----
  await page.getByRole('link', { name: 'Wallet' }).click();
  await page.getByText(/Market not configured on this router/).waitFor({ timeout: 15000 });
  ok(true, 'the wallet says the market is not configured');
  ok(await page.locator('#earn polyline').count() === 3, 'the plot of bytes served has its three lines');
  const earnNow = await page.locator('#earn-now').textContent();
  ok(/[1-9]\d* B served by hosted sites/.test(earnNow), 'the wallet counts the bytes the hosted site served: ' + earnNow);
  ok(await page.getByText('Not paid here', { exact: false }).count() === 1 &&
     await page.locator('#paid').isHidden(), 'without pay per chunk, paid relaying or hosting the wallet says so, no money plot');
  ok(/As hostnot a host here/.test(await page.locator('#wallet-earn').textContent()) &&
     !/Paid to hosts/.test(await page.locator('#wallet-earn').textContent()),
     'the wallet says this router is not a host, and pays none');
  // The money plot as a seeder, relay and host would see it: bitsd's
  // answer with money figures put in (what bitsd samples is checked by
  // test_market_seedpay, test_relaypay_bitsd and test_market_hostpay).
  const money = (k) => ({ seeder: String(1000 * k), seeder_redeemed: String(500 * k), relay_expected: '500',
                          relay_won: String(2000 * k), relay_redeemed: '0',
                          host: String(4000 * k), host_redeemed: String(4000 * Math.max(0, k - 1)),
                          host_paid: String(300 * k) });
  await page.route('**/api/console/earnings', async (route) => {
    const r = await route.fetch();
    const j = await r.json();
    j.samples.forEach((s, i) => { s.money = money(i); });
    j.now.money = money(3);
    await route.fulfill({ response: r, json: j });
  });
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByRole('link', { name: 'Wallet' }).click();
  await page.locator('#paid polyline').first().waitFor({ timeout: 15000 });
  const paidNow = await page.locator('#paid-now').textContent();
  ok(await page.locator('#paid').isVisible() && await page.locator('#paid polyline').count() === 3 &&
     paidNow === 'as seeder 3000 (1500 redeemed) · as relay 6000 won (expected 500, 0 redeemed) · ' +
       'as host 12000 (8000 redeemed) token units',
     'with money earned the wallet plots it as seeder, relay and host: ' + paidNow);
  const hostRow = await page.locator('#wallet-earn').textContent();
  ok(/As host12000 token units \(8000 redeemed\)/.test(hostRow), "the wallet's host row shows the earning: " + hostRow);
  ok(/Paid to hosts \(as creator\)900 token units/.test(hostRow), 'the wallet shows what it paid hosts as a creator: ' + hostRow);
  await page.unroute('**/api/console/earnings');
  ok(await page.getByText('Whoever once had the key keeps it', { exact: false }).count() === 1,
     'the wallet explains the licence limits');
  await phoneOk('the wallet');
  // ---- the Resale page without a market ----
  await page.getByRole('link', { name: 'Resale' }).click();
  await page.locator('#resale-state', { hasText: 'Market not configured on this router' }).waitFor({ timeout: 15000 });
  ok(true, 'the Resale page says the market is not configured');
  await phoneOk('the Resale page');
  // ---- router: proxy settings and the hosted site ----
  await page.getByRole('link', { name: 'Router' }).click();
  await page.locator('#router-proxy').getByText(proxyHttp).waitFor({ timeout: 15000 });
  ok(true, 'the router page shows the HTTP proxy ' + proxyHttp);
  ok((await page.locator('#router-sites').textContent()).includes(siteB32), 'the router page lists the hosted site ' + siteB32);
  ok(/served [1-9]\d* B/.test(await page.locator('#router-sites').textContent()),
     'the router page shows the bytes the site served: ' + await page.locator('#router-sites .served').textContent());
  await phoneOk('the router page');
  const navSeen = new Set();
  await page.locator('body').focus();
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab');
    navSeen.add(await page.evaluate(() => document.activeElement ? document.activeElement.textContent.trim() : ''));
  }
  ok(['Publish', 'Wallet', 'Resale'].every((n) => navSeen.has(n)), 'Tab reaches Publish, Wallet and Resale');
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
