//! Describing a passage with W3C selectors, and finding it again in a text that may have changed.
//!
//! # The rule
//! A flag must never land on the wrong passage. When the passage was removed, or the best place
//! for it is weak or ambiguous, [`resolve`] returns an [`Orphan`] (with the nearest candidates, for
//! the reader to judge), not a guess.
//!
//! # Order
//! All comparisons happen on the text's matching view ([`crate::text::View`]): whitespace and
//! invisible characters dropped, canonical (NFD) normalization, typographic quotes and dashes
//! folded. So whitespace-only and normalization-only differences never count as edits.
//!
//! 1. **Position** — trusted when the recorded quote, prefix and suffix are literally at the
//!    recorded offsets (and the context is long enough, or reaches the text's edges). Otherwise the text there must still equal the quote (modulo whitespace and
//!    normalization) and pass the checks a search result would: for a short quote, recognized
//!    context (a short quote such as "Mali" can easily reappear at the old offset after an edit);
//!    not "deleted here"; and no copy of the quote within [`NEARBY`] characters.
//! 2. **Exact** — every exact occurrence of the quote, ranked by how well its surroundings match
//!    the recorded prefix and suffix. Among occurrences with near-equal context (repeats), the old
//!    position decides only if it is decisively closer to one of them; otherwise: ambiguous.
//! 3. **Fuzzy** — bit-parallel approximate search (Myers) for the quote, ranked by the same
//!    score with the quote's edit distance counted in. Runs when there is no exact occurrence, and
//!    also when the best exact occurrence has imperfect context (an edited copy of the passage with
//!    intact surroundings may be the better, or an equally good, answer). The edges of each match
//!    are then placed where quote and recorded context align best together, so a word inserted
//!    near an edge of the passage does not cut the passage short.
//!
//! # Score
//! For a candidate, `quote similarity = 1 − edits / quote length`, and the prefix (suffix)
//! similarity is `1 − edits / context length` for the best alignment of the recorded context that
//! ends (starts) exactly at the candidate. The *content score* is their weighted mean:
//! quote [`W_QUOTE`] = 50, prefix and suffix up to [`W_CONTEXT`] = 20 each, scaled down for
//! contexts shorter than [`CONTEXT_CHARS`] (3 characters of context are weak evidence). These are
//! Hypothesis's weights. Position is *not* part of the score, because after an edit upstream
//! every offset has moved; it only breaks ties (see [`POSITION_DECISIVE_RATIO`]) and exposes
//! conflicts (see [`POSITION_WINDOW`]).
//!
//! # Thresholds, and why
//! - [`MIN_QUOTE_SIMILARITY`] = 0.75: a fuzzy candidate may differ from the quote in at most a
//!   quarter of its characters. Beyond that the passage was rewritten, and the claim the reader
//!   flagged may no longer be there; the reader must look (Hypothesis allows half).
//!   [`MIN_QUOTE_SIMILARITY_IN_CONTEXT`] = 0.6: up to 40% when the recorded context is intact
//!   around the candidate (mean similarity ≥ [`INTACT_CONTEXT`]): the same surroundings with
//!   a recognisably similar passage between them is the passage, edited — typically a long word
//!   inserted into a short sentence.
//! - [`MIN_FUZZY_SCORE`] = 0.75: a fuzzy candidate whose quote changed *and* whose surroundings on
//!   both sides were rewritten has no independent evidence that it is the same passage.
//! - *Recognized context*: the recorded prefix/suffix is recognisably around a candidate if their
//!   weighted mean similarity is ≥ [`RECOGNIZED_CONTEXT`] = 0.75, or one side of at least
//!   [`MIN_ONE_SIDE_CHARS`] = 16 characters is ≥ [`RECOGNIZED_CONTEXT_ONE_SIDE`] = 0.9. Measured on
//!   the fixture news article, the *best* of all occurrences of a common word ("the", "Mali",
//!   "security"…) scored against unrelated 32-character contexts reaches a median of 0.35, a 99th
//!   percentile of 0.62 and a maximum of 0.73 (one side alone: 0.38 / 0.58 / 0.74); a passage
//!   whose surroundings were merely edited keeps one side intact or both mostly intact.
//! - [`SHORT_QUOTE`] = 32 characters: below this a quote can plausibly occur by chance ("Mali"),
//!   so an exact match whose selectors carry context must have that context recognized.
//! - A fuzzy match must have its context recognized (when the selectors carry context at all;
//!   without context, the quote must not be short); a short one must have it intact: mean
//!   similarity ≥ [`INTACT_CONTEXT`] = 0.9. A few edited characters with half-familiar
//!   surroundings are what chance produces in repetitive text. An edited quote in unrecognizable
//!   surroundings is as likely a near-copy of the passage (a repeated paragraph, a corrected
//!   version elsewhere) as the passage itself.
//! - [`AMBIGUITY_MARGIN`] = 0.02: two candidates whose content scores are closer than this are
//!   near-equal, and unless the old position decides between exact repeats, the result is an
//!   orphan. 0.02 is about 3.6 edits in a 100-character quote with full context, or 3 changed
//!   context characters; a copy of a paragraph that differs by a word or two is thus ambiguous.
//! - *Deleted here*: a candidate is refused (NotFound) when the recorded prefix and suffix fit
//!   where they meet with nothing between them, at the candidate's start or end, at least as well
//!   as around the candidate, and both are recognized there.
//! - When the quote occurs exactly more than once, context picks one only if it is recognized
//!   there, and on both sides when another copy is within [`NEARBY`] characters (a copy close by,
//!   say inside a word inserted next to the passage, can take over one side of the context; with
//!   only one side recorded, "P Q Q" cannot tell whether the copy came before or after). A
//!   better-but-poor context (the flagged copy was deleted and two unrelated copies remain) is
//!   noise, not evidence.
//! - [`POSITION_DECISIVE_RATIO`] = 4: the old position picks one exact repeat only if it is at
//!   least four times closer to it than to the next one, and the two are at least [`NEARBY`] = 64
//!   characters apart (a small edit next to the passage shifts it by a few characters, so nearby
//!   repeats cannot be told apart by offsets). Among edited near-copies with near-equal scores
//!   (a near-duplicate paragraph), it picks one the same way, but only one whose recorded context
//!   is intact on both sides (mean ≥ [`INTACT_CONTEXT`], each side ≥ [`RECOGNIZED_CONTEXT`]).
//! - *Position conflict*: when content picks one place and the old position is decisively closer
//!   to another acceptable candidate with intact context (typically: the flagged passage was
//!   edited, and an unedited near-duplicate elsewhere still matches exactly), the result is
//!   Ambiguous. So that such a candidate is seen even when an exact match makes approximate
//!   search unnecessary, [`POSITION_WINDOW`] view characters around the old position are searched
//!   with the full edit budget whenever every candidate is more than [`NEARBY`] from it.
//! - Quotes longer than [`MAX_FUZZY_QUOTE`] view characters are not searched approximately
//!   (cost and memory grow with the quote); they anchor by position or exact match only.
//!
//! # Known limit
//! The selectors carry 32 characters of context each side. If a passage occurred twice with the
//! same 32 characters around both copies and the flagged copy is later deleted, the other copy
//! matches exactly and the flag moves to it. No selector-based anchoring can tell those apart.
//! Likewise, a passage that moved by more than [`POSITION_WINDOW`] and was edited, with an
//! unedited copy elsewhere, is not seen as a conflict.

