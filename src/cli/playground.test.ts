/** `pagelab playground`: a static server of site/ on loopback (runs bin/pagelab.js: `npm run build` first). */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Served, serveSite } from './playground.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pagelab.js');

function site(): string {
  const root = mkdtempSync(join(tmpdir(), 'pagelab-serve-'));
  mkdirSync(join(root, 'site', 'assets'), { recursive: true });
  writeFileSync(join(root, 'site', 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'site', 'assets', 'a.js'), 'export {};');
  writeFileSync(join(root, 'secret.txt'), 'not served');
  return join(root, 'site');
}

/** GET with the path sent as written (no client-side normalisation of '..'). */
function get(url: string, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((ok, fail) => {
    const req = request(new URL(url), { path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () =>
        ok({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', fail);
    req.end();
  });
}

describe('the playground server', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serveSite(site(), 0);
  });
  afterAll(() => served.server.close());

  it('serves the site on 127.0.0.1 with its types', async () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await get(served.url, '/')).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(await get(served.url, '/assets/a.js?v=1')).toEqual({
      status: 200,
      type: 'text/javascript; charset=utf-8',
      body: 'export {};',
    });
  });

  it('serves nothing outside the site', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/nope', '/%zz'])
      expect((await get(served.url, p)).status, p).toBe(404);
  });
});

describe('pagelab playground', () => {
  it('no built site: one line and exit 2', () => {
    const r = spawnSync(process.execPath, [BIN, 'playground', '--dir', '/nonexistent-site'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "pagelab: no playground built in /nonexistent-site: run 'npm run playground' first\n",
    );
  });

  it('prints the URL, serves it, stops with exit 0 on SIGINT', async () => {
    const child = spawn(process.execPath, [BIN, 'playground', '--port', '0', '--dir', site()]);
    const line = await new Promise<string>((ok) => child.stdout.once('data', (d) => ok(String(d))));
    const url = /^pagelab playground: (http:\/\/127\.0\.0\.1:\d+\/) {2}\(Ctrl-C stops\)\n$/.exec(line)?.[1];
    expect(url, line).toBeDefined();
    expect((await get(url!, '/')).status).toBe(200);
    const code = new Promise<number | null>((ok) => child.once('exit', ok));
    child.kill('SIGINT');
    expect(await code).toBe(0);
  });
});
