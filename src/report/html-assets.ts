/**
 * The HTML reports' inline stylesheet and script (no network: nothing is loaded from anywhere).
 * The script reads each report's data from its `<script type="application/json">` and never
 * builds markup from strings: every text goes in through textContent.
 */

export const CSS = `
:root { --red:#cf222e; --red-bg:#ffebe9; --green:#1a7f37; --green-bg:#dafbe1; --amber:#9a6700; --amber-bg:#fff8c5;
  --purple:#8250df; --purple-bg:#fbefff; --grey:#57606a; --grey-bg:#f0f2f4; --line:#d0d7de; --ink:#1f2328; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0; background: #fff; }
main { padding: 16px 22px 40px; max-width: 1800px; }
code, .mono, pre { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace; font-size: 12.5px; }
h1 { font-size: 20px; margin: 0 0 2px; font-weight: 600; }
h1 .mono, h2 .mono { font-size: inherit; }
h2 { font-size: 15px; margin: 18px 0 6px; }
.sub { color: var(--grey); margin: 0 0 12px; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 12px; font-weight: 600; font-size: 13px; vertical-align: 2px; }
.v-ok { background: var(--green-bg); color: var(--green); }
table.matrix td.cell.v-ok { background: #effaf2; color: #4b9460; font-weight: 500; }
.v-na { background: var(--grey-bg); color: var(--grey); }
.v-data { background: var(--red-bg); color: var(--red); }
.v-hang { background: var(--purple-bg); color: var(--purple); }
.v-inv { background: #ffe2cc; color: #953800; }
.v-unk { background: #fff4c2; color: #7a5c00; }
.finding { border: 2px solid var(--red); background: var(--red-bg); border-radius: 8px; padding: 10px 14px; margin: 10px 0 12px; }
.finding.hang { border-color: var(--purple); background: var(--purple-bg); }
.finding .summary { font-size: 15px; font-weight: 600; margin: 0 0 4px; }
.finding ul { margin: 4px 0; padding-left: 20px; }
.finding .steps { margin-top: 6px; }
.finding .steps li { list-style: none; margin-left: -18px; }
.finding .steps a { color: inherit; text-decoration: none; border-bottom: 1px dotted; cursor: pointer; }
.finding .steps .anchor a { color: var(--red); font-weight: 600; }
.note { border-left: 4px solid var(--line); padding: 4px 10px; color: var(--grey); }
.replay { margin: 6px 0 0; }
.replay code { background: #fff; border: 1px solid var(--line); padding: 1px 6px; border-radius: 4px; user-select: all; }
.bar { display: flex; gap: 6px; align-items: center; flex-wrap: nowrap; position: sticky; top: 0; background: #fff; z-index: 3;
  padding: 6px 0; border-bottom: 1px solid var(--line); }
.bar button { font: inherit; font-size: 13px; padding: 3px 10px; border: 1px solid var(--line); border-radius: 6px; background: #f6f8fa; cursor: pointer; }
.bar button:hover { background: #eaeef2; }
.bar .pl-at { margin-left: 8px; font-family: ui-monospace, monospace; font-size: 12.5px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; flex: 1 1 0; min-width: 0; }
.legend .keys { float: right; }
.swimwrap { display: flex; border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; background: #fff; }
.lanes { flex: 0 0 auto; border-right: 1px solid var(--line); position: relative; background: #f6f8fa; }
.lanes div { position: absolute; left: 0; right: 0; padding: 6px 8px; font-weight: 600; font-size: 13px; border-top: 1px solid var(--line); white-space: nowrap; }
.swimscroll { overflow-x: auto; flex: 1 1 auto; }
svg.pl-swim { display: block; font: 10.5px ui-monospace, monospace; cursor: crosshair; }
svg .band { fill: #fff; } svg .band.odd { fill: #fafbfc; }
svg .tick { fill: var(--grey); text-anchor: middle; font-size: 10px; } svg .tick.anchor { fill: var(--red); font-weight: 700; }
svg .span text { fill: #fff; pointer-events: none; }
svg .span.lock rect { stroke: rgba(0,0,0,.25); }
svg .span.lock.shared rect { fill-opacity: .55; } svg .span.lock.shared text { fill: #111; }
svg .span.op rect { fill: #57606a; }
svg .span.wait rect { stroke: #d4a017; } svg .span.wait text { fill: #5c4400; }
svg .span.bio rect { fill: #dbe9f9; stroke: #4e79a7; } svg .span.bio text { fill: #0b3d75; }
svg .span.open rect { stroke: var(--red); stroke-width: 2; stroke-dasharray: 4 2; }
svg circle.ev { fill: #8c959f; } svg circle.ev.lock, svg circle.ev.unlock { fill: #bbb; }
svg circle.ev.op, svg circle.ev.ret { fill: #24292f; } svg circle.ev.wait, svg circle.ev.wake { fill: #d4a017; }
svg circle.ev.warn { fill: var(--red); } svg circle.ev.key { fill: var(--red); stroke: #fff; stroke-width: 1.5; }
svg circle.ev.anchor { fill: var(--red); stroke: var(--red); stroke-width: 3; stroke-opacity: .35; }
svg .finding-line { stroke: var(--red); stroke-width: 2; stroke-dasharray: 5 3; }
svg .pl-cursor rect { fill: rgba(9,105,218,.10); } svg .pl-cursor line { stroke: #0969da; stroke-width: 1.5; }
.grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(340px, 36%); gap: 14px; align-items: start; }
.tracewrap { max-height: 70vh; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
table.trace { border-collapse: collapse; width: 100%; }
table.trace th { position: sticky; top: 0; background: #f6f8fa; text-align: left; font-size: 12px; padding: 4px 6px; border-bottom: 1px solid var(--line); z-index: 1; }
table.trace td { padding: 1px 6px; vertical-align: top; font-family: ui-monospace, monospace; font-size: 12px; border-bottom: 1px solid #f0f2f4; }
table.trace td.n { color: var(--grey); text-align: right; white-space: nowrap; }
table.trace tr { cursor: pointer; }
table.trace tr:hover td { background: #f6f8fa; }
table.trace tr.lock td.c, table.trace tr.unlock td.c { color: #0550ae; } table.trace tr.unlock td.c { opacity: .75; }
table.trace tr.wait td.c, table.trace tr.wake td.c { color: var(--amber); }
table.trace tr.op td.c, table.trace tr.ret td.c { font-weight: 600; }
table.trace tr.warn td.c { color: var(--red); }
table.trace tr.key td.c { background: var(--red-bg); }
table.trace tr.key td.m::before { content: "▶"; color: var(--red); }
table.trace tr.anchor td.m::before { content: "✖"; color: var(--red); }
table.trace tr.anchor td.c { font-weight: 700; color: var(--red); }
table.trace tr.gap td { text-align: center; color: var(--grey); background: #f6f8fa; cursor: default; }
table.trace tr.cur td { background: #ddf4ff !important; box-shadow: inset 0 1px #0969da, inset 0 -1px #0969da; }
.state { position: sticky; top: 48px; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; background: #fff; max-height: 80vh; overflow: auto; }
.state h3 { margin: 0 0 2px; font-size: 14px; }
.state .what { font-family: ui-monospace, monospace; font-size: 12px; margin: 0 0 6px; color: var(--grey); }
.state h4 { margin: 8px 0 2px; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--grey); }
.state ul { margin: 0; padding: 0; list-style: none; font-family: ui-monospace, monospace; font-size: 12px; }
.state li { padding: 1px 4px; border-radius: 3px; }
.state li.new { background: #fff8c5; box-shadow: inset 3px 0 #d4a017; }
.state li.gone { color: #8c959f; text-decoration: line-through; }
.state li.none { color: #8c959f; }
.legend { color: var(--grey); font-size: 12px; margin: 2px 0 0; }
.legend span { margin-right: 12px; white-space: nowrap; }
.legend i { display: inline-block; width: 18px; height: 10px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; }
table.matrix { border-collapse: separate; border-spacing: 2px; }
table.matrix th { font-size: 11.5px; padding: 2px 4px; text-align: center; vertical-align: bottom; font-weight: 600; }
table.matrix thead th span { display: inline-block; writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; padding: 2px 0; }
table.matrix th.scn { text-align: left; font-weight: 600; font-family: ui-monospace, monospace; font-size: 12px; width: 330px;
  max-width: 330px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
table.matrix th.scn small { font-family: system-ui, sans-serif; font-weight: 400; color: var(--grey); font-size: 11px; margin-left: 6px; }
table.matrix td.cell { text-align: center; padding: 3px 4px; border-radius: 4px; font-weight: 600; font-size: 11.5px; min-width: 62px; white-space: nowrap; }
table.matrix td.cell a { color: inherit; }
table.matrix tr.sep td { padding-top: 12px; font-weight: 600; font-size: 12.5px; }
table.matrix td.meas { text-align: center; font-family: ui-monospace, monospace; font-size: 11.5px; padding: 3px 4px; border-radius: 4px; }
details.cellreport { border: 1px solid var(--line); border-radius: 8px; margin: 10px 0; padding: 0 12px; }
details.cellreport > summary { cursor: pointer; padding: 8px 0; font-weight: 600; }
details.cellreport[open] { padding-bottom: 12px; }
ol.notes { color: var(--grey); font-size: 12.5px; }
`;