use std::cell::OnceCell;

use serde::{Deserialize, Serialize};

use crate::matcher::{approximate_search, find_exact_all, ApproxMatch, Myers, SeedIndex};
use crate::model::{Selectors, TextPositionSelector, TextQuoteSelector};
use crate::text::{is_blank, is_starter, Text, View};

/// Code points of prefix and suffix recorded by [`describe`].
pub const CONTEXT_CHARS: usize = 32;
/// Weight of the quote's similarity in the content score.
pub const W_QUOTE: f32 = 50.0;
/// Weight of a full ([`CONTEXT_CHARS`]-long) prefix or suffix in the content score.
pub const W_CONTEXT: f32 = 20.0;
pub const MIN_QUOTE_SIMILARITY: f32 = 0.75;
pub const MIN_QUOTE_SIMILARITY_IN_CONTEXT: f32 = 0.6;
pub const MIN_FUZZY_SCORE: f32 = 0.75;
pub const SHORT_QUOTE: usize = 32;
pub const RECOGNIZED_CONTEXT: f32 = 0.75;
pub const RECOGNIZED_CONTEXT_ONE_SIDE: f32 = 0.9;
/// Mean context similarity a short quote needs to be matched approximately.
pub const INTACT_CONTEXT: f32 = 0.9;
/// A side counts for [`RECOGNIZED_CONTEXT_ONE_SIDE`] only if it is at least this long.
pub const MIN_ONE_SIDE_CHARS: usize = 16;
pub const AMBIGUITY_MARGIN: f32 = 0.02;
pub const POSITION_DECISIVE_RATIO: usize = 4;
/// Repeats closer together than this (in code points, or view characters) are never told apart
/// by position: an edit near the passage moves it by about that much.
pub const NEARBY: usize = 2 * CONTEXT_CHARS;
pub const MAX_FUZZY_QUOTE: usize = 4096;
/// View characters searched either side of the recorded position when every exact occurrence
/// is far from it (see `Anchorer::near_position`): about how far edits upstream move a passage.
pub const POSITION_WINDOW: usize = 2048;
/// Context used for scoring is cut to this many view characters (imported selectors may carry
/// long ones; 64 is already more evidence than we record).
const MAX_SCORED_CONTEXT: usize = 64;
/// Candidates listed in an orphan.
const MAX_ORPHAN_CANDIDATES: usize = 5;

