/**
 * Schedule strings. A schedule is the list of task ids chosen at each decision; it serialises to a
 * short string: ids in base 36, runs of one id as `id*count`, separated by dots, e.g. `0*12.1.0*3`.
 * An empty schedule is `-`.
 */

export function encodeSchedule(ids: readonly number[]): string {
  if (ids.length === 0) return '-';
  const parts: string[] = [];
  let i = 0;
  while (i < ids.length) {
    let j = i + 1;
    while (j < ids.length && ids[j] === ids[i]) j++;
    const id = ids[i].toString(36);
    parts.push(j - i === 1 ? id : `${id}*${j - i}`);
    i = j;
  }
  return parts.join('.');
}

/** Parses a schedule string; throws an Error with a one-line reason if it is malformed. */
export function decodeSchedule(s: string): number[] {
  if (s === '-' || s === '') return [];
  const out: number[] = [];
  for (const part of s.split('.')) {
    const m = /^([0-9a-z]+)(?:\*([0-9]+))?$/.exec(part);
    if (!m) throw new Error(`malformed schedule element '${part}'`);
    const id = Number.parseInt(m[1], 36);
    const count = m[2] === undefined ? 1 : Number.parseInt(m[2], 10);
    if (count < 1 || count > 10_000_000) throw new Error(`bad repeat count in '${part}'`);
    for (let k = 0; k < count; k++) out.push(id);
  }
  return out;
}
