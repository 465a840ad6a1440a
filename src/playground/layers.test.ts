/**
 * The model below explore runs in a browser: sim, sync, block, mm, fs, schemes, check and litmus
 * import no Node module and no package, directly or through each other. The bundler checks the
 * same for everything the playground loads (vite.config.ts `browserOnly`, exercised here too);
 * this test reads the sources, so it fails before any build.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserOnly } from './vite.config.js';

const SRC = resolve(import.meta.dirname, '..');
const BROWSER_LAYERS = ['sim', 'sync', 'block', 'mm', 'fs', 'schemes', 'check', 'litmus'];

/** Every module specifier a TypeScript file imports or re-exports (static, side-effect, dynamic). */
function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const re of [
    /\bfrom\s+['"]([^'"]+)['"]/g,
    /^\s*import\s+['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ])
    for (const m of code.matchAll(re)) out.push(m[1]);
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** What a source file imports that a browser does not have, and what it reaches outside the layers. */
function violations(file: string): string[] {
  const bad: string[] = [];
  for (const spec of importsOf(readFileSync(file, 'utf8'))) {
    const where = relative(SRC, file);
    if (!spec.startsWith('.')) {
      const kind = spec.startsWith('node:') || builtinModules.includes(spec) ? 'Node module' : 'package';
      bad.push(`${where} imports the ${kind} '${spec}'`);
      continue;
    }
    const target = relative(SRC, resolve(dirname(file), spec));
    if (!BROWSER_LAYERS.includes(target.split('/')[0]))
      bad.push(`${where} imports ${target}, outside the layers below explore`);
  }
  return bad;
}

describe('the layers below explore are browser code', () => {
  it('import no Node module, no package, nothing above them', () => {
    const files = BROWSER_LAYERS.flatMap((l) => sources(join(SRC, l)));
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap(violations)).toEqual([]);
  });

  it('the check sees every form of import', () => {
    const text = [
      "import { a } from 'node:fs';",
      "import type { B } from './b.js';",
      "export { c } from '../c.js';",
      "import 'piscina';",
      "const d = await import('node:os');",
      "// import { e } from 'commented';",
    ].join('\n');
    expect(importsOf(text)).toEqual(['node:fs', './b.js', '../c.js', 'piscina', 'node:os']);
  });

  it("the bundle refuses a Node module, and takes the two seams' files", () => {
    const plugin = browserOnly();
    const resolveId = plugin.resolveId as (this: unknown, s: string, i?: string) => string | null;
    const ctx = {
      error: (m: string) => {
        throw new Error(m);
      },
    };
    expect(() => resolveId.call(ctx, 'node:fs', '/x/src/litmus/world.ts')).toThrow(
      "/x/src/litmus/world.ts imports the Node module 'node:fs': the playground runs in a browser",
    );
    expect(() => resolveId.call(ctx, 'fs', '/x/src/mm/filemap.ts')).toThrow(/Node module 'fs'/);
    expect(() => resolveId.call(ctx, 'piscina', '/x/src/explore/matrix.ts')).toThrow(/'piscina'/);
    expect(() => resolveId.call(ctx, 'node:crypto', '/x/src/check/oracles.ts')).toThrow(/node:crypto/);
    expect(resolveId.call(ctx, './pool.js', '/x/src/explore/search.ts')).toMatch(/web\/shims\/pool\.ts$/);
    expect(resolveId.call(ctx, 'node:crypto', '/x/src/report/html.ts')).toMatch(/web\/shims\/crypto\.ts$/);
    expect(resolveId.call(ctx, './run.js', '/x/src/explore/search.ts')).toBeNull();
  });
});
