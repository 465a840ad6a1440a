/**
 * Every lock site names the function that takes the lock in the kernel the scheme models (issue
 * 13, item 16): an XFS trace never says `ext4_file_write_iter:inode_lock`, an O_DIRECT read under
 * vfs2019 never waits at `generic_file_read_iter` (which takes no lock).
 *
 * The traces scanned: every built-in scenario under every scheme over a few random schedules, and
 * a one-task tour that calls each entry point once (every read and write path, a fault and a
 * page_mkwrite, truncate, each fallocate mode), so paths no built-in scenario reaches are named
 * too. For the schemes that model a Linux filesystem, the functions seen taking the scheme's own
 * locks (i_rwsem, invalidate_lock, ranges, glocks, ei_pagecache_lock) must be exactly the list
 * below: a name missing from the traces is a stale entry, a name missing from the list a new site
 * to look up in the kernel. The pagelab schemes are ours (their names are `pagelab_*`), and gfs2's
 * sites are being rewritten alongside (issue 13 items 1-5): those are held to their own prefix.
 * Generic mm code may take invalidate_lock (and pagelab's "add" hook) only in the functions that
 * take invalidate_lock in Linux, and no other filesystem lock. Separately, no site of any kind may
 * name another filesystem's function.
 */
import { describe, expect, it } from 'vitest';
import { builtinScenarios } from '../explore/builtin.js';
import { runOnce } from '../explore/run.js';
import type { Scenario } from '../litmus/ast.js';
import { parseLitmus } from '../litmus/parse.js';
import { RandomStrategy } from '../sim/strategy.js';
import type { TraceEvent } from '../sim/trace.js';
import { SCHEMES } from './index.js';
import { type Scheme, scenarioNotApplicable } from './scheme.js';

const EXT4_2019 = [
  'ext4_file_write_iter',
  'ext4_direct_IO_read',
  'ext4_fallocate',
  'ext4_punch_hole',
  'ext4_zero_range',
  'ext4_collapse_range',
  'ext4_insert_range',
  'do_truncate',
];
const EXT4_418 = [...EXT4_2019, 'ext4_setattr', 'ext4_page_mkwrite'];
const XFS_DAX = [
  'xfs_file_dax_read',
  'xfs_file_dax_write',
  'xfs_file_fallocate',
  'do_truncate',
  'xfs_vn_setattr',
  '__xfs_filemap_fault',
];
const BCACHEFS = [
  'bch2_read_iter',
  'bch2_write_iter',
  'bch2_buffered_write',
  'bch2_direct_write',
  'bch2_fallocate_dispatch',
  'do_truncate',
  'bchfs_truncate',
  'bch2_page_fault',
  'bch2_page_mkwrite',
];

/** The functions that take each Linux scheme's locks, in the kernel it models. */
const XFS = [
  'xfs_file_buffered_read',
  'xfs_file_dio_read',
  'xfs_file_buffered_write',
  'xfs_file_write_checks',
  'xfs_file_dio_write_aligned',
  'xfs_file_dio_write_unaligned',
  'xfs_file_fallocate',
  'do_truncate',
  'xfs_vn_setattr',
  '__xfs_filemap_fault',
];

