// The console with the market on, in headless Chromium (test_console_market.sh):
//   publish: a WebM video Chromium records from a canvas, published for
//     1 USDC through the Publish page of the creator's router and
//     registered on chain by its wallet (the chain step with its licence
//     index); writes "INDEX CARD_ID" to OUT;
//   buy: on the viewer's router, the wallet's balances as anvil has them,
//     the card found with the feed's search, a licence bought from the
//     player (paid on chain, confirmed, the key from the creator's agent),
//     the video playing, the purchase and the creator's earnings in the
//     wallet and over time, what the creator paid the viewer's router for
//     hosting the video (the wallet's host row and its plot line); then
//     the Resale page: listed, cancelled, listed again, sold on chain
//     (cast, as anvil's account 2), paid out.  Writes "owed N",
//     "host N", "holder 0x..", "payout N" lines to OUT.
//   node console-market.mjs publish ORIGIN TOKEN OUT
//   node console-market.mjs buy ORIGIN TOKEN CARD_ID PAYER PAYER_WEI CREATOR CREATOR_WEI ASK OUT
//   (buy: CAST, RPC, TOKEN, REG and MINTER_KEY in the environment)
import { writeFileSync, appendFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { launch, creatorOwed, canvasMedia } from './console-lib.mjs';

const mode = process.argv[2];
let pass = 0, fail = 0;
const T0 = Date.now();
const ok = (c, m) => {
  console.log((c ? 'ok   ' : 'FAIL ') + m + ' [' + ((Date.now() - T0) / 1000).toFixed(1) + ' s]');
  c ? pass++ : fail++;
};
const TITLE = 'A paid clip';
const cast = (...a) => execFileSync(process.env.CAST, a.concat(['--rpc-url', process.env.RPC]),
                                    { encoding: 'utf8' }).trim();


async function publish(page, origin, out) {
  const webm = (await canvasMedia(page.context(), 3000)).webm;	// three seconds of VP8
  ok(webm.length > 1000 && webm.subarray(0, 4).toString('hex') === '1a45dfa3',
     'Chromium recorded a WebM video (' + webm.length + ' bytes)');
  await page.getByRole('link', { name: 'Publish' }).click();
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'clip.webm', mimeType: 'video/webm', buffer: webm });
  await page.getByLabel('Title', { exact: true }).fill(TITLE);
  await page.getByLabel('Tags (commas between)').fill('video');
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
    console.log('  page said: ' + await p.locator('#play-state, #pub-state, #resale-state, .rs-st, .rs-out').allTextContents().catch(() => '?'));
} finally {
  await browser.close();
}
console.log(`RESULT console-market.mjs ${mode}: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);

async function buy(page, origin, cardId, payer, payerWei, creator, creatorWei, ask, out) {
  writeFileSync(out, '');
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
  // the feed: the search finds the card once gossip brought it
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByLabel('Search').fill('paid clip');
  const t0 = Date.now();
  while (await page.getByRole('heading', { name: TITLE }).count() === 0) {
    if (Date.now() - t0 > 180000) throw new Error('the card did not come by gossip');
    await page.waitForTimeout(1000);
    await page.getByLabel('Search').press('Enter');
  }
  ok(true, 'the feed\'s search finds the creator\'s card, come by gossip (' + Math.round((Date.now() - t0) / 1000) + ' s)');
  await page.getByRole('link', { name: 'Play ' + TITLE }).click();
  ok(page.url().endsWith('#/play/' + cardId), 'the card opens the player');
  // the player: a paid card sold on chain offers Buy
  const buy = page.getByRole('button', { name: 'Buy a licence for 1 USDC' });
  await buy.waitFor({ timeout: 30000 });
  ok(await page.getByLabel('Content key').count() === 1, 'the player also takes a key typed in');
  await buy.click();
  await page.getByText(/^Buying: (paying|confirming|requesting key)/).waitFor({ timeout: 60000 });
  ok(true, 'the purchase shows its steps');
  await page.locator('#play-media video').waitFor({ timeout: 180000 });
  ok(true, 'bought: paid, confirmed, the key from the creator\'s agent');
  await page.evaluate(() => { const v = document.querySelector('#play-media video'); v.muted = true; v.play(); });
  await page.waitForFunction(() => { const v = document.querySelector('#play-media video');
    return v && v.currentTime > 0.5 && v.readyState >= 3; }, null, { timeout: 120000 }).catch(() => {});
  const vt = await page.evaluate(() => { const v = document.querySelector('#play-media video');
    return v ? { t: v.currentTime, ready: v.readyState, w: v.videoWidth, h: v.videoHeight,
                 err: v.error && v.error.message } : null; });
  ok(vt && vt.t > 0.5 && vt.ready >= 3 && vt.w === 64 && vt.h === 48,
     'the video plays, fetched from the creator\'s router: ' + JSON.stringify(vt));
  await page.getByText(/(\d+) of \1 chunks here · 1 seeder/).waitFor({ timeout: 60000 });
  ok(true, 'the progress line shows every chunk and the seeder: ' + await page.locator('#play-stats').textContent());
  // the wallet: the purchase and the creator's earnings
  await page.getByRole('link', { name: 'Wallet' }).click();
  await page.locator('#wallet-lic').getByText(/key held/).waitFor({ timeout: 60000 });
  ok(/licence #\d+, token \d+ · paid 1000000/.test(await page.locator('#wallet-lic').textContent()),
     'the wallet lists the purchase: ' + await page.locator('#wallet-lic').textContent());
  const owed = await creatorOwed(page);
  ok(owed !== '0', "the wallet shows the creator's earnings: " + owed);
  appendFileSync(out, 'owed ' + owed + '\n');
  // The viewer's router hosts what it holds whole: once the video is all
  // here, the creator's router pays it an epoch (test_console_market.sh
  // checks the figure against both routers' hostpay sections).
  let host = null;
  for (let i = 0; i < 60 && !host; i++) {
    host = /As host \(epochs of creators' content kept\)([1-9]\d*) token units \((\d+) redeemed\)/.exec(
      await page.locator('#wallet-earn').textContent());
    if (!host) {
      await page.waitForTimeout(2000);
      await page.getByRole('link', { name: 'Feed' }).click();
      await page.getByRole('link', { name: 'Wallet' }).click();
      await page.locator('#wallet-lic').getByText(/key held/).waitFor({ timeout: 60000 });
    }
  }
  ok(!!host, "the wallet's host row shows what the creator paid for keeping the video: " +
     await page.locator('#wallet-earn').textContent());
  if (host) appendFileSync(out, 'host ' + host[1] + '\n');
  // (the host row and the plot's figure read the earnings at different
  // times: a creator's next epoch paid between them, on a loaded machine,
  // tells them apart; the Wallet is opened again until they agree)
  let paidNow = '', plotted = false;
  for (let i = 0; i < 30 && host && !plotted; i++) {
    if (i) {
      await page.waitForTimeout(2000);
      await page.getByRole('link', { name: 'Feed' }).click();
      await page.getByRole('link', { name: 'Wallet' }).click();
      await page.locator('#wallet-lic').getByText(/key held/).waitFor({ timeout: 60000 });
    }
    const h = /As host \(epochs of creators' content kept\)([1-9]\d*) token units \((\d+) redeemed\)/.exec(
      await page.locator('#wallet-earn').textContent());
    paidNow = await page.locator('#paid-now').textContent();
    plotted = !!h && await page.locator('#paid').isVisible() && await page.locator('#paid polyline').count() === 3 &&
      paidNow.includes('as host ' + h[1] + ' (' + h[2] + ' redeemed)');
  }
  ok(plotted, 'the plot of money over time has its host line: ' + paidNow + ' (' +
     await page.locator('#paid polyline').count() + ' lines)');
  const earned = page.locator('#earned-now', { hasText: 'total: ' + owed + ' token units from 1 sale ' });
  await earned.waitFor({ timeout: 60000 }).catch(() => {});
  ok(await earned.count() === 1, 'the earnings over time total what is owed: ' + await page.locator('#earned-now').textContent());
  const pts = ((await page.locator('#earned polyline').getAttribute('points')) || '').split(' ');
  ok(pts.length === 4 && pts[1].split(',')[1] === '78.0' && pts[2].split(',')[1] === '4.0',
     'the plot steps up once, at the sale: ' + pts.join(' '));
  await resell(page, payer, ask, out);
}

// The Resale page: list by keyboard, cancel, list again, a sale on
// chain, the payout.
async function resell(page, payer, ask, out) {
  const lic = await page.evaluate(async () => (await (await fetch('/api/market/keys')).json()).licences[0]);
  appendFileSync(out, 'holder ' + lic.holder + '\n');
  await page.getByRole('link', { name: 'Resale' }).click();
  const row = page.getByRole('article', { name: 'Licence #' + lic.index });
  const st = row.getByRole('status');
  await st.getByText('Yours, not for sale.').waitFor({ timeout: 60000 });
  ok(true, 'the Resale page shows the licence held, not for sale');
  // the card's title and its currency (6 decimals): a price typed in
  // USDC, shown in USDC and base units
  ok(await row.getByText(TITLE, { exact: true }).count() === 1, 'the licence shows its content\'s title');
  const price = page.getByLabel('Price for licence #' + lic.index + ' (USDC)');
  ok(await price.count() === 1, 'the price field has its label, in the card\'s currency');
  const human = (v) => { const b = BigInt(v); const f = (b % 1000000n).toString().padStart(6, '0').replace(/0+$/, '');
    return (b / 1000000n) + (f ? '.' + f : ''); };
  const listedAt = 'Listed for sale at ' + human(ask) + ' USDC (' + ask + ' base units).';
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('#page-resale input, #page-resale button')]
    .filter((e) => !e.hidden && !(e.labels && e.labels.length) && !e.textContent.trim()).length);
  ok(unlabelled === 0, 'every field and button of the page is named');
  // by keyboard: type the price, Tab to the button, Enter
  await price.focus();
  await page.keyboard.type(human(ask));
  await page.keyboard.press('Tab');
  ok(await page.evaluate(() => document.activeElement.textContent) === 'List for sale', 'Tab goes from the price to List for sale');
  await page.keyboard.press('Enter');
  await st.getByText(listedAt).waitFor({ timeout: 120000 });
  const onChain = () => cast('call', process.env.REG, 'askPrice(uint256)(uint256)', lic.token_id).split(' ')[0];
  ok(onChain() === ask, 'listed by keyboard; askPrice on chain: ' + onChain());
  await row.getByRole('button', { name: 'Cancel the listing' }).click();
  await st.getByText('Yours, not for sale.').waitFor({ timeout: 120000 });
  ok(onChain() === '0', 'the listing cancelled from the page; askPrice on chain: ' + onChain());
  await price.fill(human(ask));
  await row.getByRole('button', { name: 'List for sale' }).click();
  await st.getByText(listedAt).waitFor({ timeout: 120000 });
  ok(onChain() === ask, 'listed again; askPrice on chain: ' + onChain());
  await phoneOk(page, 'the Resale page');
  // anvil's account 2 buys it for a holder of its own
  const bKey = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';
  const b = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', nh = '0x00000000000000000000000000000000000000b2';
  cast('send', '--private-key', process.env.MINTER_KEY, process.env.TOKEN, 'mint(address,uint256)', b, ask);
  cast('send', '--private-key', bKey, process.env.TOKEN, 'approve(address,uint256)', process.env.REG, ask);
  cast('send', '--private-key', bKey, process.env.REG, 'buyListed(uint256,address,uint256)', lic.token_id, nh, ask);
  await st.getByText(/^Sold: the licence now belongs to 0x0+b2\. .* Owed to you: [\d.]+ USDC \(\d+ base units\)\.$/).waitFor({ timeout: 60000 });
  ok(true, 'the page shows it sold and what is owed: ' + await st.textContent());
  const pay = row.getByRole('button', { name: /^Take the payout \(\d+ after the relayer’s \d+\)$/ });
  await pay.waitFor({ timeout: 30000 });
  await pay.click();
  const paid = row.getByText(/^Paid out: \d+ token units to 0x[0-9a-fA-F]{40}\.$/);
  await paid.waitFor({ timeout: 120000 });
  const m = /^Paid out: (\d+) token units to (0x[0-9a-fA-F]{40})\.$/.exec(await paid.textContent());
  appendFileSync(out, 'payout ' + m[1] + '\n');
  ok(m[2].toLowerCase() === payer.toLowerCase(), 'the payout went to the wallet: ' + m[0]);
  await st.getByText(/Nothing more owed to you\.$/).waitFor({ timeout: 30000 });
  ok(true, 'after the payout nothing more is owed');
}

async function phoneOk(page, what) {
  await page.setViewportSize({ width: 360, height: 740 });
  await page.waitForTimeout(100);
  const w = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  ok(w <= 0, what + ' at 360 px has no sideways scrolling (' + w + ' px)');
  await page.setViewportSize({ width: 1280, height: 800 });
}
