// Deterministic generated articles and quotes for the browser benchmarks.
//
// An article is a list of paragraphs; a paragraph is plain text plus inline marks (<em>, <strong>,
// <a>) so that a passage often spans several text nodes, as in real pages. Text has accented
// letters and a few characters outside the BMP, so code points (W3C selectors, factmark) and
// UTF-16 units (DOM, most JavaScript tools) differ.

/** mulberry32: a small seeded PRNG; same seed, same article, on every machine. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)); // inclusive
  next.pick = (xs) => xs[Math.floor(next() * xs.length)];
  return next;
}

const COMMON = `the of and to in a is that for on was with as by at from it his an were are which this
be has have had not but its they after also who their been more one two new first people than
would there about into over when other some only years between while during government minister
officials report reported said says according sources army forces border region security city
council villages convoy images video footage claims claim evidence statement ministry press agency
witnesses residents drought water market prices election campaign court judge police protest
talks agreement ceasefire attack airport bridge road hospital school farmers traders refugees
journalists editors newspaper broadcast social media network accounts posts viral false misleading
verified unverified fabricated doctored satellite photograph caption archive earlier months weeks
northern southern eastern western national local regional international officials spokesperson
analysts experts observers diplomats delegation summit mission observers negotiators`.split(/\s+/);
const PROPER = ['Tinzaouatène', 'Kidal', 'Gao', 'Bamako', 'Algiers', 'Niamey', 'Ouagadougou', 'Ménaka',
  'Tessalit', 'Aguelhok', 'Sahel', 'Azawad', 'Tamanrasset', 'Agadez', 'Mopti', 'Ségou', 'Zoë Müller',
  'Amadou Traoré', 'Fatoumata Diallo', 'Hélène Côté', 'José Núñez', 'Łukasz Wróbel'];
const SYLLABLES = ['ka', 'lo', 'mi', 'ran', 'te', 'su', 'dor', 've', 'na', 'bri', 'tho', 'gel', 'ump',
  'sta', 'qui', 'zen', 'far', 'ol', 'ix', 'pre', 'mon', 'da', 'lu', 'ber', 'cor', 'wen', 'ash', 'é', 'ü'];
const ASTRAL = ['📰', '𝐀', '🛰', '📷', '𝔖'];

function vocabulary(r) {
  const rare = new Set();
  while (rare.size < 1500) {
    let w = '';
    for (let i = r.int(2, 4); i > 0; i -= 1) w += r.pick(SYLLABLES);
    rare.add(w);
  }
  return { common: COMMON, rare: [...rare] };
}

function word(r, vocab) {
  const x = r();
  if (x < 0.55) return r.pick(vocab.common);
  if (x < 0.58) return r.pick(PROPER);
  if (x < 0.5815) return r.pick(ASTRAL);
  if (x < 0.6) return String(r.int(2, 2099));
  return r.pick(vocab.rare);
}

function sentence(r, vocab) {
  const n = r.int(8, 24);
  const words = [];
  for (let i = 0; i < n; i += 1) words.push(word(r, vocab));
  words[0] = words[0][0].toUpperCase() + words[0].slice(1);
  if (n > 12 && r() < 0.4) words[r.int(3, n - 4)] += ',';
  if (r() < 0.1) return `“${words.join(' ')}.”`;
  return words.join(' ') + (r() < 0.08 ? '?' : '.');
}

/** Inline marks over whole words of `text` (non-overlapping, sorted). */
function inlineMarks(r, text) {
  const marks = [];
  const re = /\S+/g;
  let m;
  while ((m = re.exec(text))) {
    if (r() < 0.04) {
      const tag = r.pick(['em', 'strong', 'a']);
      const end = m.index + m[0].length;
      if (!marks.length || marks[marks.length - 1].end < m.index) marks.push({ start: m.index, end, tag });
    }
  }
  return marks;
}

function paragraph(r, vocab, minChars) {
  let text = sentence(r, vocab);
  while (text.length < minChars) text += ' ' + sentence(r, vocab);
  return { text, marks: inlineMarks(r, text) };
}

/** An article of about `bytes` characters of text with varied paragraphs (quotes are unique). */
export function variedArticle(bytes, seed = 1) {
  const r = rng(seed);
  const vocab = vocabulary(r);
  const paragraphs = [];
  let total = 0;
  while (total < bytes) {
    const p = paragraph(r, vocab, r.int(250, 900));
    paragraphs.push(p);
    total += p.text.length;
  }
  return finish({ name: `varied-${label(bytes)}`, title: 'Generated article', paragraphs });
}

