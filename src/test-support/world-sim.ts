/**
 * Helpers for tests that drive the generic paths directly (not a test file itself: vitest only
 * collects *.test.ts): a world built from litmus declarations, and a scheduler whose choices the
 * test steers.
 */
import { parseLitmus } from '../litmus/parse.js';
import { buildWorld, type World } from '../litmus/world.js';
import type { AddressSpace } from '../mm/filemap.js';
import type { Folio } from '../mm/folio.js';
import { findScheme } from '../schemes/index.js';
import { Sim } from '../sim/sched.js';
import { defaultPick } from '../sim/strategy.js';
import type { Task } from '../sim/task.js';

/** A world of 64-byte pages under `scheme` with the given file, map and buf declarations. */
export function world(scheme: string, decls: string): World {
  const s = findScheme(scheme);
  if (!s) throw new Error(scheme);
  return buildWorld(parseLitmus(`litmus t\npage 64\n${decls}\nP0: fsync f\n`), s);
}

export function mappingOf(w: World, name = 'f'): AddressSpace {
  return w.fs.inodes.find((i) => i.name === name)?.mapping as AddressSpace;
}

/** A clean, uptodate folio in the cache before the run. */
export function cached(mapping: AddressSpace, index: number): Folio {
  const f = mapping.setupFolio(index);
  f.uptodate = true;
  return f;
}

/**
 * The non-preemptive schedule (each task runs until it blocks, then the lowest id that can), except
 * that once `prefer(name)` is called, that task runs at every decision where it can. Tasks run in
 * the world's address space.
 */
export function steeredSim(w: World): { sim: Sim; prefer: (name: string) => void } {
  let want = '';
  const strategy = {
    name: 'test',
    pick(runnable: readonly Task[], current: Task): Task {
      return runnable.find((t) => t.name === want) ?? defaultPick(runnable, current);
    },
  };
  const sim = new Sim({ strategy, trace: true });
  const spawn = sim.spawn.bind(sim);
  sim.spawn = (name, body, opts) =>
    spawn(
      name,
      async (t: Task) => {
        t.mm = w.mm;
        await body(t);
      },
      opts,
    );
  return {
    sim,
    prefer: (name) => {
      want = name;
    },
  };
}
