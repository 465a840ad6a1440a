/**
 * The fsx runs recorded on ext4 (src/fsx/testdata/README.md has the command lines): for each,
 * the options the port needs to draw the same stream, and the test calls fsx made.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FSX_DEFAULTS, type FsxOptions } from '../fsx/fsx.js';

export const TESTDATA = join(import.meta.dirname, '..', 'fsx', 'testdata');

export interface RecordedRun {
  name: string;
  /** fsx's flags, as passed to fsx (and to pagelab fsx). */
  flags: string[];
  opts: Partial<FsxOptions>;
  numops: number;
  /** Also replayed by real fsx --replay-ops: NAME.replay.fsxops and NAME.replay.dat. */
  replayed?: boolean;
}

export const RECORDED_RUNS: readonly RecordedRun[] = [
  {
    name: 'buf',
    flags: ['-N', '1500', '-S', '1', '-l', '65536', '-o', '16384'],
    opts: { seed: 1, maxfilelen: 65536, maxoplen: 16384 },
    numops: 1500,
  },
  {
    name: 'dio4k',
    flags: [
      '-N',
      '1000',
      '-S',
      '11',
      '-l',
      '65536',
      '-o',
      '16384',
      '-Z',
      '-r',
      '4096',
      '-w',
      '4096',
      '-t',
      '4096',
    ],
    opts: {
      seed: 11,
      maxfilelen: 65536,
      maxoplen: 16384,
      oDirect: true,
      readbdy: 4096,
      writebdy: 4096,
      truncbdy: 4096,
    },
    numops: 1000,
  },
  {
    name: 'dio512',
    flags: ['-N', '1000', '-S', '12', '-l', '65536', '-o', '16384', '-Z', '-r', '512', '-w', '512'],
    opts: { seed: 12, maxfilelen: 65536, maxoplen: 16384, oDirect: true, readbdy: 512, writebdy: 512 },
    numops: 1000,
  },
  {
    name: 'lite',
    flags: ['-L', '-N', '1500', '-S', '4', '-l', '32768', '-o', '8192'],
    opts: { seed: 4, maxfilelen: 32768, maxoplen: 8192, lite: true },
    numops: 1500,
  },
  {
    name: 'pollute',
    flags: ['-e', '1', '-N', '1500', '-S', '13', '-l', '65536', '-o', '8192'],
    opts: { seed: 13, maxfilelen: 65536, maxoplen: 8192, polluteEof: true },
    numops: 1500,
  },
  {
    name: 'falloc',
    flags: ['-N', '1200', '-S', '8', '-l', '49152', '-o', '24576', '-t', '4096'],
    opts: { seed: 8, maxfilelen: 49152, maxoplen: 24576, truncbdy: 4096 },
    numops: 1200,
  },
  {
    name: 'yx',
    flags: ['-y', '-X', '-N', '600', '-S', '15', '-l', '32768', '-o', '8192'],
    opts: { seed: 15, maxfilelen: 32768, maxoplen: 8192, doFsync: true, checkFile: true },
    numops: 600,
  },
  {
    name: 'rw',
    flags: ['-R', '-W', '-O', '-N', '1000', '-S', '16', '-l', '49152', '-o', '5000'],
    opts: {
      seed: 16,
      maxfilelen: 49152,
      maxoplen: 5000,
      mappedReads: false,
      mappedWrites: false,
      randomoplen: false,
    },
    numops: 1000,
  },
  {
    name: 'close',
    flags: ['-c', '10', '-N', '500', '-S', '14', '-l', '49152', '-o', '8192'],
    opts: { seed: 14, maxfilelen: 49152, maxoplen: 8192, closeprob: 10 },
    numops: 500,
    replayed: true,
  },
  {
    name: 'nofalloc',
    flags: ['-F', '-K', '-H', '-z', '-C', '-I', '-N', '800', '-S', '17', '-l', '32768', '-o', '8192'],
    opts: {
      seed: 17,
      maxfilelen: 32768,
      maxoplen: 8192,
      fallocateCalls: false,
      keepSizeCalls: false,
      punchHoleCalls: false,
      zeroRangeCalls: false,
      collapseRangeCalls: false,
      insertRangeCalls: false,
    },
    numops: 800,
    replayed: true,
  },
];

export function runOptions(run: RecordedRun): FsxOptions {
  return { ...FSX_DEFAULTS, ...run.opts };
}

export function testdata(file: string): Buffer {
  return readFileSync(join(TESTDATA, file));
}