const TAKERS: Record<string, readonly string[]> = {
  vfs2019: EXT4_2019,
  ext4: [
    'ext4_buffered_write_iter',
    'ext4_dio_write_iter',
    'ext4_dio_write_checks',
    'ext4_dio_read_iter',
    'ext4_fallocate',
    'do_truncate',
    'ext4_setattr',
    'ext4_page_mkwrite',
  ],
  invalidate_lock: [
    'ext4_buffered_write_iter',
    'ext4_dio_write_iter',
    'ext4_dio_read_iter',
    'ext4_fallocate',
    'do_truncate',
    'ext4_setattr',
    'ext4_page_mkwrite',
  ],
  xfs: XFS,
  // The test oracle: xfs's paths inside one global lock (src/schemes/bkl.ts), so xfs's takers.
  bkl: XFS,
  // Chinner's proposal for XFS: the XFS functions where the range would be taken.
  rangelock: [
    'xfs_file_buffered_read',
    'xfs_file_dio_read',
    'xfs_file_buffered_write',
    'xfs_file_dio_write',
    'xfs_file_fallocate',
    'xfs_vn_setattr',
    'xfs_filemap_fault',
    'xfs_filemap_page_mkwrite',
  ],
  'ext4-pin-block': EXT4_418,
  'ext4-pin-skip': EXT4_418,
  'ext4-pin-fail': EXT4_418,
  'ext4-pin-bounce': EXT4_418,
  dax2017: XFS_DAX,
  dax: XFS_DAX,
  btrfs: [
    'btrfs_buffered_write',
    'btrfs_direct_write',
    'btrfs_direct_read',
    'btrfs_fallocate',
    'do_truncate',
    'btrfs_setsize',
    'btrfs_page_mkwrite',
  ],
  bcachefs: BCACHEFS,
  'bcachefs-fair': BCACHEFS,
};

/** Schemes held to a prefix instead of a list (see the header). */
const PREFIXED: Record<string, RegExp> = {
  pagelab: /^pagelab_/,
  'pagelab-edeadlk': /^pagelab_/,
  gfs2: /^gfs2_|^do_truncate$/,
  'gfs2-2021': /^gfs2_|^do_truncate$/,
  'gfs2-nodf-read': /^gfs2_|^do_truncate$/,
};

/**
 * The mm functions that take invalidate_lock shared in Linux (mm/filemap.c, mm/readahead.c), where
 * the model also takes the page-cache "add" hook (pagelab's range lock). Generic code takes no other
 * filesystem lock: i_rwsem is always taken by the filesystem or the VFS caller (do_truncate).
 */