/// A range of a [`Text`] in code points, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum DescribeError {
    #[error("the selection {start}..{end} is outside the text (length {len})")]
    OutOfRange {
        start: usize,
        end: usize,
        len: usize,
    },
    #[error("the selection is empty")]
    Empty,
    #[error("the selection holds only spaces or invisible characters")]
    Blank,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// The recorded position still holds the quote.
    Position,
    /// Found by exact search (modulo whitespace and normalization).
    Exact,
    /// Found by approximate search: the passage has been edited since it was flagged.
    Fuzzy,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    pub start: usize,
    pub end: usize,
    pub method: Method,
    /// Content score of the match in [0, 1] (1: quote and full context unchanged); 0.9 times that
    /// when only the old position told exact repeats apart.
    pub confidence: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OrphanReason {
    /// Nothing in the text resembles the quote closely enough (the passage was removed or
    /// rewritten).
    NotFound,
    /// Two or more places fit (near-)equally well.
    Ambiguous,
    /// The best place resembles the quote, but not enough to be sure.
    WeakMatch,
    /// The selectors cannot be anchored at all (the quote is blank).
    InvalidSelector,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub start: usize,
    pub end: usize,
    /// Content score in [0, 1].
    pub score: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Orphan {
    pub reason: OrphanReason,
    /// Best places first, at most five.
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Resolution {
    Anchored(Anchor),
    Orphan(Orphan),
}

impl Resolution {
    pub fn anchor(&self) -> Option<&Anchor> {
        match self {
            Resolution::Anchored(a) => Some(a),
            Resolution::Orphan(_) => None,
        }
    }

    pub fn orphan(&self) -> Option<&Orphan> {
        match self {
            Resolution::Anchored(_) => None,
            Resolution::Orphan(o) => Some(o),
        }
    }

    fn orphan_of(reason: OrphanReason, candidates: Vec<Candidate>) -> Resolution {
        Resolution::Orphan(Orphan { reason, candidates })
    }
}

/// Selectors for `span` of `text`: the exact quote, up to [`CONTEXT_CHARS`] code points of prefix
/// and suffix (absent at the text's edges; shortened so as not to split a combining sequence),
/// and the position.
pub fn describe(text: &Text, span: Span) -> Result<Selectors, DescribeError> {
    let len = text.len();
    if span.start > span.end || span.end > len {
        return Err(DescribeError::OutOfRange {
            start: span.start,
            end: span.end,
            len,
        });
    }
    if span.start == span.end {
        return Err(DescribeError::Empty);
    }
    let (a, b) = text.view().view_range(span.start, span.end);
    if a == b {
        return Err(DescribeError::Blank);
    }
    // Context never begins or ends in the middle of a combining sequence: a cut-off mark would
    // not compare equal to the text it was cut from (marks are reordered canonically).
    let prefix = text.slice(span.start.saturating_sub(CONTEXT_CHARS), span.start);
    let prefix = prefix.trim_start_matches(|c: char| !is_starter(c));
    let mut suffix = text.slice(span.end, span.end.saturating_add(CONTEXT_CHARS));
    let suffix_end = span.end + suffix.chars().count();
    if text
        .slice(suffix_end, suffix_end + 1)
        .chars()
        .next()
        .is_some_and(|c| !is_starter(c))
    {
        let cut = suffix.rfind(is_starter).unwrap_or(0);
        suffix = &suffix[..cut];
    }
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Ok(Selectors {
        quote: TextQuoteSelector {
            exact: text.slice(span.start, span.end).to_owned(),
            prefix: non_empty(prefix),
            suffix: non_empty(suffix),
        },
        position: Some(TextPositionSelector {
            start: span.start,
            end: span.end,
        }),
    })
}

/// Anchors one set of selectors. For many, use [`Anchorer::resolve_all`], which shares the work.
pub fn resolve(text: &Text, selectors: &Selectors) -> Resolution {
    Anchorer::new(text).resolve(selectors)
}

/// A quote selector and the position recorded with it, borrowed from where they are kept.
pub type SelectorParts<'a> = (&'a TextQuoteSelector, Option<TextPositionSelector>);

/// Anchors many annotations against one text, sharing the index of the text: one pass over the
/// text finds the exact occurrences of every quote, and the q-gram index for approximate search
/// is built once, when the first quote needs it.
pub struct Anchorer<'t> {
    text: &'t Text,
    /// q-gram indexes for approximate search: 6-grams are selective, 4-grams seed quotes with
    /// more edits per character. Built when first needed.
    seeds6: OnceCell<SeedIndex>,
    seeds4: OnceCell<SeedIndex>,
}

