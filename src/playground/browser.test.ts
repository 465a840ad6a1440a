/**
 * The playground in a real headless Chromium (src/test-support/chromium.ts), built by this test
 * (vite, into a temporary directory) and served by `pagelab playground`'s server. It must launch:
 * if it cannot, the test fails — it never skips.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../cli/main.js';
import { type Served, serveSite } from '../cli/playground.js';
import { builtinScenarios, findBuiltin } from '../explore/builtin.js';
import { LitmusError, parseLitmus } from '../litmus/parse.js';
import { SCHEMES } from '../schemes/index.js';
import { launchChromium } from '../test-support/chromium.js';
import { check } from './session.js';

const CONFIG = join(import.meta.dirname, 'vite.config.ts');
/** The page is between requests (main.ts sets it). */
const IDLE = "document.body.dataset.state === 'idle'";

let out: string;
let served: Served;
let ctx: BrowserContext;
const errors: string[] = [];

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'pagelab-site-'));
  await build({ configFile: CONFIG, logLevel: 'error', build: { outDir: out, emptyOutDir: true } });
  served = await serveSite(out, 0);
  ctx = await launchChromium();
}, 120_000);

afterAll(async () => {
  await ctx?.close();
  served?.server.close();
  if (out) rmSync(out, { recursive: true, force: true });
  expect(errors).toEqual([]);
});

