// A viewer's console end to end (test_console_e2e.sh): the creator's card
// arrives by gossip, the viewer buys it from the player and it plays,
// fetched over tunnels; the wallet lists the licence and the creator's
// earnings.
//   node console-e2e.mjs ORIGIN TOKEN OWED_OUT
import { writeFileSync } from 'node:fs';
import { launch, creatorOwed } from './console-lib.mjs';

const [origin, token, owedOut] = process.argv.slice(2);
let pass = 0, fail = 0;
const ok = (c, m) => { console.log((c ? 'ok   ' : 'FAIL ') + m); c ? pass++ : fail++; };

const browser = await launch();
let page;
try {
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  const foreign = [], pageErrors = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin + '/')) foreign.push(r.url()); });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(origin + '/login#token=' + token);
  await page.waitForURL(origin + '/', { timeout: 15000 });
  // the card comes by gossip: ask the feed again until it is there
  const t0 = Date.now();
  while (await page.getByRole('heading', { name: 'A paid tone' }).count() === 0) {
    if (Date.now() - t0 > 300000) throw new Error('the card did not arrive by gossip');
    await page.waitForTimeout(2000);
    await page.getByRole('button', { name: 'Apply' }).click();
  }
  ok(true, 'the creator\'s card reaches the viewer\'s feed by gossip (' + Math.round((Date.now() - t0) / 1000) + ' s)');
  await page.getByRole('link', { name: 'Play A paid tone' }).click();
  const buy = page.getByRole('button', { name: 'Buy a licence for 1 USDC' });
  await buy.waitFor({ timeout: 60000 });
  await buy.click();
  await page.getByText(/^Buying: /).waitFor({ timeout: 60000 });
  ok(true, 'the purchase starts from the player');
  await page.locator('#play-media audio').waitFor({ timeout: 400000 });
  ok(true, 'bought: the key came from the creator\'s agent');
  await page.waitForFunction(() => { const a = document.querySelector('#play-media audio'); return a && a.duration > 5; },
                             null, { timeout: 400000 });
  ok(true, 'the audio plays, fetched from the creator\'s router over tunnels');
  await page.getByText(/5 of 5 chunks here · 1 seeder/).waitFor({ timeout: 120000 });
  ok(true, 'the progress line shows every chunk and the seeder');
  await page.getByRole('link', { name: 'Wallet' }).click();
  await page.locator('#wallet-lic').getByText(/key held/).waitFor({ timeout: 60000 });
  ok(true, 'the wallet lists the licence with its key');
  const owed = await creatorOwed(page);
  ok(owed !== '0', "the wallet shows the creator's earnings: " + owed);
  writeFileSync(owedOut, owed);
  ok(foreign.length === 0, 'nothing loaded from outside ' + origin + (foreign.length ? ': ' + foreign.join(' ') : ''));
  ok(pageErrors.length === 0, 'no script errors' + (pageErrors.length ? ': ' + pageErrors.join('; ') : ''));
} catch (e) {
  ok(false, 'browser session: ' + e.message);
  if (page) console.log('  page said: ' + await page.locator('#play-state').textContent().catch(() => '?') +
                        ' / ' + await page.locator('#play-stats').textContent().catch(() => '?'));
} finally {
  await browser.close();
}
console.log(`RESULT console-e2e.mjs: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