impl<'t> Anchorer<'t> {
    /// Cheap: the text's matching view and indexes are built only when a selector needs them
    /// (not when every recorded position still holds its quote, context included).
    pub fn new(text: &'t Text) -> Anchorer<'t> {
        Anchorer {
            text,
            seeds6: OnceCell::new(),
            seeds4: OnceCell::new(),
        }
    }

    pub fn resolve(&self, selectors: &Selectors) -> Resolution {
        self.resolve_parts(&[(&selectors.quote, selectors.position)])
            .pop()
            .expect("one resolution per selector")
    }

    /// One resolution per selector set, in order.
    pub fn resolve_all(&self, selectors: &[Selectors]) -> Vec<Resolution> {
        let parts: Vec<SelectorParts> = selectors.iter().map(|s| (&s.quote, s.position)).collect();
        self.resolve_parts(&parts)
    }

    /// [`Anchorer::resolve_all`] for selectors held elsewhere (such as in an annotation, see
    /// `Annotation::selector_parts`), without copying them.
    pub fn resolve_parts(&self, selectors: &[SelectorParts]) -> Vec<Resolution> {
        // Literally unchanged passages (the common case on a page that did not change) need
        // neither the matching view nor any preparation of the selectors.
        let mut out: Vec<Option<Resolution>> =
            selectors.iter().map(|&s| self.untouched(s)).collect();
        let queries: Vec<Option<Query>> = selectors
            .iter()
            .zip(&out)
            .map(|(&s, r)| r.is_none().then(|| Query::new(s)))
            .collect();
        for (q, r) in queries.iter().zip(out.iter_mut()) {
            if let Some(q) = q {
                *r = if q.quote.is_empty() {
                    Some(Resolution::orphan_of(
                        OrphanReason::InvalidSelector,
                        Vec::new(),
                    ))
                } else {
                    self.at_position(q)
                };
            }
        }
        let pending: Vec<(usize, &Query)> = queries
            .iter()
            .enumerate()
            .filter(|(i, _)| out[*i].is_none())
            .filter_map(|(i, q)| Some((i, q.as_ref()?)))
            .collect();
        if pending.is_empty() {
            return out.into_iter().flatten().collect();
        }
        let view = self.text.view();
        let patterns: Vec<&[u32]> = pending.iter().map(|(_, q)| q.quote.as_slice()).collect();
        let occurrences = find_exact_all(view.chars(), &patterns);
        for (&(i, q), occ) in pending.iter().zip(occurrences) {
            out[i] = Some(self.search(q, &occ));
        }
        out.into_iter()
            .map(|r| r.expect("every selector resolved"))
            .collect()
    }

    /// Step 1: the recorded position, if it still holds the quote.
    fn at_position(&self, q: &Query) -> Option<Resolution> {
        let (start, end) = q.position?;
        if start >= end || end > self.text.len() {
            return None;
        }
        let anchored = |start, end, confidence| {
            Some(Resolution::Anchored(Anchor {
                start,
                end,
                method: Method::Position,
                confidence,
            }))
        };
        let view = self.text.view();
        let tv = view.chars();
        let (a, b) = view.view_range(start, end);
        if tv[a..b] != *q.quote {
            return None;
        }
        let scored = q.score(tv, a, b, 0);
        // Something changed around the passage: trust the offsets only as far as a search would.
        if q.quote.len() < SHORT_QUOTE && scored.context.is_some() && !scored.context_recognized {
            return None;
        }
        if q.deleted_here(tv, &scored) {
            return None;
        }
        // A copy of the quote next to the old offsets (an edit repeated a word) makes them moot.
        let lo = a.saturating_sub(NEARBY);
        let hi = (b + NEARBY).min(tv.len());
        if find_exact_all(&tv[lo..hi], &[&q.quote])[0]
            .iter()
            .any(|&p| lo + p != a)
        {
            return None;
        }
        // Report the span as a search would: the recorded offsets may now include or miss a blank
        // at either edge ("modulo whitespace" cuts both ways).
        let c = self.candidate(q, &scored);
        anchored(c.start, c.end, scored.score)
    }

    /// The recorded quote, prefix and suffix are literally there, at the recorded position, and
    /// the context is enough to rule out a copy: each side is at least [`MIN_ONE_SIDE_CHARS`]
    /// visible characters, or reaches the edge of the text (an absent side: is at the edge). With
    /// less ("Q" recorded with a blank suffix), an inserted copy "Q … Q" would pass too.
    ///
    /// Literally unchanged: nothing to compare, and no view boundaries to round.
    fn untouched(&self, (quote, position): SelectorParts) -> Option<Resolution> {
        let TextPositionSelector { start, end } = position?;
        if start >= end || end > self.text.len() || quote.exact.chars().all(is_blank) {
            return None;
        }
        // Compared as bytes around the two recorded offsets: text that ends (starts) with the
        // prefix (suffix) at a character boundary holds exactly its characters there.
        let text = self.text.as_str();
        let (a, b) = (self.text.cp_to_byte(start), self.text.cp_to_byte(end));
        // At least this many view characters (decomposition only adds to the non-blank ones).
        let substantial = |s: &str| {
            s.chars()
                .filter(|&c| !is_blank(c))
                .nth(MIN_ONE_SIDE_CHARS - 1)
                .is_some()
        };
        let prefix_ok = || match quote.prefix.as_deref() {
            None => start == 0,
            Some(p) => {
                // `describe` drops combining marks that open the text: they are no context.
                let at_edge = || !text[..a - p.len()].chars().any(is_starter);
                text[..a].ends_with(p) && (substantial(p) || at_edge())
            }
        };
        let suffix_ok = || match quote.suffix.as_deref() {
            None => b == text.len(),
            Some(s) => text[b..].starts_with(s) && (b + s.len() == text.len() || substantial(s)),
        };
        (text[a..b] == quote.exact && prefix_ok() && suffix_ok()).then_some(Resolution::Anchored(
            Anchor {
                start,
                end,
                method: Method::Position,
                confidence: 1.0,
            },
        ))
    }

    /// Steps 2 and 3: exact occurrences (given), then approximate search when they do not settle it.
    fn search(&self, q: &Query, exact: &[usize]) -> Resolution {
        let view = self.text.view();
        let tv = view.chars();
        let m = q.quote.len();
        let mut cands: Vec<Scored> = exact.iter().map(|&s| q.score(tv, s, s + m, 0)).collect();
        let best_exact = cands
            .iter()
            .map(|c| c.score)
            .fold(f32::NEG_INFINITY, f32::max);
        // An exact match with intact context is as strong as evidence gets; anything else may be
        // beaten or rivalled by an edited copy.
        if m <= MAX_FUZZY_QUOTE && best_exact < 1.0 - 1e-6 {
            let k_max = q.k_max();
            let k_target = if cands.is_empty() {
                k_max
            } else {
                q.k_needed(best_exact).min(k_max)
            };
            if k_target >= 1 {
                let fuzzy = self.fuzzy(q, k_target);
                for f in fuzzy {
                    let overlaps_exact = cands
                        .iter()
                        .any(|c| c.distance == 0 && c.start < f.end && f.start < c.end);
                    if !overlaps_exact {
                        cands.push(f);
                    }
                }
            }
        }
        if m <= MAX_FUZZY_QUOTE {
            self.near_position(q, &mut cands);
        }
        self.decide(q, cands)
    }

    /// When every exact occurrence is far from the recorded position, the passage may still be
    /// there, edited (a near-duplicate paragraph elsewhere kept the old wording): searches
    /// [`POSITION_WINDOW`] view characters around the old position with the full edit budget and
    /// adds what it finds, so that [`Anchorer::decide`] sees the conflict.
    fn near_position(&self, q: &Query, cands: &mut Vec<Scored>) {
        let Some((old, _)) = q.position else { return };
        let view = self.text.view();
        if cands.is_empty()
            || cands
                .iter()
                .any(|c| view.orig_at(c.start).abs_diff(old) < NEARBY)
        {
            return;
        }
        let tv = view.chars();
        let at = view.view_index(old);
        let lo = at.saturating_sub(POSITION_WINDOW);
        let hi = (at + q.quote.len() + POSITION_WINDOW).min(tv.len());
        let k = q.k_max();
        if k == 0 || lo >= hi {
            return;
        }
        let (fwd, rev) = q.myers();
        for f in approximate_search(&tv[lo..hi], None, &q.quote, fwd, rev, k) {
            let f = ApproxMatch {
                start: f.start + lo,
                end: f.end + lo,
                distance: f.distance,
            };
            // Only a candidate with intact context can make the result ambiguous; one whose
            // context is not even half there at the raw edges is not worth placing precisely
            // (refining moves an edge by a few characters, which costs a side at most that many).
            let raw = q.score(tv, f.start, f.end, f.distance);
            if raw.context.is_some_and(|c| c < 0.5) {
                continue;
            }
            let f = q.refine(tv, f, k);
            let s = q.score(tv, f.start, f.end, f.distance);
            if s.distance > 0
                && s.context_intact
                && !cands.iter().any(|c| c.start < s.end && s.start < c.end)
            {
                cands.push(s);
            }
        }
    }

    /// Approximate candidates with at most `k_target` edits that can matter. A first search
    /// allows one edit in six characters less three (an inserted word and a few typos — the
    /// common case — and still filtered by the 6-gram index);
    /// if the best candidate then leaves room for a better or rival one with more edits, a
    /// second search covers exactly that room. Each search goes through the q-gram index that
    /// filters best for its number of edits (exactly: see [`SeedIndex::seedable_k`]), or scans
    /// the whole text when no index can.
    fn fuzzy(&self, q: &Query, k_target: usize) -> Vec<Scored> {
        let tv = self.text.view().chars();
        let m = q.quote.len();
        let (fwd, rev) = q.myers();
        let search = |k: usize| -> Vec<Scored> {
            approximate_search(tv, self.seeds_for(m, k), &q.quote, fwd, rev, k)
                .into_iter()
                .map(|f| q.refine(tv, f, k))
                .map(|f| q.score(tv, f.start, f.end, f.distance))
                .collect()
        };
        // Three pieces of six to spare keep the first search on the selective 6-gram index.
        let first = (m / 6)
            .saturating_sub(3)
            .clamp(1, k_target.max(1))
            .min(k_target);
        let mut cands = search(first);
        let best = cands
            .iter()
            .map(|c| c.score)
            .fold(f32::NEG_INFINITY, f32::max);
        let needed = if cands.is_empty() {
            k_target
        } else {
            q.k_needed(best).min(k_target)
        };
        if needed > first {
            cands = search(needed);
        }
        cands
    }

    /// The q-gram index whose filter is most selective for `k` edits in a pattern of length `m`:
    /// the one that leaves the most pieces that must match intact (see `seed_windows`), 6-grams
    /// preferred as each hit is rarer.
    fn seeds_for(&self, m: usize, k: usize) -> Option<&SeedIndex> {
        let tv = self.text.view().chars();
        let intact = |q: usize| (m / q).saturating_sub(k);
        let six = || self.seeds6.get_or_init(|| SeedIndex::new(tv, 6));
        let four = || self.seeds4.get_or_init(|| SeedIndex::new(tv, 4));
        if intact(6) >= 3 || (intact(6) >= 1 && intact(4) < 2) {
            Some(six())
        } else if intact(4) >= 1 {
            Some(four())
        } else {
            None
        }
    }

    fn decide(&self, q: &Query, mut cands: Vec<Scored>) -> Resolution {
        if cands.is_empty() {
            return Resolution::orphan_of(OrphanReason::NotFound, Vec::new());
        }
        crate::order::sort_by(&mut cands, |a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.distance.cmp(&b.distance))
                .then(a.start.cmp(&b.start))
        });
        let best = cands[0];
        // Context only tells exact repeats apart where it is recognisably the recorded one; and a
        // copy close by can take over one side of it (an inserted "…T O…" right after the prefix
        // of a quoted "O"), so next to a copy, one side is not enough.
        let context_decides = best.context_recognized;
        let rivals: Vec<Scored> = cands[1..]
            .iter()
            .filter(|c| {
                let both_exact = c.distance == 0 && best.distance == 0;
                let near = c.score >= best.score - AMBIGUITY_MARGIN
                    && (both_exact || c.end <= best.start || best.end <= c.start);
                let close_by = c.start.abs_diff(best.start) < NEARBY && !best.context_balanced;
                near || (both_exact && (!context_decides || close_by))
            })
            .copied()
            .collect();
        let listed = |cands: &[Scored]| -> Vec<Candidate> {
            cands
                .iter()
                .take(MAX_ORPHAN_CANDIDATES)
                .map(|c| self.candidate(q, c))
                .collect()
        };
        let mut chosen = best;
        let mut confidence = best.score;
        if !rivals.is_empty() {
            match self.position_tie_break(q, &best, &rivals) {
                Some(c) => {
                    chosen = c;
                    confidence = 0.9 * c.score;
                }
                None => {
                    let mut near = vec![best];
                    near.extend(&rivals);
                    return Resolution::orphan_of(OrphanReason::Ambiguous, listed(&near));
                }
            }
        }
        if !q.acceptable(&chosen) {
            return Resolution::orphan_of(OrphanReason::WeakMatch, listed(&cands));
        }
        // Content prefers one place and the old position decisively another that fits as well as
        // an edited passage can (intact context): either may be the flagged passage.
        if let Some(other) = cands.iter().find(|c| {
            (c.end <= chosen.start || chosen.end <= c.start)
                && c.context_intact
                && q.acceptable(c)
                && self.position_prefers(q, c, &chosen)
        }) {
            return Resolution::orphan_of(OrphanReason::Ambiguous, listed(&[chosen, *other]));
        }
        if q.deleted_here(self.text.view().chars(), &chosen) {
            return Resolution::orphan_of(OrphanReason::NotFound, listed(&cands));
        }
        let c = self.candidate(q, &chosen);
        let method = if chosen.distance == 0 {
            Method::Exact
        } else {
            Method::Fuzzy
        };
        Resolution::Anchored(Anchor {
            start: c.start,
            end: c.end,
            method,
            confidence,
        })
    }

    /// Among exact repeats with near-equal context, the one the old position is decisively closest
    /// to, if any.
    fn position_tie_break(&self, q: &Query, best: &Scored, rivals: &[Scored]) -> Option<Scored> {
        let (old, _) = q.position?;
        // Edited near-copies: only a winner whose recorded context is intact on both sides.
        let exact_only = best.distance == 0 && rivals.iter().all(|r| r.distance == 0);
        let view = self.text.view();
        let mut by_distance: Vec<(usize, Scored)> = std::iter::once(best)
            .chain(rivals)
            .map(|c| (view.orig_at(c.start).abs_diff(old), *c))
            .collect();
        crate::order::sort_by_key(&mut by_distance, |(d, _)| *d);
        let (nearest, next) = (by_distance[0].0, by_distance[1].0);
        let separation = view
            .orig_at(by_distance[0].1.start)
            .abs_diff(view.orig_at(by_distance[1].1.start));
        let decisive = nearest.saturating_mul(POSITION_DECISIVE_RATIO) <= next
            && nearest < next
            && separation >= NEARBY;
        let winner = by_distance[0].1;
        let trusted = exact_only
            || (winner.context_balanced && winner.context_intact && q.acceptable(&winner));
        (decisive && trusted).then_some(winner)
    }

    /// Whether the old position is decisively closer to `a` than to `b` (see
    /// [`POSITION_DECISIVE_RATIO`]), the two at least [`NEARBY`] apart.
    fn position_prefers(&self, q: &Query, a: &Scored, b: &Scored) -> bool {
        let Some((old, _)) = q.position else {
            return false;
        };
        let view = self.text.view();
        let (pa, pb) = (view.orig_at(a.start), view.orig_at(b.start));
        let (da, db) = (pa.abs_diff(old), pb.abs_diff(old));
        da.saturating_mul(POSITION_DECISIVE_RATIO) <= db && da < db && pa.abs_diff(pb) >= NEARBY
    }

    /// A view candidate as an original span, re-including whitespace the quote itself starts or
    /// ends with (the view dropped it).
    fn candidate(&self, q: &Query, c: &Scored) -> Candidate {
        let (mut start, mut end) = self.text.view().to_original(c.start, c.end);
        if q.lead_blank > 0 {
            let before = self.text.slice(start.saturating_sub(q.lead_blank), start);
            start -= before.chars().rev().take_while(|&ch| is_blank(ch)).count();
        }
        if q.trail_blank > 0 {
            let after = self.text.slice(end, end + q.trail_blank);
            end += after.chars().take_while(|&ch| is_blank(ch)).count();
        }
        Candidate {
            start,
            end,
            score: c.score,
        }
    }
}