/**
 * An article whose paragraphs are near-duplicates: a few templates, each copy with one to three
 * words replaced. Long stretches of text repeat, so the right place for a quote can be ambiguous.
 */
export function nearDuplicateArticle(bytes, seed = 7) {
  const r = rng(seed);
  const vocab = vocabulary(r);
  const templates = Array.from({ length: 6 }, () => paragraph(r, vocab, 500).text);
  const paragraphs = [];
  let total = 0;
  for (let i = 0; total < bytes; i += 1) {
    const words = templates[i % templates.length].split(' ');
    for (let k = r.int(1, 3); k > 0; k -= 1) words[r.int(0, words.length - 1)] = word(r, vocab);
    const text = words.join(' ');
    paragraphs.push({ text, marks: inlineMarks(r, text) });
    total += text.length;
  }
  return finish({ name: `near-duplicate-${label(bytes)}`, title: 'Generated near-duplicate article', paragraphs });
}

function label(bytes) {
  return bytes >= 1e6 ? `${bytes / 1e6}MB` : `${bytes / 1e3}KB`;
}

/**
 * Adds the article's text (as the DOM's text nodes concatenate, i.e. textContent of the root) and
 * where each paragraph starts in it.
 */
function finish(article) {
  let text = article.title;
  const starts = [];
  for (const p of article.paragraphs) {
    starts.push(text.length);
    text += p.text;
  }
  return { ...article, text, paragraphStarts: starts };
}

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const esc = (s) => s.replace(/[&<>"]/g, (c) => ESC[c]);

/** The article's HTML: <article id=…><h1>…</h1><p>…</p>… with no whitespace between blocks. */
export function articleHtml(article, id = 'bench-article') {
  const ps = article.paragraphs.map(({ text, marks }) => {
    let out = '';
    let at = 0;
    for (const { start, end, tag } of marks) {
      out += esc(text.slice(at, start));
      const open = tag === 'a' ? '<a href="#">' : `<${tag}>`;
      out += `${open}${esc(text.slice(start, end))}</${tag}>`;
      at = end;
    }
    return `<p>${out}${esc(text.slice(at))}</p>`;
  });
  return `<article id="${id}"><h1>${esc(article.title)}</h1>${ps.join('')}</article>`;
}

/** Code-point length of a string; code-point offset of a UTF-16 offset in `text`. */
export const cpLen = (s) => {
  let n = 0;
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n += 1;
  }
  return n;
};

/** A UTF-16 ⇄ code point converter for one text (prefix counts of astral characters). */
export function offsetMap(text) {
  const astralBefore = new Uint32Array(text.length + 1); // astral characters starting before unit i
  for (let i = 0, n = 0; i < text.length; i += 1) {
    astralBefore[i] = n;
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n += 1;
    astralBefore[i + 1] = n;
  }
  return { toCp: (u) => u - astralBefore[u] };
}

const CONTEXT = 32;

/** 32 code points of context either side, clipped at the text's ends. */
function context(text, start, end) {
  const before = [...text.slice(Math.max(0, start - 2 * CONTEXT), start)];
  const after = [...text.slice(end, end + 2 * CONTEXT)];
  return {
    prefix: before.slice(-CONTEXT).join(''),
    suffix: after.slice(0, CONTEXT).join(''),
  };
}

/**
 * A selector set for text[startU16, endU16): W3C TextQuote (exact, prefix, suffix) and
 * TextPosition (start, end in code points), plus UTF-16 offsets for the tools that count units.
 */
export function describe(text, map, startU16, endU16) {
  return {
    exact: text.slice(startU16, endU16),
    ...context(text, startU16, endU16),
    start: map.toCp(startU16),
    end: map.toCp(endU16),
    startU16,
    endU16,
  };
}

/**
 * `n` quotes of 20–200 characters inside paragraphs, starting and ending on word boundaries.
 * With `unique`, only quotes that occur once in the text are kept.
 */
export function quotes(article, n, { seed = 11, unique = true } = {}) {
  const r = rng(seed);
  const { text, paragraphs, paragraphStarts } = article;
  const map = offsetMap(text);
  const out = [];
  const taken = new Set();
  for (let tries = 0; out.length < n; tries += 1) {
    if (tries > n * 50) throw new Error(`cannot find ${n} quotes in ${article.name}`);
    const pi = r.int(0, paragraphs.length - 1);
    const p = paragraphs[pi].text;
    const want = r.int(20, 200);
    if (p.length < want + 2) continue;
    let s = r.int(0, p.length - want);
    while (s > 0 && p[s - 1] !== ' ') s -= 1;
    let e = Math.min(p.length, s + want);
    while (e < p.length && p[e] !== ' ') e += 1;
    while (e > s && p[e - 1] === ' ') e -= 1;
    if (e - s < 20 || e - s > 220) continue;
    const startU16 = paragraphStarts[pi] + s;
    const endU16 = paragraphStarts[pi] + e;
    const exact = text.slice(startU16, endU16);
    if (unique && (text.indexOf(exact, startU16 + 1) !== -1 || text.lastIndexOf(exact, startU16 - 1) !== -1)) continue;
    if (taken.has(startU16)) continue;
    taken.add(startU16);
    out.push({ ...describe(text, map, startU16, endU16), paragraph: pi });
  }
  return out;
}

/**
 * Edits the article at each quote's passage, as a newsroom correction would: 1, 2 or 3 letters
 * changed, or a word inserted, in turn. Quotes must not overlap (the generator may pick close
 * ones; those are skipped). Returns the edited article and, for each kept quote, its selectors
 * (describing the original text) and where the edited passage now is (UTF-16).
 */
export function editPassages(article, selected, { seed = 23 } = {}) {
  const r = rng(seed);
  const kinds = ['letters1', 'insertWord', 'letters2', 'letters3'];
  const sorted = [...selected].sort((a, b) => a.startU16 - b.startU16);
  const kept = [];
  let lastEnd = -1;
  for (const q of sorted) {
    // Leave the context of neighbours untouched too, so the right answer stays well defined.
    if (q.startU16 - CONTEXT * 2 <= lastEnd) continue;
    kept.push(q);
    lastEnd = q.endU16 + CONTEXT * 2;
  }
  const paragraphs = article.paragraphs.map((p) => ({ text: p.text, marks: p.marks.map((m) => ({ ...m })) }));
  const edits = []; // per kept quote: new text of the passage
  kept.forEach((q, i) => {
    const kind = kinds[i % kinds.length];
    let passage = q.exact;
    let insertAt = null; // where in the passage a word went in
    if (kind === 'insertWord') {
      const spaces = [...passage.matchAll(/ /g)].map((m) => m.index);
      insertAt = spaces.length ? r.pick(spaces) : passage.length;
      passage = passage.slice(0, insertAt) + ' reportedly' + passage.slice(insertAt);
    } else {
      const count = Number(kind.slice(-1));
      const chars = passage.split('');
      const letters = chars.map((c, k) => (/[a-z]/.test(c) ? k : -1)).filter((k) => k >= 0);
      for (let k = 0; k < count && letters.length; k += 1) {
        const at = letters.splice(r.int(0, letters.length - 1), 1)[0];
        chars[at] = chars[at] === 'x' ? 'q' : 'x';
      }
      passage = chars.join('');
    }
    edits.push({ q, kind, passage, insertAt });
  });
  // Apply per paragraph, right to left, shifting inline marks.
  const byParagraph = new Map();
  for (const e of edits) byParagraph.set(e.q.paragraph, [...(byParagraph.get(e.q.paragraph) ?? []), e]);
  for (const [pi, list] of byParagraph) {
    const p = paragraphs[pi];
    for (const e of list.sort((a, b) => b.q.startU16 - a.q.startU16)) {
      const s = e.q.startU16 - article.paragraphStarts[pi];
      const end = e.q.endU16 - article.paragraphStarts[pi];
      p.text = p.text.slice(0, s) + e.passage + p.text.slice(end);
      if (e.insertAt != null) {
        // Inline marks keep their words: boundaries after the insertion point move with the text.
        const at = s + e.insertAt;
        const delta = e.passage.length - (end - s);
        for (const m of p.marks) {
          if (m.start >= at) m.start += delta;
          if (m.end > at) m.end += delta;
        }
      }
    }
  }
  const edited = finish({ ...article, name: `${article.name}-edited`, paragraphs });
  // Where each edited passage now starts: original start plus growth of earlier edits.
  let growth = 0;
  const cases = edits.map((e) => {
    const startU16 = e.q.startU16 + growth;
    const endU16 = startU16 + e.passage.length;
    growth += e.passage.length - e.q.exact.length;
    if (edited.text.slice(startU16, endU16) !== e.passage) throw new Error('edit bookkeeping is off');
    return { selector: e.q, kind: e.kind, truth: { startU16, endU16 } };
  });
  return { article: edited, cases };
}
