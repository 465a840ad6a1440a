/**
 * The HTML reports in a real headless browser (the Chromium build that the npm package
 * @sparticuz/chromium ships, driven by playwright-core; see src/test-support/chromium.ts). It must
 * launch: if it cannot, the test fails — it never skips. The screenshots are kept in artifacts/
 * (gitignored).
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../test-support/chromium.js';
import { checkReport, hostileReport } from './fixtures.test-support.js';
import { reportHtml } from './html.js';
import { matrixHtml } from './matrix.js';

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'artifacts');

let ctx: BrowserContext;
const errors: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  ctx = await launchChromium();
}, 60_000);

afterAll(async () => {
  await ctx?.close();
});

async function open(html: string, name: string): Promise<Page> {
  const file = join(ARTIFACTS, name);
  writeFileSync(file, html);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${name}: ${m.text()}`);
  });
  await page.goto(`file://${file}`);
  return page;
}

describe('the HTML report in chromium', () => {
  it('shows the finding, steps the cursor, updates the state panel; screenshot kept', async () => {
    const input = await checkReport('dio-write-vs-mmap-store', 'vfs2019');
    const page = await open(reportHtml(input), 'report.html');
    await expect.poll(() => page.locator('.finding .summary').isVisible()).toBe(true);
    expect(await page.locator('.finding .summary').textContent()).toContain('lost-write: bytes [0,32) of f');
    expect(await page.locator('h1 .badge').textContent()).toBe('lost-write');
    const state = () => page.locator('aside.state').textContent();
    const at = () => page.locator('.pl-at').textContent();
    const cursor = () => page.locator('.pl-cursor').getAttribute('transform');
    // The report opens at the step the finding is about.
    expect(await page.locator('tr.pl-row.cur').getAttribute('class')).toContain('anchor');
    const before = { state: await state(), at: await at(), cursor: await cursor() };
    await page.keyboard.press('Home');
    expect(await state()).not.toBe(before.state);
    expect(await at()).toMatch(/^1\/\d+ +step 2 /);
    expect(await cursor()).not.toBe(before.cursor);
    // The folio P1 faults back in: after its step, the page cache shows it locked by P1.
    for (let i = 0; i < 40 && !(await at())?.includes('filemap_add_folio'); i++)
      await page.locator('button[data-act="next"]').click();
    expect(await state()).toContain('f:0: clean, locked by P1');
    expect(await page.locator('.state li.new').allTextContents()).toContain('f:0: clean, locked by P1');
    await page.keyboard.press('f');
    expect(await page.locator('tr.pl-row.cur').getAttribute('class')).toContain('anchor');
    await page.keyboard.press('p');
    expect(await at()).toContain('dio_warn_stale_pagecache');
    await page.evaluate('window.scrollTo(0, 0)');
    const png = join(ARTIFACTS, 'report.png');
    await page.screenshot({ path: png, fullPage: true });
    expect(statSync(png).size).toBeGreaterThan(20_000);
    expect(errors).toEqual([]);
  });

  it('a scenario named <script> renders as text and runs nothing', async () => {
    const page = await open(reportHtml(hostileReport()), 'hostile.html');
    expect(await page.locator('h1').textContent()).toContain('<script>window.__pwned = 1</script>');
    expect(await page.locator('.finding .summary').textContent()).toContain('<img src=x');
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(await page.locator('main img, main b:has-text("scheme")').count()).toBe(0);
    await page.keyboard.press('ArrowLeft');
    expect(await page.locator('.state').textContent()).toContain(
      'lock</script><script>window.__pwned=3</script> excl',
    );
    expect(errors).toEqual([]);
  });

  it('the matrix: a failing cell opens its embedded report', async () => {
    const report = await checkReport('dio-write-vs-mmap-store', 'xfs');
    const html = matrixHtml({
      seed: 1,
      schedules: 1000,
      scenarios: [{ name: 'dio-write-vs-mmap-store', doc: 'O_DIRECT write vs an mmap store' }],
      schemes: [
        { name: 'xfs', summary: '' },
        { name: 'rangelock', summary: '' },
      ],
      cells: [
        {
          scenario: 'dio-write-vs-mmap-store',
          scheme: 'xfs',
          verdict: 'lost-write',
          schedules: 2,
          replay: report.replay,
          summary: report.finding?.summary ?? '',
          report,
        },
        {
          scenario: 'dio-write-vs-mmap-store',
          scheme: 'rangelock',
          verdict: 'ok',
          schedules: 1000,
          replay: null,
          summary: null,
        },
      ],
      measures: { scalability: [{ scheme: 'xfs', writers: 2, speedup: 2 }] },
    });
    const page = await open(html, 'matrix.html');
    expect(await page.locator('table.matrix td.cell').count()).toBe(2);
    expect(await page.locator('details#cell-0 .finding').isVisible()).toBe(false);
    await page.locator('a[href="#cell-0"]').click();
    await expect.poll(() => page.locator('details#cell-0 .finding').isVisible()).toBe(true);
    await page.keyboard.press('Home');
    expect(await page.locator('details#cell-0 .pl-at').textContent()).toMatch(/^1\//);
    await page.screenshot({ path: join(ARTIFACTS, 'matrix.png') });
    expect(errors).toEqual([]);
  });
});
