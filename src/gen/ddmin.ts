/**
 * Delta debugging (Zeller and Hildebrandt, "Simplifying and isolating failure-inducing input",
 * TSE 2002): ddmin over a list, with an async test. The result still fails and is 1-minimal:
 * removing any single element makes the test pass. Deterministic: subsets are tried in order.
 */
export async function ddmin<T>(
  items: readonly T[],
  fails: (subset: T[]) => Promise<boolean>,
  budget = 64,
): Promise<{ items: T[]; tests: number }> {
  let current = items.slice();
  let n = 2;
  let tests = 0;
  while (current.length >= 2 && tests < budget) {
    const chunks = split(current, Math.min(n, current.length));
    let reduced = false;
    for (let i = 0; i < chunks.length && tests < budget; i++) {
      // The complement of chunk i: with n = 2 this also tries each half on its own.
      const complement = chunks.flatMap((c, j) => (j === i ? [] : c));
      tests++;
      if (await fails(complement)) {
        current = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= current.length) break;
      n = Math.min(current.length, 2 * n);
    }
  }
  return { items: current, tests };
}

function split<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = start + Math.floor((items.length - start) / (n - i));
    out.push(items.slice(start, end));
    start = end;
  }
  return out;
}
