// Goals and readable (Markdown) tables for the browser benchmark results.

const FM = 'factmark';
const fmt = (ms) => (ms == null ? '–' : ms >= 100 ? `${Math.round(ms)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`);
const kb = (b) => `${(b / 1000).toFixed(1)} KB`;
const yes = (ok) => (ok ? 'met' : '**missed**');

function usable(cell) {
  return cell && typeof cell.ms === 'number' && !cell.error && !cell.skipped;
}

function cellText(cell, n) {
  if (!cell) return '–';
  if (cell.skipped) return `n/a (${cell.skipped})`;
  if (cell.error) return `error: ${cell.error}`;
  const est = cell.extrapolatedFrom ? ` (est. from ${cell.extrapolatedFrom})` : cell.estimated ? ` (est., ${cell.done} done)` : '';
  let s = fmt(cell.ms) + est + (cell.method === 'import' ? ' (via import())' : '');
  if (typeof cell.right === 'number' && (cell.right !== (n ?? cell.graded) || cell.wrong)) {
    s += ` [${cell.right} right, ${cell.orphan} orphan, ${cell.wrong} wrong]`;
  }
  return s;
}

/** Speed-up of factmark over the fastest peer (peer ms / factmark ms). */
function vsBest(row) {
  const fm = row.tools[FM];
  const peers = Object.entries(row.tools).filter(([k, c]) => k !== FM && usable(c));
  if (!usable(fm) || peers.length === 0) return { best: null, ratio: null };
  const [best, cell] = peers.reduce((a, b) => (b[1].ms < a[1].ms ? b : a));
  return { best, ratio: cell.ms / fm.ms };
}

const ratioText = (r) => (r == null ? '–' : r >= 1 ? `${r.toFixed(r >= 10 ? 0 : 1)}× faster` : `${(1 / r).toFixed(1)}× slower`);

/** The fastest usable tool of a row among those whose name passes `pick`. */
function bestOf(row, pick) {
  const cells = Object.entries(row?.tools ?? {}).filter(([k, c]) => pick(k) && usable(c));
  return cells.length ? cells.reduce((a, b) => (b[1].ms < a[1].ms ? b : a))[0] : null;
}

function ratio(row, tool) {
  const fm = row?.tools?.[FM];
  const peer = row?.tools?.[tool];
  return usable(fm) && usable(peer) ? peer.ms / fm.ms : null;
}