/// A candidate in view coordinates with its scores.
#[derive(Debug, Clone, Copy)]
struct Scored {
    start: usize,
    end: usize,
    distance: usize,
    quote_similarity: f32,
    /// Similarity of the recorded prefix ending here / suffix starting here, if recorded.
    prefix: Option<f32>,
    suffix: Option<f32>,
    /// Weighted mean similarity of the contexts present, if any.
    context: Option<f32>,
    /// The recorded context is recognisably there (see [`RECOGNIZED_CONTEXT`]).
    context_recognized: bool,
    /// … on both sides (not by one side, or by the mean); false when a side was not recorded.
    context_balanced: bool,
    /// The mean context similarity is at least [`INTACT_CONTEXT`].
    context_intact: bool,
    score: f32,
}

/// Selectors prepared for matching: everything in view characters.
struct Query {
    quote: Vec<u32>,
    /// Blank code points the raw quote starts / ends with.
    lead_blank: usize,
    trail_blank: usize,
    prefix: Vec<u32>,
    suffix: Vec<u32>,
    position: Option<(usize, usize)>,
    context_myers: OnceCell<(Myers, Myers)>,
    quote_myers: OnceCell<(Myers, Myers)>,
}

impl Query {
    fn new((quote, position): SelectorParts) -> Query {
        let qv = View::of(&quote.exact);
        let (lead_blank, trail_blank) = if qv.is_empty() {
            (0, 0)
        } else {
            let (a, b) = qv.to_original(0, qv.len());
            (a, quote.exact.chars().count() - b)
        };
        let ctx = |s: &Option<String>| {
            s.as_deref()
                .map(|s| View::of(s).chars().to_vec())
                .unwrap_or_default()
        };
        let mut prefix = ctx(&quote.prefix);
        if prefix.len() > MAX_SCORED_CONTEXT {
            prefix.drain(..prefix.len() - MAX_SCORED_CONTEXT);
        }
        let mut suffix = ctx(&quote.suffix);
        suffix.truncate(MAX_SCORED_CONTEXT);
        Query {
            quote: qv.chars().to_vec(),
            lead_blank,
            trail_blank,
            prefix,
            suffix,
            position: position.map(|p| (p.start, p.end)),
            context_myers: OnceCell::new(),
            quote_myers: OnceCell::new(),
        }
    }

