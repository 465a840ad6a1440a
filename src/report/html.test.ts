import { describe, expect, it } from 'vitest';
import { esc, jsonForScript } from './escape.js';
import { checkReport, hostileReport } from './fixtures.test-support.js';
import { reportHtml } from './html.js';
import { type MatrixPage, matrixHtml } from './matrix.js';

/** Nothing in the page may load anything: no external URL, no src/href to a resource, no @import. */
function expectSelfContained(html: string): void {
  expect(html).not.toMatch(/https?:\/\//);
  expect(html).not.toMatch(/<link\b/i);
  expect(html).not.toMatch(/\shref="(?!#)/);
  const markup = html.replace(/"[^"]*"/g, '""');
  expect(markup).not.toMatch(/<[a-z]+[^>]*\ssrc\s*=/i);
  expect(html).not.toMatch(/@import/);
  expect(html).not.toMatch(/url\((?!#)/);
  expect(html).toContain("default-src 'none'");
}

describe('escape', () => {
  it('esc covers text and quoted attributes; jsonForScript cannot close a script element', () => {
    expect(esc(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const j = jsonForScript({ s: '</script><!-- \u2028' });
    expect(j).not.toMatch(/[<>\u2028]/);
    expect(JSON.parse(j)).toEqual({ s: '</script><!-- \u2028' });
  });
});

describe('reportHtml', () => {
  it('a finding: self-contained, the finding, the timeline, the trace, the state panel', async () => {
    const input = await checkReport('dio-write-vs-mmap-store', 'vfs2019');
    const html = reportHtml(input);
    expectSelfContained(html);
    expect(html).toContain(esc(input.finding?.summary ?? '?'));
    expect(html).toContain('<svg class="pl-swim"');
    expect(html).toContain('Locks held');
    expect((html.match(/<tr class="pl-row/g) ?? []).length).toBeGreaterThan(20);
    expect(html).toMatch(
      /Replay: <code>npx pagelab replay &#39;dio-write-vs-mmap-store:vfs2019:[0-9.*]+&#39;<\/code>/,
    );
    expect((html.match(/<script/g) ?? []).length).toBe(2);
  });

  it('every string from a scenario is escaped: a scenario named <script> renders as text', () => {
    const html = reportHtml(hostileReport());
    expectSelfContained(html);
    expect((html.match(/<script/g) ?? []).length).toBe(2);
    expect(html).not.toContain('window.__pwned = 1</script>');
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<b>scheme|<i>somehow/);
    expect(html).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;');
  });
});

describe('matrixHtml', () => {
  const page = (report = hostileReport()): MatrixPage => ({
    seed: 1,
    schedules: 10,
    scenarios: [
      { name: '<script>alert(1)</script>', doc: '<i>doc</i>' },
      { name: 'b', doc: '' },
    ],
    schemes: [
      { name: 'x<y', summary: '"s"' },
      { name: 'z', summary: '' },
    ],
    cells: [
      {
        scenario: '<script>alert(1)</script>',
        scheme: 'x<y',
        verdict: 'stale-read',
        schedules: 3,
        replay: 'r:x:0',
        summary: '<b>bad</b>',
        report,
      },
      {
        scenario: '<script>alert(1)</script>',
        scheme: 'z',
        verdict: 'ok',
        schedules: 10,
        replay: null,
        summary: null,
        coverage: { text: 'all 26 schedules with ≤ 2 preemptions, 3 pruned as equivalent' },
      },
      { scenario: 'b', scheme: 'x<y', verdict: 'n/a', schedules: 0, replay: null, summary: 'needs <dax>' },
      {
        scenario: 'b',
        scheme: 'z',
        verdict: 'deadlock',
        schedules: 2,
        replay: 'b:z:1',
        summary: 'stuck',
        report: null,
      },
    ],
    measures: {
      scalability: [
        { scheme: 'x<y', writers: 2, speedup: 1.5 },
        { scheme: 'z', writers: 2, speedup: 2 },
      ],
      fairness: [{ scheme: 'z', storm: 4, dio_wait_max: null }],
    },
  });

  it('schemes as columns, scenarios as rows, coloured by verdict; failing cells link to their report', () => {
    const html = matrixHtml(page());
    expectSelfContained(html);
    expect(html).toContain(
      '<td class="cell v-data" title="&lt;b&gt;bad&lt;/b&gt;"><a href="#cell-0">stale-read</a>',
    );
    expect(html).toContain('<details class="cellreport" id="cell-0">');
    expect(html).toContain('<a href="#cell-3">deadlock</a>');
    expect(html).toContain('Replay: <code>npx pagelab replay &#39;b:z:1&#39;</code>');
    expect(html).toContain('2 scenarios × 2 schemes; each cell 10 random schedules (seed 1).');
    expect(html).toContain(
      '<td class="cell v-ok" title="no forbidden finding in all 26 schedules with ≤ 2 preemptions, 3 pruned as equivalent">ok</td>',
    );
    expect(html).toContain('n/a <sup>1</sup>');
    expect(html).toContain('needs &lt;dax&gt;');
    expect(html).toContain('1.50×');
    expect(html).toContain('no finish');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/<script>alert|<i>doc|<b>bad|<dax>/);
    expect((html.match(/<script/g) ?? []).length).toBe(2);
  });

  it("prints the replay command it is given (the CLI's, naming the scenario file), quoted", () => {
    const cmd = (r: string) => `node ./bin/pagelab.js replay '${r}'`;
    const cells = page().cells.map((c) => ({ ...c, replay: c.replay && `my dir/a.litmus:${c.scheme}:1` }));
    const html = matrixHtml({ ...page(), cells, replayCommand: cmd, dfsBudget: 6000, preemptions: 2 });
    expect(html).toContain(
      '2 scenarios × 2 schemes; each cell a DFS of ≤ 2 preemptions (at most 6000 runs), else 10 random schedules (seed 1).',
    );
    expect(html).toContain('Replay: <code>node ./bin/pagelab.js replay &#39;my dir/a.litmus:z:1&#39;</code>');
    expect(html).not.toContain('>pagelab replay');
  });
});