export function goals(results) {
  const out = [];
  const b = results.browser ?? {};
  if (b.transfer) out.push({ goal: 'transfer size (gzip -9) ≤ 150 KB, reader page', measured: b.transfer.bytesGzip9 != null ? kb(b.transfer.bytesGzip9) : b.transfer.error, met: !!b.transfer.met });
  if (b.transfer?.endpointPage) out.push({ goal: 'transfer size (gzip -9) ≤ 150 KB, endpoint page', measured: kb(b.transfer.endpointPage.bytesGzip9), met: !!b.transfer.endpointPage.met });
  if (b.load1000) out.push({ goal: '1,000 stored annotations on 1 MB ≤ 50 ms', measured: b.load1000.error ?? fmt(b.load1000.ms), met: !!b.load1000.met });
  if (b.startup) out.push({ goal: 'start-up to factmark:ready ≤ 100 ms', measured: b.startup.error ?? fmt(b.startup.ms), met: !!b.startup.met });
  const p = results.peers ?? {};
  const via = (row) => (row?.tools?.[FM]?.method === 'import' ? '; factmark via import(), an upper bound' : '');
  for (const positions of [false, true]) {
    const row = p.exact?.find((r) => r.article === '1MB' && r.quotes === 1000 && r.positions === positions);
    if (!row) continue;
    const label = `1 MB / 1,000 quotes, ${positions ? 'with' : 'without'} positions${via(row)}`;
    const h = ratio(row, 'hypothesis-style');
    out.push({ goal: `exact: ≥ 50× faster than hypothesis-style (${label})`, measured: ratioText(h), met: h != null && h >= 50 });
    const f = ratio(row, 'plain-js-floor');
    out.push({ goal: `exact: faster than the plain-JS floor (${label})`, measured: ratioText(f), met: f != null && f > 1 });
  }
  for (const row of p.fuzzy ?? []) {
    const h = ratio(row, 'hypothesis-style');
    const fm = row.tools[FM];
    out.push({ goal: `fuzzy: ≥ 10× faster than hypothesis-style (${row.article}${via(row)})`, measured: ratioText(h), met: h != null && h >= 10 });
    out.push({ goal: `fuzzy: no wrong placement (${row.article})`, measured: usable(fm) ? `${fm.right} right, ${fm.orphan} orphan, ${fm.wrong} wrong` : fm?.error ?? '–', met: usable(fm) && fm.wrong === 0 });
  }
  const load = p.load?.[0];
  if (load) {
    const r = ratio(load, bestOf(load, (k) => k.startsWith('@recogito/')));
    out.push({ goal: 'load 1,000 annotations: ≥ 20× faster than RecogitoJS', measured: ratioText(r), met: r != null && r >= 20 });
  }
  return out;
}

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function markdown(results) {
  const b = results.browser ?? {};
  const lines = [`### factmark in the browser (Chromium ${b.chromium})`, ''];
  const rows = [];
  if (b.transfer) rows.push(['transfer size, reader page: factmark.js + factmark_bg.js + factmark_bg.wasm, gzip -9', b.transfer.error ?? `${kb(b.transfer.bytesGzip9)} (${kb(b.transfer.bytesRaw)} raw)`, '≤ 150 KB', b.transfer.error ? '–' : yes(b.transfer.met)]);
  if (b.transfer?.endpointPage) rows.push(['… endpoint page: factmark.js + factmark-sync_bg.js + factmark-sync_bg.wasm', `${kb(b.transfer.endpointPage.bytesGzip9)} (${kb(b.transfer.endpointPage.bytesRaw)} raw)`, '≤ 150 KB', yes(b.transfer.endpointPage.met)]);
  if (b.load1000) rows.push(['1,000 stored annotations on a 1 MB article: parse, anchor, highlight, next frame', b.load1000.error ?? `${fmt(b.load1000.ms)} (${b.load1000.method})`, '≤ 50 ms', b.load1000.error ? '–' : yes(b.load1000.met)]);
  if (b.load1000Floor) rows.push(['… the same load in plain JavaScript doing the least possible (floor, not a target)', b.load1000Floor.error ?? `${fmt(b.load1000Floor.ms)} (JSON.parse ${fmt(b.load1000Floor.parseMs)}, text index ${fmt(b.load1000Floor.textIndexMs)})`, '–', '–']);
  if (b.startup) rows.push(['start-up: script request → factmark:ready (demo page, with an endpoint: sync build)', b.startup.error ?? fmt(b.startup.ms), '≤ 100 ms', b.startup.error ? '–' : yes(b.startup.met)]);
  if (b.startupReader) rows.push(['… the same page without data-endpoint (reader build)', fmt(b.startupReader.ms), '–', '–']);
  const sf = b.startupFloor;
  // Floors (not targets): the page's script does only part of the widget's start-up.
  const pair = (a, b) => `${a ? fmt(a.ms) : '–'}; ${b ? fmt(b.ms) : '–'}`;
  if (sf?.instantiate || sf?.compile) rows.push(['… floor, demo page: a script that only instantiates the sync build (glue + wasm, no widget code runs); one that only downloads and compiles its wasm', pair(sf.instantiate, sf.compile), '–', '–']);
  if (sf?.readerInstantiate || sf?.readerCompile) rows.push(['… floor, reader page: the same with the reader build', pair(sf.readerInstantiate, sf.readerCompile), '–', '–']);
  if (sf?.emptyWasm || sf?.empty) rows.push(['… floor: a script that only compiles the smallest wasm module (8 bytes); a script that does nothing', pair(sf.emptyWasm, sf.empty), '–', '–']);
  if (b.startup?.firstPaintMs != null && sf?.empty?.firstPaintMs != null) rows.push(['… the page\'s own first paint on the same clock: with the widget; with the script that does nothing', `${fmt(b.startup.firstPaintMs)}; ${fmt(sf.empty.firstPaintMs)}`, '–', '–']);
  lines.push(table(['figure', 'measured (median)', 'target', ''], rows), '');

  const p = results.peers ?? {};
  const out = [`### factmark and the tools people use today (Chromium ${p.chromium}; medians, time measured in the page)`, ''];
  if (p.exact?.length) {
    const tools = Object.keys(p.exact[0].tools);
    out.push('**1. Exact anchoring to DOM Ranges** (quotes 20–200 characters, 32 characters of context; "est." = stopped after the time cap and extrapolated)', '');
    out.push(table(['article', 'quotes', 'positions', ...tools, 'factmark vs best peer'],
      p.exact.map((r) => {
        const v = vsBest(r);
        return [r.article, r.quotes, r.positions ? 'yes' : 'no', ...tools.map((t) => cellText(r.tools[t], r.quotes)), v.ratio == null ? '–' : `${ratioText(v.ratio)} (${v.best})`];
      })), '');
  }
  if (p.fuzzy?.length) {
    const tools = Object.keys(p.fuzzy[0].tools);
    out.push('**2. Fuzzy re-anchoring** of 100 quotes (with positions) after their passages were edited (1–3 letters changed or a word inserted): time, right / orphan / wrong. Right = the range overlaps the edited passage by at least half of their union; (v) = wrong ones that sit on a verbatim copy of the stored quote and its 32-character context', '');
    out.push(table(['article', 'verbatim copy after edit', ...tools, 'factmark vs hypothesis-style'],
      p.fuzzy.map((r) => [r.article, `${r.verbatimCopyAfterEdit} of ${r.quotes}`, ...tools.map((t) => {
        const c = r.tools[t];
        const v = c?.wrongOntoVerbatimCopy ? ` (${c.wrongOntoVerbatimCopy} v)` : '';
        return usable(c) ? `${fmt(c.ms)}${c.estimated ? ` (est., ${c.done} done)` : ''}: ${c.right} / ${c.orphan} / ${c.wrong}${v}` : cellText(c);
      }), ratioText(ratio(r, 'hypothesis-style'))])), '');
  }
  if (p.highlight?.length) {
    const r = p.highlight[0];
    out.push('**3. Highlighting 1,000 ranges until the next frame** (1 MB article)', '');
    out.push(table(['highlighter', 'median', 'of which synchronous work'],
      Object.entries(r.tools).map(([t, c]) => [t, usable(c) ? fmt(c.ms) : cellText(c), usable(c) ? fmt(c.work) : '–'])), '');
  }
  if (p.load?.length) {
    const r = p.load[0];
    out.push('**4. Loading 1,000 stored annotations end to end** (1 MB article)', '');
    out.push(table(['tool', 'median', 'how'],
      Object.entries(r.tools).map(([t, c]) => [t, usable(c) ? fmt(c.ms) : cellText(c),
        t === FM ? (c.method ?? '') : 'setAnnotations(W3C) → next frame'])), '');
    out.push(`factmark vs RecogitoJS (faster renderer): ${ratioText(ratio(r, bestOf(r, (k) => k.startsWith('@recogito/'))))}`, '');
  }
  if (p.size?.length) {
    out.push('**5. What a page must load** (minified where we bundle it, gzip -9)', '');
    out.push(table(['tool', 'gzip -9', 'raw', 'what'], p.size.map((s) => [s.tool, kb(s.gzip9), kb(s.raw), s.what])), '');
  }
  if (p.goals?.length) {
    out.push('**Goals**', '');
    out.push(table(['goal', 'measured', ''], p.goals.map((g) => [g.goal, g.measured ?? '–', yes(g.met)])), '');
  }
  return { browser: lines.join('\n'), peers: out.join('\n') };
}