async function open(fragment = ''): Promise<Page> {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${served.url}${fragment}`);
  await page.waitForFunction(IDLE);
  return page;
}

const idle = (page: Page) => page.waitForFunction(IDLE);

async function runOne(page: Page, scheme: string): Promise<void> {
  await page.selectOption('#scheme', scheme);
  await page.click('#run');
  await idle(page);
}

/** The row's cells: scheme → verdict. */
async function rowVerdicts(page: Page): Promise<Record<string, string>> {
  return page.$$eval('#row tbody tr', (trs) =>
    Object.fromEntries(
      trs.map((tr) => [tr.querySelector('td')!.textContent!, tr.querySelector('.verdict')!.textContent!]),
    ),
  );
}

const report = (page: Page) => page.frameLocator('#report');

describe('the playground in chromium', () => {
  it('dio-write-vs-mmap-store: vfs2019 loses the write, pagelab is ok; the report is --html', async () => {
    const page = await open();
    await page.click('button[data-scenario="dio-write-vs-mmap-store"]');
    await runOne(page, 'vfs2019');
    expect(await rowVerdicts(page)).toEqual({ vfs2019: 'lost-write' });
    // The same report as --html: the finding, the swimlane, the state panel at the finding's step.
    const r = report(page);
    await expect
      .poll(() => r.locator('.finding .summary').textContent())
      .toContain('lost-write: bytes [0,32) of f');
    expect(await r.locator('h1 .badge').textContent()).toBe('lost-write');
    expect(await r.locator('tr.pl-row.cur').getAttribute('class')).toContain('anchor');
    // Keyboard scrubbing works inside the frame.
    await r.locator('h1').click();
    await page.keyboard.press('Home');
    await expect.poll(() => r.locator('.pl-at').textContent()).toMatch(/^1\/\d+ +step 2 /);
    // The CLI command is the replay string the CLI's own check prints.
    const scenario = findBuiltin('dio-write-vs-mmap-store')!;
    const cli = await check(scenario, scenario.name, SCHEMES.find((s) => s.name === 'vfs2019')!, {
      strategy: 'random',
      seed: 1,
    });
    await page.click('#cli');
    expect(await page.locator('#cli-text').textContent()).toBe(`npx pagelab replay ${cli.replay}`);
    expect(page.url()).toContain(`schedule=${cli.replay!.slice(cli.replay!.lastIndexOf(':') + 1)}`);

    await runOne(page, 'pagelab');
    expect(await rowVerdicts(page)).toEqual({ pagelab: 'ok' });
    expect(await page.locator('#row .certificate').textContent()).toBe(
      'no forbidden finding in 1000 random schedules (seed 1)',
    );
    await page.close();
  });

  it('a syntax error is shown inline at the parser line and column, with its message', async () => {
    const page = await open();
    const text = 'litmus t\npage 64\nfile f 2p written\n\nP0: pwrite f 0 32 direkt\n';
    let expected: LitmusError | null = null;
    try {
      parseLitmus(text, 'scenario.litmus');
    } catch (e) {
      expected = e as LitmusError;
    }
    expect(expected).toBeInstanceOf(LitmusError);
    await page.click('.cm-content');
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(text);
    const status = page.locator('#parse-status.error');
    await expect.poll(() => status.textContent()).toBe(expected!.message);
    expect(await status.getAttribute('data-line')).toBe(String(expected!.line));
    expect(await status.getAttribute('data-column')).toBe(String(expected!.column));
    // The underline in the editor: on that line, starting at that column.
    const at = await page.$eval('.cm-lintRange-error', (span) => {
      const line = span.closest('.cm-line')!;
      const doc = span.ownerDocument;
      const lines = [...doc.querySelectorAll('.cm-content .cm-line')];
      const before = doc.createRange();
      before.setStart(line, 0);
      before.setEnd(span, 0);
      return { line: lines.indexOf(line) + 1, column: before.toString().length + 1, text: span.textContent };
    });
    expect(at).toEqual({ line: expected!.line, column: expected!.column, text: 'direkt' });
    // Fixing it clears the error.
    await page.keyboard.press('Backspace');
    await page.keyboard.insertText('\n');
    await page.keyboard.press('Control+a');
    await page.keyboard.insertText(text.replace('direkt', 'direct'));
    await expect.poll(() => page.locator('#parse-status').textContent()).toBe('parses');
    await page.close();
  });

  it('a share link replays the same finding at the same step', async () => {
    const first = await open();
    await first.click('button[data-scenario="dio-write-vs-mmap-store"]');
    await first.fill('#seed', '5');
    await runOne(first, 'vfs2019');
    const at = await report(first).locator('.pl-at').textContent();
    const link = first.url();
    const schedule = new URLSearchParams(link.slice(link.indexOf('#') + 1)).get('schedule');
    // The link's schedule is the one the CLI's check finds and prints.
    const sc = findBuiltin('dio-write-vs-mmap-store')!;
    const cli = await check(sc, sc.name, SCHEMES.find((s) => s.name === 'vfs2019')!, {
      strategy: 'random',
      seed: 5,
    });
    expect(`${sc.name}:vfs2019:${schedule}`).toBe(cli.replay);
    await first.close();

    const page = await open(link.slice(link.indexOf('#')));
    await idle(page);
    expect(await rowVerdicts(page)).toEqual({ vfs2019: 'lost-write' });
    expect(await page.locator('#seed').inputValue()).toBe('5');
    const r = report(page);
    await expect
      .poll(() => r.locator('.finding .summary').textContent())
      .toContain('lost-write: bytes [0,32) of f');
    expect(await r.locator('.pl-at').textContent()).toBe(at);
    expect(await r.locator('.finding .summary').textContent()).toBe(`lost-write: ${cli.finding!.summary}`);
    await page.close();
  });

  it('a long search shows its progress and stops on Stop; the next run goes on in a new worker', async () => {
    const page = await open();
    await page.click('button[data-scenario="dio-write-vs-mmap-store"]');
    await page.selectOption('#scheme', 'pagelab');
    await page.fill('#schedules', '1000000');
    await page.click('#run');
    await expect.poll(() => page.locator('#progress').textContent()).toMatch(/^pagelab: \d+ runs…$/);
    // The page is live while the worker searches: the editor still takes keys.
    await page.click('.cm-content');
    await page.keyboard.press('Control+End');
    await page.keyboard.insertText('# still live');
    await expect.poll(() => page.locator('#parse-status').textContent()).toBe('parses');
    await page.click('#stop');
    await idle(page);
    expect(await page.locator('#progress').textContent()).toBe('check under pagelab: stopped');
    await page.fill('#schedules', '20');
    await runOne(page, 'vfs2019');
    expect(await rowVerdicts(page)).toEqual({ vfs2019: 'lost-write' });
    await page.close();
  });

  it('every built-in scenario under every scheme: the page says what the CLI says', async () => {
    const page = await open();
    const seed = 3;
    const schedules = 4;
    await page.fill('#schedules', String(schedules));
    await page.fill('#seed', String(seed));
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const kinds = new Set<string>();
    try {
      for (const sc of builtinScenarios()) {
        await page.click(`button[data-scenario="${sc.name}"]`);
        await page.click('#every');
        await idle(page);
        const seen = await rowVerdicts(page);
        const cli: Record<string, string> = {};
        for (const s of SCHEMES) {
          write.mockClear();
          const argv = [
            'check',
            sc.name,
            '--scheme',
            s.name,
            '--schedules',
            `${schedules}`,
            '--seed',
            `${seed}`,
          ];
          await main(['node', 'pagelab', ...argv, '--jobs', '1', '--json']);
          cli[s.name] = JSON.parse(String(write.mock.calls.at(-1)![0])).verdict;
        }
        expect({ scenario: sc.name, verdicts: seen }).toEqual({ scenario: sc.name, verdicts: cli });
        for (const v of Object.values(seen)) kinds.add(v);
      }
    } finally {
      write.mockRestore();
    }
    // Not a comparison of two empty answers: the row has findings, oks and n/a cells.
    expect(kinds).toContain('lost-write');
    expect(kinds).toContain('ok');
    expect(kinds).toContain('n/a');
    await page.close();
  }, 240_000);
});