    fn myers(&self) -> (&Myers, &Myers) {
        let (f, r) = self.quote_myers.get_or_init(|| {
            let rev: Vec<u32> = self.quote.iter().rev().copied().collect();
            (Myers::new(&self.quote), Myers::new(&rev))
        });
        (f, r)
    }

    fn weight(context: &[u32]) -> f32 {
        // Short contexts (at a text's edges) are weak evidence.
        W_CONTEXT * context.len().min(CONTEXT_CHARS) as f32 / CONTEXT_CHARS as f32
    }

    /// Largest quote distance accepted at all.
    fn k_max(&self) -> usize {
        let has_context = !(self.prefix.is_empty() && self.suffix.is_empty());
        let min = if has_context {
            MIN_QUOTE_SIMILARITY_IN_CONTEXT
        } else {
            MIN_QUOTE_SIMILARITY
        };
        ((1.0 - min) * self.quote.len() as f32).floor() as usize
    }

    /// Largest quote distance at which a candidate with perfect context could still score within
    /// the ambiguity margin of `best` (so it could be better, or a rival).
    fn k_needed(&self, best: f32) -> usize {
        let wc = Self::weight(&self.prefix) + Self::weight(&self.suffix);
        let total = W_QUOTE + wc;
        let min_quote_sim = ((best - AMBIGUITY_MARGIN) * total - wc) / W_QUOTE;
        let k = (1.0 - min_quote_sim.max(0.0)) * self.quote.len() as f32;
        (k.floor().max(0.0) as usize).min(self.quote.len())
    }

