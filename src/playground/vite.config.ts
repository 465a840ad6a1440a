/**
 * `npm run playground`: the static site in site/ (index.html, one page bundle, one Web Worker
 * bundle, every built-in scenario inside). The build proves the model is browser code: any Node
 * built-in module reached from the page or the worker fails it, naming the importer — except the
 * two seams set here, each a file of its own:
 * - explore/search.ts's './pool.js' (piscina, worker_threads) → web/shims/pool.ts, which runs the
 *   units in the thread through explore/inthread.ts, as pool.ts does with --jobs 1;
 * - report/html.ts's node:crypto (the CSP's script hash) → web/shims/crypto.ts (SHA-256).
 * Nothing below explore has a seam: sim, sync, block, mm, fs, schemes, check and litmus import no
 * Node module at all (layers.test.ts checks the sources too).
 */
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const HERE = dirname(fileURLToPath(import.meta.url));
const SRC = resolve(HERE, '..');
export const SITE_DIR = resolve(SRC, '..', 'site');

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Where an import resolves for the browser: a seam's file, or an error for any other Node module. */
export function browserOnly(): Plugin {
  return {
    name: 'pagelab-browser-only',
    enforce: 'pre',
    resolveId(source, importer) {
      const from = importer ? importer.replace(/\\/g, '/') : '';
      if (source === './pool.js' && from.endsWith('/src/explore/search.ts'))
        return join(HERE, 'web', 'shims', 'pool.ts');
      if (source === 'node:crypto' && from.endsWith('/src/report/html.ts'))
        return join(HERE, 'web', 'shims', 'crypto.ts');
      if (NODE_BUILTINS.has(source) || source === 'piscina')
        this.error(`${from || '?'} imports the Node module '${source}': the playground runs in a browser`);
      return null;
    },
  };
}

export default defineConfig({
  root: join(HERE, 'web'),
  base: './',
  publicDir: false,
  logLevel: 'warn',
  plugins: [browserOnly()],
  worker: { format: 'es', plugins: () => [browserOnly()] },
  build: {
    outDir: SITE_DIR,
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    reportCompressedSize: false,
  },
});