export const JS = `
(function () {
  'use strict';
  var reports = [];
  var active = null;

  function li(text, cls) {
    var el = document.createElement('li');
    el.textContent = text;
    if (cls) el.className = cls;
    return el;
  }

  function renderState(r, i) {
    var d = r.data;
    var cur = d.states[i];
    var prev = i > 0 ? d.states[i - 1] : d.init;
    var curSet = new Set(cur);
    var prevSet = new Set(prev);
    d.sections.forEach(function (name, s) {
      var ul = r.panel.querySelector('ul[data-sec="' + s + '"]');
      var items = [];
      cur.forEach(function (id) {
        if (d.lines[id][0] === s) items.push(li(d.lines[id][1], prevSet.has(id) ? '' : 'new'));
      });
      prev.forEach(function (id) {
        if (d.lines[id][0] === s && !curSet.has(id)) items.push(li(d.lines[id][1], 'gone'));
      });
      if (!items.length) items.push(li('none', 'none'));
      ul.replaceChildren.apply(ul, items);
    });
  }

  function setCursor(r, i, scroll) {
    var n = r.data.states.length;
    if (!n) return;
    i = Math.max(0, Math.min(n - 1, i));
    if (r.cur >= 0) r.rows[r.cur].classList.remove('cur');
    r.cur = i;
    var tr = r.rows[i];
    tr.classList.add('cur');
    var x = r.data.x0 + i * r.data.dx;
    r.cursor.setAttribute('transform', 'translate(' + x + ',0)');
    var what = 'step ' + tr.dataset.seq + '  t=' + tr.dataset.t + '  ' + tr.dataset.task + ': ' + tr.dataset.text;
    r.at.textContent = (i + 1) + '/' + n + '   ' + what;
    r.title.textContent = 'State after step ' + tr.dataset.seq;
    r.what.textContent = tr.dataset.task + ' (t=' + tr.dataset.t + '): ' + tr.dataset.text;
    renderState(r, i);
    if (scroll !== false) {
      var wrap = r.tracewrap;
      var top = tr.offsetTop - wrap.querySelector('thead').offsetHeight;
      if (top < wrap.scrollTop || tr.offsetTop + tr.offsetHeight > wrap.scrollTop + wrap.clientHeight)
        wrap.scrollTop = top - wrap.clientHeight / 3;
      var sc = r.swim;
      if (x < sc.scrollLeft + 40 || x > sc.scrollLeft + sc.clientWidth - 40) sc.scrollLeft = x - sc.clientWidth / 2;
    }
  }

  function nextKey(r, dir) {
    var keys = r.data.keys;
    for (var k = 0; k < keys.length; k++) {
      var j = dir > 0 ? keys[k] : keys[keys.length - 1 - k];
      if (dir > 0 ? j > r.cur : j < r.cur) return j;
    }
    return r.cur;
  }

  function act(r, a) {
    if (a === 'first') setCursor(r, 0);
    else if (a === 'prev') setCursor(r, r.cur - 1);
    else if (a === 'next') setCursor(r, r.cur + 1);
    else if (a === 'last') setCursor(r, r.data.states.length - 1);
    else if (a === 'finding') setCursor(r, r.data.anchor >= 0 ? r.data.anchor : r.cur);
    else if (a === 'prevkey') setCursor(r, nextKey(r, -1));
    else if (a === 'nextkey') setCursor(r, nextKey(r, 1));
  }

  function init(sec) {
    var data = JSON.parse(sec.querySelector('script.pl-data').textContent);
    var r = {
      sec: sec, data: data, cur: -1,
      rows: sec.querySelectorAll('tr.pl-row'),
      cursor: sec.querySelector('.pl-cursor'),
      at: sec.querySelector('.pl-at'),
      panel: sec.querySelector('.state'),
      title: sec.querySelector('.state h3'),
      what: sec.querySelector('.state .what'),
      swim: sec.querySelector('.swimscroll'),
      tracewrap: sec.querySelector('.tracewrap'),
      svg: sec.querySelector('svg.pl-swim')
    };
    reports.push(r);
    sec.addEventListener('pointerdown', function () { active = r; });
    sec.addEventListener('focusin', function () { active = r; });
    sec.querySelectorAll('[data-act]').forEach(function (b) {
      b.addEventListener('click', function () { active = r; act(r, b.getAttribute('data-act')); });
    });
    sec.querySelectorAll('[data-goto]').forEach(function (a) {
      a.addEventListener('click', function (e) { e.preventDefault(); active = r; setCursor(r, Number(a.getAttribute('data-goto'))); });
    });
    r.rows.forEach(function (tr, i) {
      tr.addEventListener('click', function () { setCursor(r, i, false); });
    });
    if (r.svg) r.svg.addEventListener('click', function (e) {
      var box = r.svg.getBoundingClientRect();
      setCursor(r, Math.floor((e.clientX - box.left) / data.dx));
    });
    setCursor(r, data.anchor >= 0 ? data.anchor : 0, false);
  }

  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    if (el && el.tagName === 'DETAILS') {
      el.open = true;
      var r = reports.find(function (x) { return el.contains(x.sec); });
      if (r) active = r;
      el.scrollIntoView({ block: 'start' });
    }
  }

  document.addEventListener('keydown', function (e) {
    var t = e.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var r = active || reports[0];
    if (!r) return;
    var map = { ArrowRight: 'next', j: 'next', ArrowLeft: 'prev', k: 'prev', Home: 'first', End: 'last',
      f: 'finding', n: 'nextkey', p: 'prevkey' };
    var a = map[e.key];
    if (!a) return;
    e.preventDefault();
    act(r, a);
  });

  document.querySelectorAll('section.pl-report').forEach(init);
  window.addEventListener('hashchange', openTarget);
  openTarget();
})();
`;
