// Shared by the console's browser tests: Debian's chromium through
// playwright-core (PLAYWRIGHT_CORE), with nothing reaching past 127.0.0.1,
// and the wallet's figures.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

// When the browser or a page's renderer goes away under a test, say so
// ("Target page, context or browser has been closed" alone does not),
// with the test's last calls into it (playwright's log).
const lastWords = [];
function said(why) {
  console.log('# ' + why + '; the last calls:');
  for (const l of lastWords) console.log('#   ' + l);
}

export async function launch() {
  const browser = await chromium.launch({
    executablePath: '/usr/lib/chromium/chromium',
    args: ['--gaia-url=http://127.0.0.1:9', '--component-updater=url-source=http://127.0.0.1:9/',
           '--no-proxy-server'],
    logger: {
      isEnabled: (name) => name === 'api' || name === 'browser',
      log: (name, severity, message) => {
        lastWords.push(String(message).slice(0, 300));
        if (lastWords.length > 30) lastWords.shift();
      },
    },
  });
  let closing = false;
  const close = browser.close.bind(browser);
  browser.close = () => { closing = true; return close(); };
  browser.on('disconnected', () => { if (!closing) said('Chromium went away'); });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const ctx = await newContext(options);
    ctx.on('page', (page) => page.on('crash', () => said('a page\'s renderer crashed')));
    return ctx;
  };
  return browser;
}

// What the wallet page shows as owed to creators, once it is not 0 (the
// page asks the chain every 10 s); '0' after two minutes.
export async function creatorOwed(page) {
  let owed = '0';
  for (let i = 0; i < 120 && owed === '0'; i++) {
    const t = await page.locator('#wallet-earn').textContent();
    owed = (/As creator \(licences owed\)(\d+)/.exec(t) || [])[1] || '0';
    if (owed === '0') await page.waitForTimeout(1000);
  }
  return owed;
}

// A 64x48 canvas drawn by Chromium itself on about:blank (no file from
// outside): its first frame as PNG and `ms` of it as VP8 WebM
// (MediaRecorder), as Buffers.
export async function canvasMedia(ctx, ms) {
  const gen = await ctx.newPage();
  const made = await gen.evaluate(async (ms) => {
    const c = document.createElement('canvas');
    c.width = 64; c.height = 48;
    const g = c.getContext('2d');
    let f = 0;
    const draw = () => { g.fillStyle = 'hsl(' + (f * 37) % 360 + ',80%,50%)'; g.fillRect(0, 0, 64, 48);
      g.fillStyle = '#fff'; g.fillRect(f % 64, 10, 8, 28); f++; };
    draw();
    const b64 = async (blob) => {
      const a = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (let i = 0; i < a.length; i += 8192) s += String.fromCharCode(...a.subarray(i, i + 8192));
      return btoa(s);
    };
    const png = await new Promise((r) => c.toBlob(r, 'image/png'));
    const rec = new MediaRecorder(c.captureStream(25), { mimeType: 'video/webm;codecs=vp8' });
    const parts = [];
    rec.ondataavailable = (e) => { if (e.data.size) parts.push(e.data); };
    const timer = setInterval(draw, 40);
    const stopped = new Promise((r) => { rec.onstop = r; });
    rec.start(500);
    await new Promise((r) => setTimeout(r, ms));
    rec.stop();
    await stopped;
    clearInterval(timer);
    return { png: await b64(png), webm: await b64(new Blob(parts, { type: 'video/webm' })) };
  }, ms);
  await gen.close();
  return { png: Buffer.from(made.png, 'base64'), webm: Buffer.from(made.webm, 'base64') };
}
