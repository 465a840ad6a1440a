/**
 * Headless Chromium for the browser tests, brought in by npm alone: `@sparticuz/chromium` ships a
 * brotli-compressed headless build inside the package (no download at install or at run time), and
 * playwright-core drives it. Every browser test launches through `launchChromium`, so the flags this
 * closed network needs live in one place.
 *
 * We inflate the binary ourselves rather than call the package's `executablePath()`: that one writes
 * a fixed `$TMPDIR/chromium` and reuses any file already there, so two test files launching at once,
 * or a run killed mid-inflate, would hand Chromium a truncated binary. Here the binary goes to a
 * directory named after the package version, is written under a private name and renamed into place
 * (atomic on one filesystem), so a reader sees either nothing or the whole file.
 *
 * The package is pinned to 143.0.4: the last release whose `engines` accepts Node 20 (147 and later
 * want Node 22.17). playwright-core 1.65 drives its Chromium 143 headless shell.
 */
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createBrotliDecompress } from 'node:zlib';
import { type BrowserContext, chromium } from 'playwright-core';

/**
 * What a headless browser needs on a machine that reaches no network: no sandbox (we run as root in
 * a VM), no GPU, and none of the background fetches (component updater, sync, safe-browsing lists)
 * that would stall on a closed network.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

/** The package's root: its entry point is build/esm/index.js, its brotli files are in bin/. */
function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.resolve('@sparticuz/chromium'))), '..', '..');
}

/** Inflates bin/chromium.br once per package version; returns the executable's path. */
export async function chromiumPath(): Promise<string> {
  const root = packageRoot();
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const dir = join(tmpdir(), `pagelab-chromium-${version}`);
  const exe = join(dir, 'chromium');
  if (existsSync(exe)) return exe;
  mkdirSync(dir, { recursive: true });
  const partial = `${exe}.${process.pid}.partial`;
  await pipeline(
    createReadStream(join(root, 'bin', 'chromium.br')),
    createBrotliDecompress(),
    createWriteStream(partial, { mode: 0o755 }),
  );
  renameSync(partial, exe);
  return exe;
}

/**
 * A headless Chromium with a fresh profile (no state carried between test files); the profile is
 * removed when the context closes.
 */
export async function launchChromium(viewport = { width: 1400, height: 1000 }): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'pagelab-profile-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: await chromiumPath(),
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport,
  });
  // Chromium may still write into the profile as the context closes (CI saw ENOTEMPTY from a
  // synchronous rm here, thrown from the event handler: an unhandled error that failed the run).
  // Retry in the background; a profile left in $TMPDIR is not a test failure.
  ctx.on('close', () => {
    rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }).catch(() => {});
  });
  return ctx;
}
