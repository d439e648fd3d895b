//! String search over matching views (`&[u32]` code points, see [`crate::text::View`]).
//!
//! - [`find_exact_all`]: every occurrence of many patterns in one text (multi-pattern
//!   Rabin–Karp: the patterns' q-grams go into a hash table fronted by a bitmap that stays in
//!   cache; the text is hashed once — only at every 8th position for patterns of 15 characters or
//!   more — and hits are verified).
//! - [`Myers`]: bit-parallel approximate matching (Myers 1999, in Hyyrö's block formulation) with
//!   any number of 64-row blocks and Ukkonen's cut-off, so only the blocks that can still hold a
//!   score ≤ k are computed. It reports candidate end positions with their edit distance and
//!   recovers start positions by running the reversed pattern leftwards from an end.
//! - [`SeedIndex`] + [`approximate_search`]: a q-gram index of the text that narrows approximate
//!   search to windows around exact seeds. Cut the pattern into `j = m / q` disjoint q-character
//!   pieces: one edit spoils at most one piece, so an occurrence with at most `k` edits keeps at
//!   least `j − k` pieces intact, on diagonals within `k` of its start. Verifying only the windows
//!   where that many pieces meet finds every occurrence a full scan would (pigeonhole, extended
//!   to a count). When `j ≤ k`, or the windows would cover half the text, it scans the whole
//!   text; the filter never changes what is found, only the time.

/// An approximate occurrence: the text range `[start, end)` and its edit distance to the pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApproxMatch {
    pub start: usize,
    pub end: usize,
    pub distance: usize,
}

// ---------------------------------------------------------------------------------------------
// Exact multi-pattern search

const HASH_BASE: u64 = 0x100_0000_01B3; // odd; a polynomial hash mod 2^64
const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

fn poly_hash(s: &[u32]) -> u64 {
    s.iter().fold(0u64, |h, &c| {
        h.wrapping_mul(HASH_BASE).wrapping_add(c as u64)
    })
}

/// Start offsets of every occurrence of each pattern in `text` (overlapping ones included), in
/// ascending order; `result[i]` belongs to `patterns[i]`. An empty pattern has no occurrences.
///
/// Patterns of 15 characters or more (nearly every quote) share one sampled pass: the text is
/// hashed only at every `STRIDE`-th position, on its next 8 and 16 characters, and a pattern is
/// entered under its q-grams at offsets `0..STRIDE` (q = 16 if it is at least 23 long, else 8),
/// so that each of its occurrences has exactly one q-gram at a sampled position. Shorter
/// patterns get one rolling pass per length.
pub fn find_exact_all(text: &[u32], patterns: &[&[u32]]) -> Vec<Vec<usize>> {
    let mut found = vec![Vec::new(); patterns.len()];
    let usable = |i: &usize| !patterns[*i].is_empty() && patterns[*i].len() <= text.len();
    let sampled_q = |len: usize| [16, 8].into_iter().find(|&q| q + STRIDE - 1 <= len);
    let long: Vec<Entry> = (0..patterns.len())
        .filter(usable)
        .filter_map(|i| sampled_q(patterns[i].len()).map(|q| (i, q)))
        .flat_map(|(i, q)| {
            (0..STRIDE).map(move |offset| Entry {
                pattern: i,
                offset,
                q,
            })
        })
        .collect();
    if !long.is_empty() {
        scan(text, patterns, &long, STRIDE, &mut found);
        for e in long.iter().step_by(STRIDE) {
            crate::order::sort_usizes(&mut found[e.pattern]);
        }
    }
    let short: Vec<usize> = (0..patterns.len())
        .filter(usable)
        .filter(|&i| sampled_q(patterns[i].len()).is_none())
        .collect();
    let mut lengths: Vec<usize> = short.iter().map(|&i| patterns[i].len()).collect();
    crate::order::sort_usizes(&mut lengths);
    lengths.dedup();
    for q in lengths {
        let entries: Vec<Entry> = short
            .iter()
            .filter(|&&i| patterns[i].len() == q)
            .map(|&i| Entry {
                pattern: i,
                offset: 0,
                q,
            })
            .collect();
        scan(text, patterns, &entries, 1, &mut found);
    }
    found
}

