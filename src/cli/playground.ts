/**
 * `pagelab playground`: serves the built playground (site/, `npm run playground`) on 127.0.0.1
 * and prints its URL. A static server of the files in site/ and nothing else: the page runs the
 * whole model itself, in a Web Worker (docs/playground.md). Loopback only unless --host says.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { EXIT_OK, intOption, out, UsageError } from './common.js';

/** site/ of the package: two levels above this module both in src/ and in dist/. */
export const SITE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'site');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** The file a request path names inside `root`, or null (outside it, or not a file). */
function fileFor(root: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return null;
  }
  const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
  if (file !== root && !file.startsWith(root + sep)) return null;
  return existsSync(file) && statSync(file).isFile() ? file : null;
}

export interface Served {
  url: string;
  server: Server;
}

/** Serves `root` on host:port (0: any free port); resolves once it listens. */
export function serveSite(root: string, port: number, host = '127.0.0.1'): Promise<Served> {
  const dir = resolve(root);
  if (!existsSync(join(dir, 'index.html')))
    throw new UsageError(`no playground built in ${dir}: run 'npm run playground' first`);
  const server = createServer((req, res) => {
    const file = req.method === 'GET' || req.method === 'HEAD' ? fileFor(dir, req.url ?? '/') : null;
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  });
  return new Promise((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(new UsageError(`cannot listen on ${host}:${port}: ${e.code ?? e.message}`)),
    );
    server.listen(port, host, () => {
      const addr = server.address();
      const p = typeof addr === 'object' && addr ? addr.port : port;
      ok({ url: `http://${host.includes(':') ? `[${host}]` : host}:${p}/`, server });
    });
  });
}

interface PlaygroundOpts {
  port: number;
  host: string;
  dir?: string;
}

/** Serves until SIGINT or SIGTERM, then exits 0. */
async function cmdPlayground(opts: PlaygroundOpts): Promise<number> {
  const { url, server } = await serveSite(opts.dir ?? SITE_DIR, opts.port, opts.host);
  out(`pagelab playground: ${url}  (Ctrl-C stops)`);
  await new Promise<void>((done) => {
    const stop = () => server.close(() => done());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return EXIT_OK;
}

export function registerPlayground(p: Command, result: { code: number }): void {
  p.command('playground')
    .description('serve the playground (the model in a web page; npm run playground builds it) locally')
    .option('--port <n>', 'port (0: any free one)', intOption('--port', 0, 65535), 8417)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--dir <dir>', 'the built site (default: site/ of the package)')
    .action(async (opts: PlaygroundOpts) => {
      result.code = await cmdPlayground(opts);
    });
}