const GENERIC_INVALIDATE_LOCK_TAKERS = new Set([
  'filemap_fault',
  'filemap_create_folio',
  'filemap_update_page',
  'page_cache_ra_unbounded',
]);
const GENERIC_LOCK = /^(invalidate_lock|pagecache_lock)\(/;

/** Whose function a name is: `ext4_*` and `jbd2_*` are ext4's, and so on. */
const FAMILY_OF_PREFIX: Record<string, string> = {
  ext4: 'ext4',
  jbd2: 'ext4',
  xfs: 'xfs',
  btrfs: 'btrfs',
  bch2: 'bcachefs',
  bchfs: 'bcachefs',
  gfs2: 'gfs2',
  pagelab: 'pagelab',
};

function family(scheme: string): string {
  if (scheme === 'vfs2019' || scheme === 'invalidate_lock' || scheme === 'ext4' || scheme.startsWith('ext4-'))
    return 'ext4';
  if (scheme === 'xfs' || scheme === 'bkl' || scheme === 'rangelock' || scheme.startsWith('dax'))
    return 'xfs';
  if (scheme.startsWith('bcachefs')) return 'bcachefs';
  if (scheme.startsWith('gfs2')) return 'gfs2';
  if (scheme.startsWith('pagelab')) return 'pagelab';
  if (scheme === 'btrfs') return 'btrfs';
  throw new Error(`scheme ${scheme}: say which kernel's functions its sites may name (sites.test.ts)`);
}

/** The filesystem locks: what a scheme's entry points take (acquire detail / wait detail). */
const FS_LOCK = /^(i_rwsem|invalidate_lock|iolock|pagecache_lock|ei_pagecache_lock|glock)\(/;

/** The function part of a site: `bch2_page_fault via faultin_page:...` → `bch2_page_fault`. */
function takerOf(site: string): string {
  return (site.split(':')[0] ?? site).replace(/ via .*$/, '');
}

const TOUR = parseLitmus(
  [
    'litmus site-tour',
    'page 64',
    'block 64',
    'file f 4p written',
    'map m f 0 4p shared',
    'P0: pread f 0 1p; pread f 0 1p direct; pwrite f 0 1p; pwrite f 1p 1p direct; pwrite f 8 8 direct',
    'P0: load m+3p 8; store m+2p 8; pwrite f 4p 1p direct; pwrite f 328 8 direct; truncate f 3p',
    'P0: fallocate f alloc 4p 1p; fallocate f punch 0 1p; fallocate f zero 1p 1p',
    'P0: fallocate f collapse 0 1p; fallocate f insert 0 1p; fsync f',
  ].join('\n'),
  'site-tour.litmus',
);

interface Seen {
  /** Functions that took one of the scheme's filesystem locks. */
  readonly takers: Set<string>;
  /** Every site of every event. */
  readonly sites: Set<string>;
}

function note(seen: Seen, events: readonly TraceEvent[]): void {
  for (const e of events) {
    seen.sites.add(e.site);
    if (e.kind !== 'acquire' && e.kind !== 'wait') continue;
    const lock = e.detail ?? '';
    const taker = takerOf(e.site);
    if (GENERIC_LOCK.test(lock) && GENERIC_INVALIDATE_LOCK_TAKERS.has(taker)) continue;
    if (FS_LOCK.test(lock)) seen.takers.add(taker);
  }
}

async function scan(scheme: Scheme): Promise<Seen> {
  const seen: Seen = { takers: new Set(), sites: new Set() };
  const scenarios: Scenario[] = [...builtinScenarios(), TOUR];
  for (const sc of scenarios) {
    if (scenarioNotApplicable(scheme, sc)) continue;
    for (let seed = 1; seed <= (sc === TOUR ? 1 : 3); seed++) {
      const run = await runOnce(sc, scheme, new RandomStrategy(seed), { trace: true });
      note(seen, run.result.trace?.events() ?? []);
    }
  }
  return seen;
}

/** Names in `site` that belong to a filesystem: `xfs_file_dio_read`, `__xfs_filemap_fault`... */
function fsNames(site: string): string[] {
  const out: string[] = [];
  for (const m of site.matchAll(/(?:^|[^A-Za-z0-9_])(?:__)?(ext4|jbd2|xfs|btrfs|bch2|bchfs|gfs2|pagelab)_/g))
    out.push(m[1] as string);
  return out;
}

describe('site labels name the modelled kernel’s own functions (issue 13 item 16)', () => {
  for (const scheme of SCHEMES) {
    it(`${scheme.name}: lock takers and every site belong to ${family(scheme.name)}`, async () => {
      const seen = await scan(scheme);
      const own = family(scheme.name);
      const foreign = [...seen.sites].filter((s) => fsNames(s).some((p) => FAMILY_OF_PREFIX[p] !== own));
      expect(foreign).toEqual([]);
      const takers = [...seen.takers].sort();
      const list = TAKERS[scheme.name];
      if (list) expect(takers).toEqual([...list].sort());
      else {
        const prefix = PREFIXED[scheme.name];
        expect(prefix, `${scheme.name} needs an entry in TAKERS or PREFIXED`).toBeDefined();
        expect(takers.filter((f) => !prefix?.test(f))).toEqual([]);
        expect(takers.length).toBeGreaterThan(2);
      }
    });
  }

  it('vfs2019: an O_DIRECT read waits at ext4_direct_IO_read (2019), never generic_file_read_iter', async () => {
    const vfs2019 = SCHEMES.find((s) => s.name === 'vfs2019') as Scheme;
    const sc = parseLitmus(
      [
        'litmus dio-read-waits',
        'page 64',
        'file f 1p written',
        'P0: pwrite f 0 1p',
        'P1: pread f 0 1p direct',
      ].join('\n'),
      'dio-read-waits.litmus',
    );
    // Seed 2 runs P0 first: P1's read finds i_rwsem held for write and waits for it.
    const run = await runOnce(sc, vfs2019, new RandomStrategy(2), { trace: true });
    const events = run.result.trace?.events() ?? [];
    const waits = events.filter((e) => e.kind === 'wait' && FS_LOCK.test(e.detail ?? ''));
    expect(waits.map((e) => `P${e.task} ${e.site} ${e.detail}`)).toEqual([
      'P1 ext4_direct_IO_read:inode_lock_shared i_rwsem(f)',
    ]);
    expect(events.filter((e) => e.site.startsWith('generic_file_read_iter'))).toEqual([]);
  });
});
