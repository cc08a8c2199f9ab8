// The --html report in headless Chromium: it renders without errors or network requests, the
// icicle chart has bars and zooms, the table sorts; a screenshot goes to test-artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root, runCli, tempDir } from '../helpers.mjs';
import { writeCjsApp } from './profile-fixtures.mjs';

const chromium = '/usr/bin/chromium';
const demo = join(root, 'examples/demo');
const hasDemo = existsSync(join(demo, 'node_modules/typescript'));

test('the HTML report works in Chromium', { skip: !existsSync(chromium) && `no ${chromium} (apt-get install chromium)`, timeout: 90_000 }, async (t) => {
  const dir = realpathSync(tempDir(t));
  const html = join(dir, 'profile.html');
  // The demo makes a telling picture; the small fixture stands in where it is not installed.
  const [cwd, args] = hasDemo ? [demo, ['eager.mjs', '--help']] : [(writeCjsApp(dir), dir), ['main.cjs']];
  const r = runCli(['profile', '-q', '--html', html, '--', process.execPath, ...args], { cwd });
  assert.equal(r.code, hasDemo ? 0 : 7, r.stderr);
  assert.ok(existsSync(html));

  const { chromium: browserType } = await import('playwright-core');
  const browser = await browserType.launch({
    executablePath: chromium,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('request', (request) => { if (!request.url().startsWith('file:')) problems.push(`network: ${request.url()}`); });
  await page.goto(pathToFileURL(html).href);
  const bars = await page.locator('.bar').count();
  const rows = await page.locator('#table tbody tr').count();
  assert.ok(bars > 3, `icicle bars: ${bars}`);
  assert.ok(rows >= (hasDemo ? 200 : 6), `table rows: ${rows}`);
  const firstIncl = async () => Number(await page.locator('#table tbody tr:first-child td:nth-child(3)').textContent());
  const largest = await firstIncl();
  await page.locator('#table th[data-k="incl"]').click();
  assert.equal(await page.locator('#table th[data-k="incl"]').getAttribute('aria-sort'), 'ascending');
  assert.ok((await firstIncl()) <= largest);
  await page.locator('#table th[data-k="incl"]').click();
  assert.equal(await firstIncl(), largest);
  mkdirSync(join(root, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: join(root, 'test-artifacts/profile-html.png'), fullPage: false });
  // Zooming into the second row's widest bar leaves fewer bars.
  await page.locator('.bar').nth(2).click();
  assert.ok((await page.locator('.bar').count()) <= bars);
  assert.deepEqual(problems, []);
});
