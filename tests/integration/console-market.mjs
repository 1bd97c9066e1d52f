// The console with the market on, in headless Chromium (test_console_market.sh):
//   publish: a paid file published through the Publish page, registered
//     on chain by the router's wallet (the chain step with its licence
//     index); writes "INDEX CARD_ID" to OUT;
//   buy: the wallet's balances as anvil has them, buying a licence from
//     the player (paid on chain, then confirming and asking the key
//     agent), the creator's earnings in the wallet, and over time.
//   node console-market.mjs publish ORIGIN TOKEN FILE OUT
//   node console-market.mjs buy ORIGIN TOKEN CARD_ID PAYER PAYER_WEI CREATOR CREATOR_WEI OWED_OUT
import { writeFileSync } from 'node:fs';
import { launch, creatorOwed } from './console-lib.mjs';

const mode = process.argv[2];
let pass = 0, fail = 0;
const ok = (c, m) => { console.log((c ? 'ok   ' : 'FAIL ') + m); c ? pass++ : fail++; };

async function publish(page, origin, file, out) {
  await page.getByRole('link', { name: 'Publish' }).click();
  await page.getByLabel('File', { exact: true }).setInputFiles(file);
  await page.getByLabel('Title', { exact: true }).fill('A paid tone');
  await page.getByLabel('Tags (commas between)').fill('sound');
  await page.getByLabel('Cost of a licence (0: free)').fill('1');
  await page.getByLabel('Currency').fill('USDC');
  await page.getByLabel('Decimals').fill('6');
  await page.getByLabel('Royalty on resales (%)').fill('5');
  await page.getByRole('button', { name: 'Publish' }).click();
  await page.getByText(/^Published: paid, licence #\d+ on chain/).waitFor({ timeout: 120000 });
  const st = await page.locator('#pub-steps').textContent();
  const m = /Chain registration: licence #(\d+) in the registry \(transaction 0x[0-9a-f]{10}…, royalty 5 %\) ✓/.exec(st);
  ok(m && /Seed: this router seeds/.test(st) && /Card in the feed: card/.test(st),
     'the steps went upload, seal, seed, chain registration, card: ' + st);
  const href = await page.getByRole('link', { name: 'Open it in the player' }).getAttribute('href');
  const id = (/^#\/play\/([0-9a-f]{64})$/.exec(href) || [])[1];
  ok(!!id, 'the page links the new card');
  if (m && id) writeFileSync(out, m[1] + ' ' + id + '\n');
}

const browser = await launch();
try {
  const [origin, token] = process.argv.slice(3);
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  const foreign = [], pageErrors = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin + '/')) foreign.push(r.url()); });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(origin + '/login#token=' + token);
  await page.waitForURL(origin + '/', { timeout: 15000 });
  if (mode === 'publish') await publish(page, origin, ...process.argv.slice(5));
  else await buy(page, origin, ...process.argv.slice(5));
  ok(foreign.length === 0, 'nothing loaded from outside ' + origin + (foreign.length ? ': ' + foreign.join(' ') : ''));
  ok(pageErrors.length === 0, 'no script errors' + (pageErrors.length ? ': ' + pageErrors.join('; ') : ''));
} catch (e) {
  ok(false, 'browser session: ' + e.message);
  for (const p of browser.contexts().flatMap((c) => c.pages()))
    console.log('  page said: ' + await p.locator('#play-state, #pub-state').allTextContents().catch(() => '?'));
} finally {
  await browser.close();
}
console.log(`RESULT console-market.mjs ${mode}: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);

async function buy(page, origin, cardId, payer, payerWei, creator, creatorWei, owedOut) {
  await page.getByRole('link', { name: 'Wallet' }).click();
  await page.locator('#wallet-state', { hasText: 'Up to date.' }).waitFor({ timeout: 120000 });
  const bal = (await page.locator('#wallet-bal').textContent()).toLowerCase();
  ok(bal.includes(payer.toLowerCase()) && bal.includes(payerWei + ' wei eth'),
     "the wallet shows the payer's ETH as anvil has it (" + payerWei + ')');
  ok(bal.includes(creator.toLowerCase()) && bal.includes(creatorWei + ' wei eth'),
     "the wallet shows the creator's ETH as anvil has it (" + creatorWei + ')');
  ok(bal.includes('10000000 token units'), 'the wallet shows the payer\'s tokens');
  await page.locator('#wallet-lic').getByText('No licences yet.').waitFor({ timeout: 30000 });
  ok(true, 'no licence before buying');
  // the player: a paid card sold on chain offers Buy
  await page.goto(origin + '/#/play/' + cardId);
  const buy = page.getByRole('button', { name: 'Buy a licence for 1 USDC' });
  await buy.waitFor({ timeout: 30000 });
  ok(await page.getByLabel('Content key').count() === 1, 'the player also takes a key typed in');
  await buy.click();
  await page.getByText(/^Buying: (paying|confirming|requesting key)/).waitFor({ timeout: 60000 });
  ok(true, 'the purchase shows its steps');
  // paid on chain: the licence is the payer's once the blocks are deep;
  // the key itself comes from the agent over the overlay, which needs
  // tunnels (test_market_buy covers it with four routers)
  await page.getByText(/^Buying: (confirming|requesting key)/).waitFor({ timeout: 120000 });
  ok(true, 'the purchase is paid and goes on to its confirmations and the key request');
  await page.getByRole('link', { name: 'Wallet' }).click();
  // the earnings once the chain has the sale (the page asks every 10 s)
  const owed = await creatorOwed(page);
  ok(owed !== '0', "the wallet shows the creator's earnings: " + owed);
  writeFileSync(owedOut, owed);
  // the same earnings over time, from the chain's sale events
  const earned = page.locator('#earned-now', { hasText: 'total: ' + owed + ' token units from 1 sale ' });
  await earned.waitFor({ timeout: 60000 }).catch(() => {});
  ok(await earned.count() === 1, 'the earnings over time total what is owed: ' + await page.locator('#earned-now').textContent());
  const pts = ((await page.locator('#earned polyline').getAttribute('points')) || '').split(' ');
  ok(pts.length === 4 && pts[1].split(',')[1] === '78.0' && pts[2].split(',')[1] === '4.0',
     'the plot steps up once, at the sale: ' + pts.join(' '));
  ok(/sale of licence #\d+ for 1000000 · earned /.test(await page.locator('#earned-list').textContent()),
     'the sale is listed with its time: ' + await page.locator('#earned-list').textContent());
}
