// Shared by the console's browser tests: Debian's chromium through
// playwright-core (PLAYWRIGHT_CORE), with nothing reaching past 127.0.0.1,
// and the wallet's figures.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

export function launch() {
  return chromium.launch({
    executablePath: '/usr/lib/chromium/chromium',
    args: ['--gaia-url=http://127.0.0.1:9', '--component-updater=url-source=http://127.0.0.1:9/',
           '--no-proxy-server'],
  });
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