    fn context_myers(&self) -> &(Myers, Myers) {
        self.context_myers.get_or_init(|| {
            let rev: Vec<u32> = self.prefix.iter().rev().copied().collect();
            (Myers::new(&rev), Myers::new(&self.suffix))
        })
    }

    /// Edits between the recorded prefix and the text ending at view offset `at` (best alignment;
    /// None: no prefix).
    fn prefix_distance(&self, tv: &[u32], at: usize) -> Option<usize> {
        let p = self.prefix.len();
        if p == 0 {
            return None;
        }
        // Alignments using more than 2p text characters cost more than deleting the whole prefix.
        let window = &tv[at.saturating_sub(2 * p)..at];
        let mut best = p;
        self.context_myers()
            .0
            .anchored(window.iter().rev().copied(), |_, d| best = best.min(d));
        Some(best)
    }

    /// Edits between the recorded suffix and the text starting at view offset `at`.
    fn suffix_distance(&self, tv: &[u32], at: usize) -> Option<usize> {
        let s = self.suffix.len();
        if s == 0 {
            return None;
        }
        let window = &tv[at..(at + 2 * s).min(tv.len())];
        let mut best = s;
        self.context_myers()
            .1
            .anchored(window.iter().copied(), |_, d| best = best.min(d));
        Some(best)
    }

    fn prefix_similarity(&self, tv: &[u32], at: usize) -> Option<f32> {
        self.prefix_distance(tv, at)
            .map(|d| 1.0 - d as f32 / self.prefix.len() as f32)
    }

    fn suffix_similarity(&self, tv: &[u32], at: usize) -> Option<f32> {
        self.suffix_distance(tv, at)
            .map(|d| 1.0 - d as f32 / self.suffix.len() as f32)
    }

