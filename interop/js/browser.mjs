// Drives headless Chromium (Debian's /usr/bin/chromium; playwright-core never
// downloads a browser) through the pages the Go test names, as a person
// would: open the page, sign in on authd's form when one is expected, wait
// for the app's outcome in <pre id="result" data-done>.
//
// Argument: JSON {chromium, userDataDir, timeoutMs, pages: [{url, username?, password?}]}.
// Prints one JSON line: {pages: [{result, url, loginPage, error}], console, pageErrors, failed}.
import { chromium } from 'playwright-core';

const spec = JSON.parse(process.argv[2]);
const report = { pages: [], console: [], pageErrors: [], failed: [] };

const context = await chromium.launchPersistentContext(spec.userDataDir, {
  executablePath: spec.chromium,
  headless: true,
  // Playwright adds --no-sandbox (chromiumSandbox defaults to false); the
  // rest keep Chromium off the network it cannot reach here.
  args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  timeout: spec.timeoutMs,
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(spec.timeoutMs);
  page.on('console', (m) => report.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => report.pageErrors.push(String(e)));
  page.on('requestfailed', (r) => report.failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  for (const p of spec.pages) {
    const got = {};
    report.pages.push(got);
    try {
      await page.goto(p.url);
      if (p.username) {
        await page.waitForSelector('input[name=password]');
        got.loginPage = page.url();
        await page.fill('input[name=username]', p.username);
        await page.fill('input[name=password]', p.password);
        await page.click('button[type=submit]');
      }
      await page.waitForSelector('#result[data-done]', { state: 'attached' });
      got.result = JSON.parse(await page.textContent('#result'));
      got.url = page.url();
    } catch (e) {
      got.error = String(e);
      got.url = page.url();
    }
  }
} finally {
  await context.close();
}
console.log(JSON.stringify(report));