/// Text positions sampled by the pass for patterns of 15 characters or more.
const STRIDE: usize = 8;

/// Per-position multipliers of the sampled passes' hash (odd, well mixed). Unlike a polynomial
/// hash, its terms do not depend on each other, and 32-bit weights times 21-bit code points never
/// overflow a 64-bit sum: it vectorizes, with native 32×32→64 multiplies.
const WEIGHTS: [u32; 16] = {
    let mut w = [0u32; 16];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut i = 0;
    while i < 16 {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        w[i] = ((z ^ (z >> 31)) >> 32) as u32 | 1;
        i += 1;
    }
    w
};

fn weighted_hash(s: &[u32]) -> u64 {
    s.iter()
        .zip(WEIGHTS)
        .fold(0u64, |h, (&c, w)| h.wrapping_add(c as u64 * w as u64))
}

/// A pattern entered in a scan's table under the hash of `pattern[offset..offset + q]`.
#[derive(Clone, Copy)]
struct Entry {
    pattern: usize,
    offset: usize,
    q: usize,
}

/// One pass over the text for `entries`, verifying each hash hit against the whole pattern.
/// With `stride` 1 (the entries then share one q) a polynomial hash rolls over every position;
/// otherwise every `stride`-th position is hashed afresh, for each q the entries use (the
/// weighted hash of a q-gram is a prefix sum of that of a longer one).
fn scan(
    text: &[u32],
    patterns: &[&[u32]],
    entries: &[Entry],
    stride: usize,
    found: &mut [Vec<usize>],
) {
    let hash = |s: &[u32]| {
        if stride == 1 {
            poly_hash(s)
        } else {
            weighted_hash(s)
        }
    };
    // Open addressing: slot → (hash, head of the chain of entries sharing it).
    let bits = (entries.len() * 2)
        .next_power_of_two()
        .trailing_zeros()
        .max(4);
    let mask = (1usize << bits) - 1;
    let slot_of = |h: u64| (h.wrapping_mul(MIX) >> (64 - bits)) as usize;
    const EMPTY: u32 = u32::MAX;
    let mut slots: Vec<(u64, u32)> = vec![(0, EMPTY); 1 << bits];
    let mut next = vec![EMPTY; entries.len()];
    let key = |e: &Entry| hash(&patterns[e.pattern][e.offset..e.offset + e.q]);
    for (n, entry) in entries.iter().enumerate() {
        let h = key(entry);
        let mut s = slot_of(h);
        loop {
            let (sh, head) = slots[s];
            if head == EMPTY {
                slots[s] = (h, n as u32);
                break;
            }
            if sh == h {
                next[n] = head;
                slots[s].1 = n as u32;
                break;
            }
            s = (s + 1) & mask;
        }
    }
    // Almost every text position misses; a bitmap (~1.5% false positives, in L1 cache for up to
    // ~1,000 entries) answers that with a well-predicted branch before the table is probed.
    let filter_bits = (entries.len() * 64)
        .next_power_of_two()
        .trailing_zeros()
        .clamp(12, 22);
    let filter_of = |h: u64| (h.wrapping_mul(MIX).rotate_left(bits) >> (64 - filter_bits)) as usize;
    let mut filter = vec![0u64; (1usize << filter_bits) / 64];
    for entry in entries {
        let f = filter_of(key(entry));
        filter[f / 64] |= 1 << (f % 64);
    }
    let maybe = |h: u64| {
        let f = filter_of(h);
        filter[f / 64] & (1 << (f % 64)) != 0
    };
    let probe = |h: u64, q: usize, p: usize, found: &mut [Vec<usize>]| {
        let mut s = slot_of(h);
        loop {
            let (sh, head) = slots[s];
            if head == EMPTY {
                return;
            }
            if sh == h {
                let mut n = head;
                while n != EMPTY {
                    let Entry {
                        pattern,
                        offset,
                        q: entry_q,
                    } = entries[n as usize];
                    let pat = patterns[pattern];
                    // Hashes of different lengths may coincide; each length checks its own.
                    if entry_q == q && p >= offset && text.len() - (p - offset) >= pat.len() {
                        let at = p - offset;
                        if text[at..at + pat.len()] == *pat {
                            found[pattern].push(at);
                        }
                    }
                    n = next[n as usize];
                }
                return;
            }
            s = (s + 1) & mask;
        }
    };
    let q_min = entries.iter().map(|e| e.q).min().unwrap_or(1);
    let q_max = entries.iter().map(|e| e.q).max().unwrap_or(1);
    if stride == 1 {
        let q = q_max;
        let top = (1..q).fold(1u64, |p, _| p.wrapping_mul(HASH_BASE)); // HASH_BASE^(q-1)
        let mut h = poly_hash(&text[..q]);
        for p in 0..=text.len() - q {
            if p > 0 {
                h = h
                    .wrapping_sub((text[p - 1] as u64).wrapping_mul(top))
                    .wrapping_mul(HASH_BASE)
                    .wrapping_add(text[p + q - 1] as u64);
            }
            if maybe(h) {
                probe(h, q, p, found);
            }
        }
    } else if q_min == q_max {
        for p in (0..=text.len() - q_min).step_by(stride) {
            let h = weighted_hash(&text[p..p + q_min]);
            if maybe(h) {
                probe(h, q_min, p, found);
            }
        }
    } else {
        for p in (0..=text.len() - q_min).step_by(stride) {
            let h = weighted_hash(&text[p..p + q_min]);
            if maybe(h) {
                probe(h, q_min, p, found);
            }
            if p + q_max <= text.len() {
                let rest = text[p + q_min..p + q_max].iter().zip(&WEIGHTS[q_min..]);
                let h = rest.fold(h, |h, (&c, &w)| h.wrapping_add(c as u64 * w as u64));
                if maybe(h) {
                    probe(h, q_max, p, found);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Myers' bit-parallel approximate matching

/// A pattern prepared for bit-parallel matching: per character, one bit mask per 64-row block.
#[derive(Clone, Debug)]
pub struct Myers {
    m: usize,
    blocks: usize,
    /// Pattern-local id + 1 of ASCII characters (0: not in the pattern).
    ascii: [u32; 128],
    /// (character, id + 1) for the other characters, sorted.
    other: Vec<(u32, u32)>,
    /// `peq[id * blocks + b]`: rows of block `b` holding character `id` (row 0 of ids: none).
    peq: Vec<u64>,
}

impl Myers {
    pub fn new(pattern: &[u32]) -> Myers {
        let m = pattern.len();
        let blocks = m.div_ceil(64).max(1);
        let mut ascii = [0u32; 128];
        let mut other: Vec<(u32, u32)> = Vec::new();
        let mut ids = 0u32;
        let mut id_of = |c: u32, ascii: &mut [u32; 128], other: &mut Vec<(u32, u32)>| -> usize {
            if c < 128 {
                if ascii[c as usize] == 0 {
                    ids += 1;
                    ascii[c as usize] = ids;
                }
                ascii[c as usize] as usize
            } else {
                match other.binary_search_by_key(&c, |e| e.0) {
                    Ok(k) => other[k].1 as usize,
                    Err(k) => {
                        ids += 1;
                        other.insert(k, (c, ids));
                        ids as usize
                    }
                }
            }
        };
        let ids_of: Vec<usize> = pattern
            .iter()
            .map(|&c| id_of(c, &mut ascii, &mut other))
            .collect();
        let n_ids = ids_of.iter().copied().max().unwrap_or(0) + 1;
        let mut peq = vec![0u64; n_ids * blocks];
        for (row, &id) in ids_of.iter().enumerate() {
            peq[id * blocks + row / 64] |= 1u64 << (row % 64);
        }
        Myers {
            m,
            blocks,
            ascii,
            other,
            peq,
        }
    }

    pub fn len(&self) -> usize {
        self.m
    }

    pub fn is_empty(&self) -> bool {
        self.m == 0
    }

    #[inline(always)]
    fn id(&self, c: u32) -> usize {
        if c < 128 {
            self.ascii[c as usize] as usize
        } else if self.other.is_empty() {
            0
        } else {
            match self.other.binary_search_by_key(&c, |e| e.0) {
                Ok(k) => self.other[k].1 as usize,
                Err(_) => 0,
            }
        }
    }

    /// Rows in block `b`.
    fn rows(&self, b: usize) -> usize {
        (self.m - b * 64).min(64)
    }

    /// Mask of the bottom row of block `b`.
    fn high(&self, b: usize) -> u64 {
        1u64 << (self.rows(b) - 1)
    }

    /// Semi-global search (the pattern anywhere in `text[from..to]`): appends, for each maximal run
    /// of end positions with distance ≤ `k`, the end with the smallest distance (leftmost on ties)
    /// as `(end, distance)`; `end` is exclusive and absolute in `text`.
    pub fn find_ends(
        &self,
        text: &[u32],
        from: usize,
        to: usize,
        k: usize,
        out: &mut Vec<(usize, usize)>,
    ) {
        let m = self.m;
        if m == 0 || from >= to {
            return;
        }
        let nb = self.blocks;
        let mut run: Option<(usize, usize)> = None;
        // Within a run of consecutive ends ≤ k, the first end with the run's lowest distance.
        let keep_best = |run: &mut Option<(usize, usize)>, end: usize, d: usize| match run {
            Some((_, best)) if *best <= d => {}
            _ => *run = Some((end, d)),
        };
        let flush = |run: &mut Option<(usize, usize)>, out: &mut Vec<(usize, usize)>| {
            if let Some(r) = run.take() {
                out.push(r);
            }
        };
        if nb == 1 {
            // One block: the common case, kept free of the block bookkeeping.
            let high = self.high(0);
            let (mut pv, mut mv, mut score) = (!0u64, 0u64, m);
            for (j, &c) in text[from..to].iter().enumerate() {
                let eq = self.peq[self.id(c)];
                let h = advance_block(&mut pv, &mut mv, eq, 0, high);
                score = (score as isize + h as isize) as usize;
                if score <= k {
                    keep_best(&mut run, from + j + 1, score);
                } else {
                    flush(&mut run, out);
                }
            }
            flush(&mut run, out);
            return;
        }
        let mut pv = vec![!0u64; nb];
        let mut mv = vec![0u64; nb];
        // score[b]: value at the bottom row of block b in the current column.
        let mut score: Vec<usize> = (0..nb).map(|b| b * 64 + self.rows(b)).collect();
        let mut y = (k / 64).min(nb - 1);
        for (j, &c) in text[from..to].iter().enumerate() {
            let base = self.id(c) * nb;
            let mut hout = 0i32;
            for b in 0..=y {
                hout = advance_block(
                    &mut pv[b],
                    &mut mv[b],
                    self.peq[base + b],
                    hout,
                    self.high(b),
                );
                score[b] = (score[b] as isize + hout as isize) as usize;
            }
            // Ukkonen: the last active row moves down at most one row per column, so at most one
            // more block can become active; it starts from the upper bound "each row +1".
            let prev_bottom = (score[y] as isize - hout as isize) as usize;
            if y + 1 < nb && (prev_bottom <= k || score[y] <= k) {
                y += 1;
                pv[y] = !0;
                mv[y] = 0;
                score[y] = prev_bottom + self.rows(y);
                hout = advance_block(
                    &mut pv[y],
                    &mut mv[y],
                    self.peq[base + y],
                    hout,
                    self.high(y),
                );
                score[y] = (score[y] as isize + hout as isize) as usize;
            }
            // A block whose bottom exceeds k by at least its height holds no row ≤ k.
            while y > 0 && score[y] >= k + self.rows(y) {
                y -= 1;
            }
            if y == nb - 1 && score[y] <= k {
                keep_best(&mut run, from + j + 1, score[y]);
            } else {
                flush(&mut run, out);
            }
        }
        flush(&mut run, out);
    }

    /// Anchored alignment: calls `visit(j, d)` for `j` in `0..=text.len()` with `d` the edit distance
    /// between the whole pattern and `text[..j]`.
    pub fn anchored(&self, text: impl Iterator<Item = u32>, mut visit: impl FnMut(usize, usize)) {
        let nb = self.blocks;
        let mut score = self.m;
        if self.m == 0 {
            for j in 0..=text.count() {
                visit(j, 0);
            }
            return;
        }
        visit(0, score);
        if nb == 1 {
            // Contexts and most quotes: one block, no allocation.
            let (mut pv, mut mv, high) = (!0u64, 0u64, self.high(0));
            for (j, c) in text.enumerate() {
                let h = advance_block(&mut pv, &mut mv, self.peq[self.id(c)], 1, high);
                score = (score as isize + h as isize) as usize;
                visit(j + 1, score);
            }
            return;
        }
        let mut pv = vec![!0u64; nb];
        let mut mv = vec![0u64; nb];
        for (j, c) in text.enumerate() {
            let base = self.id(c) * nb;
            let mut hout = 1i32; // the top row counts the text characters consumed
            for b in 0..nb {
                hout = advance_block(
                    &mut pv[b],
                    &mut mv[b],
                    self.peq[base + b],
                    hout,
                    self.high(b),
                );
            }
            score = (score as isize + hout as isize) as usize;
            visit(j + 1, score);
        }
    }
}

/// One column step of one 64-row block (Hyyrö's formulation of Myers' algorithm). `hin` is the
/// horizontal delta entering the block's top row; returns the delta leaving the row `high`.
#[inline(always)]
fn advance_block(pv: &mut u64, mv: &mut u64, eq: u64, hin: i32, high: u64) -> i32 {
    let p = *pv;
    let m = *mv;
    let xv = eq | m;
    let eq = eq | (hin < 0) as u64;
    let xh = ((eq & p).wrapping_add(p) ^ p) | eq;
    let mut ph = m | !(xh | p);
    let mut mh = p & xh;
    let hout = if ph & high != 0 {
        1
    } else if mh & high != 0 {
        -1
    } else {
        0
    };
    ph <<= 1;
    mh <<= 1;
    mh |= (hin < 0) as u64;
    ph |= (hin > 0) as u64;
    *pv = mh | !(xv | ph);
    *mv = ph & xv;
    hout
}

/// Recovers where an approximate occurrence ending at `end` starts: the reversed pattern is aligned
/// leftwards from `end`, over at most `pattern length + k` characters. Returns the start with the
/// smallest distance (the shortest such occurrence on ties) and that distance.
pub fn find_start(reversed: &Myers, text: &[u32], end: usize, k: usize) -> (usize, usize) {
    let lo = end.saturating_sub(reversed.len() + k);
    let mut best = (end, usize::MAX);
    reversed.anchored(text[lo..end].iter().rev().copied(), |j, d| {
        if d < best.1 {
            best = (end - j, d);
        }
    });
    best
}

// ---------------------------------------------------------------------------------------------
// Seeded approximate search

/// Positions of every q-gram of a text, bucketed by hash (compressed rows).
#[derive(Clone, Debug)]
pub struct SeedIndex {
    q: usize,
    bits: u32,
    starts: Vec<u32>,
    positions: Vec<u32>,
}

impl SeedIndex {
    /// Indexes the `q`-grams of `text` (`q` ≥ 1).
    pub fn new(text: &[u32], q: usize) -> SeedIndex {
        let q = q.max(1);
        let grams = (text.len() + 1).saturating_sub(q);
        let bits = grams.next_power_of_two().trailing_zeros().clamp(4, 24);
        let bucket = |h: u64| (h.wrapping_mul(MIX) >> (64 - bits)) as usize;
        let mut starts = vec![0u32; (1 << bits) + 1];
        let mut buckets = Vec::with_capacity(grams);
        if grams > 0 {
            let top = (1..q).fold(1u64, |p, _| p.wrapping_mul(HASH_BASE));
            let mut h = poly_hash(&text[..q]);
            for i in 0..grams {
                if i > 0 {
                    h = h
                        .wrapping_sub((text[i - 1] as u64).wrapping_mul(top))
                        .wrapping_mul(HASH_BASE)
                        .wrapping_add(text[i + q - 1] as u64);
                }
                let b = bucket(h);
                buckets.push(b as u32);
                starts[b + 1] += 1;
            }
        }
        for b in 0..(1 << bits) {
            starts[b + 1] += starts[b];
        }
        let mut fill = starts.clone();
        let mut positions = vec![0u32; grams];
        for (i, &b) in buckets.iter().enumerate() {
            positions[fill[b as usize] as usize] = i as u32;
            fill[b as usize] += 1;
        }
        SeedIndex {
            q,
            bits,
            starts,
            positions,
        }
    }

    pub fn q(&self) -> usize {
        self.q
    }

    /// Largest `k` for which this index filters exactly for a pattern of length `m`: the pattern's
    /// `k + 1` pieces must each be at least `q` long. `None` when even `k = 0` cannot be seeded.
    pub fn seedable_k(&self, m: usize) -> Option<usize> {
        (m >= self.q).then(|| m / self.q - 1)
    }

    /// Positions whose q-gram may equal `gram` (same hash bucket; callers verify).
    fn bucket(&self, gram: &[u32]) -> &[u32] {
        let b = (poly_hash(gram).wrapping_mul(MIX) >> (64 - self.bits)) as usize;
        &self.positions[self.starts[b] as usize..self.starts[b + 1] as usize]
    }
}

/// Every approximate occurrence of the pattern with at most `k` edits, non-overlapping (of
/// overlapping ones, the smaller distance wins), sorted by start. Uses the seed index when it is
/// exact for `k` (see [`SeedIndex::seedable_k`]) and its windows cover less than half the text;
/// else scans the whole text.
pub fn approximate_search(
    text: &[u32],
    seeds: Option<&SeedIndex>,
    pattern: &[u32],
    forward: &Myers,
    reversed: &Myers,
    k: usize,
) -> Vec<ApproxMatch> {
    let m = pattern.len();
    if m == 0 || text.is_empty() {
        return Vec::new();
    }
    let k = k.min(m);
    let mut ends = Vec::new();
    let windows = seeds
        .filter(|index| index.seedable_k(m).is_some_and(|kmax| k <= kmax))
        .map(|index| seed_windows(text, index, pattern, k))
        .filter(|w| w.iter().map(|(a, b)| b - a).sum::<usize>() < text.len() / 2);
    match windows {
        Some(windows) => {
            for (a, b) in windows {
                forward.find_ends(text, a, b, k, &mut ends);
            }
        }
        None => forward.find_ends(text, 0, text.len(), k, &mut ends),
    }
    let mut found: Vec<ApproxMatch> = Vec::with_capacity(ends.len());
    for (end, distance) in ends {
        let (start, d) = find_start(reversed, text, end, k);
        let cand = ApproxMatch {
            start,
            end,
            distance: d.min(distance),
        };
        if start >= end {
            continue;
        }
        match found.last_mut() {
            Some(prev) if prev.end > cand.start => {
                if cand.distance < prev.distance {
                    *prev = cand;
                }
            }
            _ => found.push(cand),
        }
    }
    found
}

/// Text windows that contain every occurrence with ≤ `k` edits. The pattern is cut into
/// `j = m / q` disjoint q-character pieces; one edit spoils at most one piece, so an occurrence
/// keeps at least `j − k` of them intact, each found in the index on a diagonal (text position
/// minus pattern offset) within `k` of where the occurrence starts. Windows are grown around
/// every run of diagonals no wider than `2k` that holds `j − k` distinct pieces, and merged.
fn seed_windows(text: &[u32], index: &SeedIndex, pattern: &[u32], k: usize) -> Vec<(usize, usize)> {
    let (m, q) = (pattern.len(), index.q);
    let pieces = m / q;
    let need = pieces.saturating_sub(k).max(1);
    // (diagonal + m, piece) packed in one key, so the one shared sort orders them.
    let mut keys: Vec<u64> = Vec::new();
    for p in 0..pieces {
        let offset = p * q;
        let gram = &pattern[offset..offset + q];
        for &pos in index.bucket(gram) {
            let pos = pos as usize;
            if text[pos..pos + q] == *gram {
                keys.push(((pos + m - offset) as u64) << 32 | p as u64);
            }
        }
    }
    crate::order::sort_keys(&mut keys);
    let hits: Vec<(isize, u32)> = keys
        .into_iter()
        .map(|key| ((key >> 32) as isize - m as isize, key as u32))
        .collect();
    let mut count = vec![0u32; pieces];
    let mut distinct = 0;
    let mut left = 0;
    let mut merged: Vec<(usize, usize)> = Vec::new();
    let clamp = |x: isize| x.clamp(0, text.len() as isize) as usize;
    for right in 0..hits.len() {
        let (diag, piece) = hits[right];
        if count[piece as usize] == 0 {
            distinct += 1;
        }
        count[piece as usize] += 1;
        while diag - hits[left].0 > 2 * k as isize {
            let p = hits[left].1 as usize;
            count[p] -= 1;
            if count[p] == 0 {
                distinct -= 1;
            }
            left += 1;
        }
        if distinct >= need {
            // The occurrence starts within k of every diagonal in the run and spans ≤ m + k.
            let a = clamp(hits[left].0 - k as isize);
            let b = clamp(diag + (m + 2 * k) as isize);
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
    }
    merged
}

#[cfg(test)]
#[path = "../tests/support/edit_distance.rs"]
mod edit_distance;

#[cfg(test)]
mod tests {
    use super::edit_distance::{naive_ends, runs_within};
    use super::*;

    fn v(s: &str) -> Vec<u32> {
        s.chars().map(|c| c as u32).collect()
    }

    #[test]
    fn exact_all_finds_overlapping_and_long_patterns() {
        let text =
            v("abababcabab the quick brown fox jumps over the lazy dog, the quick brown fox");
        let long = v("the quick brown fox");
        let pats: Vec<&[u32]> = vec![&[97, 98, 97], &long, &[], &[122, 122]];
        let r = find_exact_all(&text, &pats);
        assert_eq!(r[0], vec![0, 2, 7]);
        assert_eq!(r[1], vec![12, 57]);
        assert!(r[2].is_empty() && r[3].is_empty());
    }

    #[test]
    fn myers_multi_block_matches_dynamic_programming() {
        // A deterministic pseudo-random text over a small alphabet; patterns of 1..200 rows.
        let mut x = 12345u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let text: Vec<u32> = (0..600).map(|_| 97 + (next() % 4) as u32).collect();
        for &m in &[1usize, 5, 63, 64, 65, 130, 200] {
            let start = (next() % 300) as usize;
            let mut pat = text[start..start + m].to_vec();
            for _ in 0..m / 8 {
                let i = (next() as usize) % m;
                pat[i] = 97 + (next() % 5) as u32;
            }
            let naive = naive_ends(&pat, &text);
            for &k in &[0usize, 1, m / 4, m / 2, m] {
                let my = Myers::new(&pat);
                let mut ends = Vec::new();
                my.find_ends(&text, 0, text.len(), k, &mut ends);
                assert_eq!(ends, runs_within(&naive, k), "m={m} k={k}");
            }
        }
    }

    #[test]
    fn approximate_search_recovers_starts_and_seeds_agree_with_scan() {
        let text = v("Officials in Bamako said on Tuesday that the border crossing had been closed since dawn, \
             while Algiers denied any troop movement near the frontier.");
        let quote = v("the border crosing had been clsoed since the dawn");
        let fwd = Myers::new(&quote);
        let rev_q: Vec<u32> = quote.iter().rev().copied().collect();
        let rev = Myers::new(&rev_q);
        let index = SeedIndex::new(&text, 6);
        let k = index.seedable_k(quote.len()).unwrap();
        let seeded = approximate_search(&text, Some(&index), &quote, &fwd, &rev, k);
        let scanned = approximate_search(&text, None, &quote, &fwd, &rev, k);
        assert_eq!(seeded, scanned);
        assert_eq!(seeded.len(), 1);
        let found: String = text[seeded[0].start..seeded[0].end]
            .iter()
            .map(|&c| char::from_u32(c).unwrap())
            .collect();
        assert_eq!(found, "the border crossing had been closed since dawn");
        assert_eq!(seeded[0].distance, 7); // 1 + 2 (transposition) + "the " deleted
    }
}