    /// Moves the edges of an approximate match to where quote and context align best together.
    ///
    /// On its own, the best alignment of an edited quote may stop short: with a long word inserted
    /// near its end, dropping the quote's last few characters costs fewer edits than including
    /// the insertion. The recorded suffix (prefix) says where the passage really ends (starts), so
    /// each edge is placed to minimise quote edits plus suffix (prefix) edits, within `k` of
    /// where it was.
    fn refine(&self, tv: &[u32], found: ApproxMatch, k: usize) -> ApproxMatch {
        let (fwd, rev) = self.myers();
        let m = self.quote.len();
        let ApproxMatch {
            mut start,
            mut end,
            mut distance,
        } = found;
        // An edge the recorded context continues from without a single edit stays.
        if self.suffix_distance(tv, end).is_some_and(|d| d > 0) {
            let hi = (start + m + k).min(tv.len());
            let lo = end.saturating_sub(k).max(start + 1);
            let mut best = (usize::MAX, usize::MAX, end);
            fwd.anchored(tv[start..hi].iter().copied(), |j, dq| {
                let e = start + j;
                if e >= lo && dq <= k {
                    let total = dq + self.suffix_distance(tv, e).unwrap_or(0);
                    if (total, dq) < (best.0, best.1) {
                        best = (total, dq, e);
                    }
                }
            });
            if best.0 != usize::MAX {
                (distance, end) = (best.1, best.2);
            }
        }
        if self.prefix_distance(tv, start).is_some_and(|d| d > 0) {
            let lo = end.saturating_sub(m + k);
            let hi = (start + k).min(end - 1);
            let mut best = (usize::MAX, usize::MAX, start);
            rev.anchored(tv[lo..end].iter().rev().copied(), |j, dq| {
                let s = end - j;
                if j > 0 && s <= hi && dq <= k {
                    let total = dq + self.prefix_distance(tv, s).unwrap_or(0);
                    if (total, dq) < (best.0, best.1) {
                        best = (total, dq, s);
                    }
                }
            });
            if best.0 != usize::MAX {
                (distance, start) = (best.1, best.2);
            }
        }
        ApproxMatch {
            start,
            end,
            distance,
        }
    }

    /// Scores the view range `[start, end)` matched with `distance` quote edits.
    fn score(&self, tv: &[u32], start: usize, end: usize, distance: usize) -> Scored {
        let prefix = self.prefix_similarity(tv, start);
        let suffix = self.suffix_similarity(tv, end);
        let sides = [(prefix, self.prefix.len()), (suffix, self.suffix.len())];
        let strong_side = sides.iter().any(|&(sim, len)| {
            len >= MIN_ONE_SIDE_CHARS && sim.is_some_and(|s| s >= RECOGNIZED_CONTEXT_ONE_SIDE)
        });
        let (mut wc, mut wsum) = (0.0f32, 0.0f32);
        for (sim, ctx) in [(prefix, &self.prefix), (suffix, &self.suffix)] {
            if let Some(sim) = sim {
                let w = Self::weight(ctx);
                wc += w;
                wsum += w * sim;
            }
        }
        let quote_similarity = 1.0 - distance as f32 / self.quote.len() as f32;
        let context = (wc > 0.0).then(|| wsum / wc);
        let context_balanced = [prefix, suffix]
            .iter()
            .all(|s| s.is_some_and(|s| s >= RECOGNIZED_CONTEXT));
        let context_recognized = strong_side || context.is_some_and(|c| c >= RECOGNIZED_CONTEXT);
        let context_intact = context.is_some_and(|c| c >= INTACT_CONTEXT);
        let score = (W_QUOTE * quote_similarity + wsum) / (W_QUOTE + wc);
        Scored {
            start,
            end,
            distance,
            quote_similarity,
            prefix,
            suffix,
            context,
            context_recognized,
            context_balanced,
            context_intact,
            score,
        }
    }

    /// Whether the surroundings say the passage was deleted at this candidate rather than being
    /// it: the recorded prefix and suffix both fit, and fit at least as well, when they meet at the
    /// candidate's start or end with nothing between them. Catches a remnant that resembles the
    /// quote at the seam ("in Mali Malian forces" with "Mali" deleted leaves "Mali" in "Malian").
    fn deleted_here(&self, tv: &[u32], c: &Scored) -> bool {
        let present = |x: Option<f32>| x.into_iter();
        let at_candidate: f32 = present(c.prefix).chain(present(c.suffix)).sum();
        let sides = c.prefix.is_some() as usize + c.suffix.is_some() as usize;
        if sides == 0 || at_candidate >= sides as f32 {
            return false;
        }
        [c.start, c.end].into_iter().any(|x| {
            let pre = if x == c.start {
                c.prefix
            } else {
                self.prefix_similarity(tv, x)
            };
            let suf = if x == c.end {
                c.suffix
            } else {
                self.suffix_similarity(tv, x)
            };
            let sims: Vec<f32> = present(pre).chain(present(suf)).collect();
            sims.iter().all(|&s| s >= RECOGNIZED_CONTEXT)
                && sims.iter().sum::<f32>() >= at_candidate
        })
    }

    fn acceptable(&self, c: &Scored) -> bool {
        let short = self.quote.len() < SHORT_QUOTE;
        if c.distance == 0 {
            return !short || c.context.is_none() || c.context_recognized;
        }
        let context_ok = match c.context {
            Some(_) if short => c.context_intact,
            Some(_) => c.context_recognized,
            None => !short,
        };
        let similar = c.quote_similarity >= MIN_QUOTE_SIMILARITY
            || (c.quote_similarity >= MIN_QUOTE_SIMILARITY_IN_CONTEXT && c.context_intact);
        similar && c.score >= MIN_FUZZY_SCORE && context_ok
    }
}
