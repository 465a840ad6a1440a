/**
 * The campaign: `campaign.space_size` (programs of the default space, each up to renaming once)
 * and `campaign.programs_per_sec`, programs of the default space checked per second under one
 * scheme (xfs) on one thread, each a whole cell (bounded DFS, PCT if its budget runs out, findings
 * minimised) — the figure `--estimate` turns into minutes. The programs are a seeded uniform
 * sample of the space, so the figure is of the space's mix, not of its first (cheap) programs.
 */
import { DEFAULT_BUDGET } from '../campaign/cell.js';
import { DEFAULT_SOURCE, runCampaign, shardPrograms } from '../campaign/driver.js';
import { samplePositions } from '../campaign/estimate.js';
import { spaceSize } from '../gen/enumerate.js';
import { register } from './registry.js';

const SCHEME = 'xfs';

register(
  'campaign',
  'campaign: programs/s of the default space (one scheme, one thread), space size',
  async (ctx) => {
    const size = spaceSize();
    const sample = Math.max(4, Math.round(40 * ctx.timeScale));
    const want = new Set(samplePositions(size, sample, 1));
    const programs = [...shardPrograms(DEFAULT_SOURCE, { index: 0, count: 1 })].filter((e) =>
      want.has(e.index),
    );
    const started = performance.now();
    await runCampaign(
      {
        source: DEFAULT_SOURCE,
        schemes: [SCHEME],
        shard: { index: 0, count: 1 },
        budget: DEFAULT_BUDGET,
        jobs: 1,
        onRecord: () => {},
      },
      programs,
    );
    const secs = (performance.now() - started) / 1000;
    ctx.log(`  campaign: ${programs.length} sampled programs under ${SCHEME} in ${secs.toFixed(1)} s`);
    return [
      {
        key: 'campaign.programs_per_sec',
        value: programs.length / secs,
        unit: 'programs/s',
        label: `sampled programs of the default space under ${SCHEME}, one thread`,
      },
      { key: 'campaign.space_size', value: size, unit: 'programs', label: 'programs in the default space' },
    ];
  },
);
