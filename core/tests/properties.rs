//! Property tests of anchoring: what must hold for every text and every passage.
//!
//! Texts are built from pieces — words (ASCII, accented in NFC and NFD, emoji with modifiers and
//! ZWJ, astral CJK, Arabic, Hebrew) alternating with separators (spaces, newlines, indentation,
//! no-break spaces, nothing) — and passages start and end on piece boundaries, as a reader's
//! selection does.

use factmark_core::anchor::{describe, resolve, Method, Resolution, Span};
use factmark_core::model::{Selectors, TextPositionSelector, TextQuoteSelector};
use factmark_core::text::{Text, View};
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "Mali",
    "Algeria",
    "border",
    "convoy",
    "the",
    "of",
    "said",
    "officials",
    "army",
    "Kidal",
    "été",
    "e\u{301}te\u{301}",
    "ministère",
    "minist\u{e8}re",
    "Việt",
    "😀",
    "👍🏽",
    "👨\u{200d}👩\u{200d}👧",
    "𠀀",
    "𠀁字",
    "漢字",
    "القافلة",
    "وصلت",
    "שלום",
    "x\u{301}\u{323}",
    "«",
    "»",
    "—",
    ",",
    ".",
    "army’s",
    "S-1",
    "2026",
];
const SEPARATORS: &[&str] = &[" ", " ", " ", " ", "\n", "  ", "\u{a0}", "\n    ", ""];

/// Any printable text, with invisible formatting characters and combining marks mixed in.
const ANY_TEXT: &str =
    "(\\PC|[\u{ad}\u{200b}-\u{200f}\u{feff}\u{202a}-\u{202e}\u{301}\u{323}\n]){0,300}";

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(WORDS).prop_map(str::to_owned),
        2 => "[a-zA-Z]{1,9}",
    ]
}

/// Pieces: word, separator, word, separator, …
fn pieces(max_words: usize) -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec((word(), proptest::sample::select(SEPARATORS)), 1..max_words)
        .prop_map(|ws| {
            ws.into_iter()
                .flat_map(|(w, s)| [w, s.to_owned()])
                .collect()
        })
}

fn join(pieces: &[String]) -> String {
    pieces.concat()
}

/// Code point offset where piece `i` starts.
fn offset(pieces: &[String], i: usize) -> usize {
    pieces[..i].iter().map(|p| p.chars().count()).sum()
}

/// Occurrences (overlapping ones too) of `needle` in `haystack`.
fn count(haystack: &[u32], needle: &[u32]) -> usize {
    if needle.is_empty() || needle.len() > haystack.len() {
        return 0;
    }
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

fn quote_view(sel: &Selectors) -> Vec<u32> {
    View::of(&sel.quote.exact).chars().to_vec()
}

/// A text, a passage on piece boundaries (`a..b` in pieces), and its selectors.
fn flagged(max_words: usize) -> impl Strategy<Value = (Vec<String>, usize, usize)> {
    pieces(max_words).prop_flat_map(|p| {
        let n = p.len();
        (Just(p), 0..n).prop_flat_map(move |(p, a)| (Just(p), Just(a), (a + 1)..=n))
    })
}

/// `Err` when the passage is blank (nothing to flag), else the selectors.
fn describe_pieces(pieces: &[String], a: usize, b: usize) -> Option<(Text, Span, Selectors)> {
    let text = Text::new(&join(pieces));
    let span = Span {
        start: offset(pieces, a),
        end: offset(pieces, b),
    };
    let sel = describe(&text, span).ok()?;
    Some((text, span, sel))
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, String),
    Insert(usize, String, &'static str),
    Delete(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), word()).prop_map(|(i, w)| Edit::Replace(i, w)),
        (any::<usize>(), word(), proptest::sample::select(SEPARATORS))
            .prop_map(|(i, w, s)| Edit::Insert(i, w, s)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

proptest! {
    // Deleting a passage needs it unique; many generated passages are not, and are skipped.
    #![proptest_config(ProptestConfig {
        cases: 256,
        max_global_rejects: 1_000_000,
        ..ProptestConfig::default()
    })]

    /// describe → resolve on the same text gives the same span: by position when it was kept
    /// (unless a copy of the passage sits close by and the recorded context is too thin to rule
    /// out that one was inserted: then by search); by search otherwise. Only a passage that
    /// occurs more than once may come back as an orphan, and never anchored elsewhere.
    #[test]
    fn describe_then_resolve_gives_the_same_span((pieces, a, b) in flagged(60)) {
        let Some((text, span, sel)) = describe_pieces(&pieces, a, b) else { return Ok(()) };
        let repeats = count(text.view().chars(), &quote_view(&sel));
        let no_position = Selectors { position: None, ..sel.clone() };
        for (selectors, hinted) in [(&sel, true), (&no_position, false)] {
            match resolve(&text, selectors) {
                Resolution::Anchored(anchor) => {
                    prop_assert_eq!((anchor.start, anchor.end), (span.start, span.end));
                    if hinted && repeats == 1 {
                        prop_assert_eq!(anchor.method, Method::Position);
                        prop_assert_eq!(anchor.confidence, 1.0);
                    }
                }
                Resolution::Orphan(o) => {
                    prop_assert!(repeats > 1, "unique passage orphaned: {:?}", o);
                }
            }
        }
    }

    /// Edits outside the passage keep it: the result is the passage's new span or an orphan,
    /// never another place; and when the edits are away from the recorded context and the
    /// passage is unique, it is found.
    #[test]
    fn edits_outside_the_passage_keep_it(
        (pieces, a, b) in flagged(50),
        edits in proptest::collection::vec(edit(), 1..6),
        keep_position in any::<bool>(),
    ) {
        let Some((_, span, mut sel)) = describe_pieces(&pieces, a, b) else { return Ok(()) };
        if !keep_position {
            sel.position = None;
        }
        let (mut before, mut passage, mut after) =
            (pieces[..a].to_vec(), pieces[a..b].to_vec(), pieces[b..].to_vec());
        let mut near = false;
        for e in edits {
            let (side, is_before) = match &e {
                Edit::Replace(i, _) | Edit::Insert(i, _, _) | Edit::Delete(i) => {
                    if i % 2 == 0 { (&mut before, true) } else { (&mut after, false) }
                }
            };
            let len = side.len();
            let idx = match &e { Edit::Replace(i, _) | Edit::Insert(i, _, _) | Edit::Delete(i) => i / 2 };
            // Distance (code points) between the edit and the passage, before the edit.
            let distance = |at: usize, side: &Vec<String>| -> usize {
                if is_before { side[at.min(side.len())..].iter().map(|p| p.chars().count()).sum() }
                else { side[..at.min(side.len())].iter().map(|p| p.chars().count()).sum() }
            };
            match e {
                Edit::Replace(_, w) if len > 0 => {
                    let at = idx % len;
                    near |= distance(at, side) <= 40 || distance(at + 1, side) <= 40;
                    side[at] = w;
                }
                Edit::Insert(_, w, s) => {
                    let at = idx % (len + 1);
                    near |= distance(at, side) <= 40;
                    side.insert(at, s.to_owned());
                    side.insert(at, w);
                }
                Edit::Delete(_) if len > 0 => {
                    let at = idx % len;
                    near |= distance(at, side) <= 40 || distance(at + 1, side) <= 40;
                    side.remove(at);
                }
                _ => {}
            }
        }
        let new_start: usize = before.iter().map(|p| p.chars().count()).sum();
        let new_span = (new_start, new_start + (span.end - span.start));
        before.append(&mut passage);
        before.append(&mut after);
        let text = Text::new(&join(&before));
        let unique = count(text.view().chars(), &quote_view(&sel)) == 1;
        match resolve(&text, &sel) {
            Resolution::Anchored(anchor) => prop_assert_eq!(
                (anchor.start, anchor.end), new_span, "{:?} in {:?} for {:?}", anchor, text.as_str(), sel
            ),
            Resolution::Orphan(o) => prop_assert!(
                near || !unique,
                "passage unique and context untouched, yet orphaned: {:?}", o
            ),
        }
    }

    /// Deleting the passage never yields an anchor elsewhere.
    #[test]
    fn deleting_the_passage_never_anchors_elsewhere(
        (pieces, a, b) in flagged(60),
        keep_position in any::<bool>(),
    ) {
        let Some((text, _, mut sel)) = describe_pieces(&pieces, a, b) else { return Ok(()) };
        let quote = quote_view(&sel);
        // Only a passage that was unique can be "deleted"; a copy elsewhere is a legitimate match.
        prop_assume!(count(text.view().chars(), &quote) == 1);
        if !keep_position {
            sel.position = None;
        }
        let mut rest = pieces[..a].to_vec();
        rest.extend_from_slice(&pieces[b..]);
        let after = Text::new(&join(&rest));
        // The seam may spell the quote again ("ab" + "c" around a deleted "bc"): that is a copy.
        prop_assume!(count(after.view().chars(), &quote) == 0);
        let r = resolve(&after, &sel);
        prop_assert!(r.orphan().is_some(), "deleted passage anchored: {:?} for {:?}", r, sel);
    }

    /// Arbitrary selectors against arbitrary text never panic, and whatever they anchor to is a
    /// valid, non-empty range of the text.
    #[test]
    fn resolve_never_panics(
        text in ANY_TEXT,
        exact in "(\\PC|[\u{ad}\u{200b}-\u{200f}\u{feff}\u{202a}-\u{202e}]){0,40}",
        prefix in proptest::option::of("\\PC{0,40}"),
        suffix in proptest::option::of("\\PC{0,40}"),
        position in proptest::option::of((0usize..400, 0usize..400)),
    ) {
        let text = Text::new(&text);
        let sel = Selectors {
            quote: TextQuoteSelector { exact, prefix, suffix },
            position: position.map(|(start, end)| TextPositionSelector { start, end }),
        };
        if let Resolution::Anchored(a) = resolve(&text, &sel) {
            prop_assert!(a.start < a.end && a.end <= text.len(), "{:?}", a);
            prop_assert!((0.0..=1.0).contains(&a.confidence));
        }
    }

    /// Resolving a slice of the text itself (an arbitrary code point range, even one that splits a
    /// sequence of combining marks) anchors on a range that contains the same thing, modulo
    /// whitespace and normalization (a split mark sequence is covered whole).
    #[test]
    fn anchors_spell_the_quote(text in "[ab \u{301}\u{323}é😀]{1,80}", start in 0usize..80, len in 1usize..20) {
        let text = Text::new(&text);
        let start = start.min(text.len() - 1);
        let end = (start + len).min(text.len());
        let sel = Selectors {
            quote: TextQuoteSelector { exact: text.slice(start, end).to_owned(), prefix: None, suffix: None },
            position: None,
        };
        if let Resolution::Anchored(a) = resolve(&text, &sel) {
            prop_assert_eq!(a.method, Method::Exact);
            let found = View::of(text.slice(a.start, a.end));
            let wanted = View::of(&sel.quote.exact);
            prop_assert!(count(found.chars(), wanted.chars()) >= 1, "{:?} in {:?}", wanted, found);
        }
    }

    /// UTF-16 ⇄ code point maps agree with the standard library's encoding, for any string and
    /// for DOM text with lone surrogates.
    #[test]
    fn utf16_maps_agree_with_encoding(s in "\\PC{0,200}", units in proptest::collection::vec(any::<u16>(), 0..100)) {
        let text = Text::new(&s);
        let mut u = 0;
        for (cp, c) in s.chars().enumerate() {
            prop_assert_eq!(text.cp_to_utf16(cp), u);
            prop_assert_eq!(text.utf16_to_cp(u), cp);
            if c.len_utf16() == 2 {
                prop_assert_eq!(text.utf16_to_cp(u + 1), cp);
            }
            let mut buf = [0u8; 4];
            prop_assert_eq!(text.slice(cp, cp + 1), c.encode_utf8(&mut buf) as &str);
            u += c.len_utf16();
        }
        prop_assert_eq!(text.cp_to_utf16(text.len()), u);
        prop_assert_eq!(text.utf16_len(), u);
        let dom = Text::from_utf16(&units);
        prop_assert_eq!(dom.utf16_len(), units.len());
        for i in 0..=units.len() {
            let cp = dom.utf16_to_cp(i);
            prop_assert!(dom.cp_to_utf16(cp) <= i && i - dom.cp_to_utf16(cp) <= 1);
        }
    }
}

/// The matcher on its own: the bit-parallel and filtered searches agree with textbook ones.
#[path = "support/edit_distance.rs"]
mod edit_distance;

mod matcher {
    use super::edit_distance::{naive_ends, runs_within};
    use factmark_core::matcher::{approximate_search, find_exact_all, Myers, SeedIndex};
    use proptest::prelude::*;

    /// A text over a small alphabet (so that approximate repeats abound) and a pattern cut from
    /// it with some edits.
    fn text_and_pattern() -> impl Strategy<Value = (Vec<u32>, Vec<u32>)> {
        (
            proptest::collection::vec(0u32..4, 1..500),
            any::<usize>(),
            1usize..200,
            proptest::collection::vec((any::<usize>(), 0u32..5), 0..20),
        )
            .prop_map(|(text, at, len, edits)| {
                let text: Vec<u32> = text.into_iter().map(|c| 0x61 + c).collect();
                let at = at % text.len();
                let mut pat = text[at..(at + len).min(text.len())].to_vec();
                for (i, c) in edits {
                    let i = i % pat.len();
                    match c {
                        4 if pat.len() > 1 => {
                            pat.remove(i);
                        }
                        _ => pat[i] = 0x61 + c,
                    }
                }
                (text, pat)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn myers_agrees_with_dynamic_programming((text, pat) in text_and_pattern(), k_frac in 0usize..5) {
            let k = pat.len() * k_frac / 8;
            let expect = runs_within(&naive_ends(&pat, &text), k);
            let mut ends = Vec::new();
            Myers::new(&pat).find_ends(&text, 0, text.len(), k, &mut ends);
            prop_assert_eq!(ends, expect);
        }

        /// The seed filter never loses an occurrence the full scan finds.
        #[test]
        fn seeded_search_finds_what_a_full_scan_finds((text, pat) in text_and_pattern(), q in 2usize..7, k_frac in 0usize..8) {
            let index = SeedIndex::new(&text, q);
            let Some(kmax) = index.seedable_k(pat.len()) else { return Ok(()) };
            let k = kmax * k_frac / 7;
            let fwd = Myers::new(&pat);
            let rev_pat: Vec<u32> = pat.iter().rev().copied().collect();
            let rev = Myers::new(&rev_pat);
            let full = approximate_search(&text, None, &pat, &fwd, &rev, k);
            let seeded = approximate_search(&text, Some(&index), &pat, &fwd, &rev, k);
            for f in &full {
                prop_assert!(
                    seeded.iter().any(|g| g.distance <= f.distance && g.start < f.end && f.start < g.end),
                    "{:?} missing from {:?}", f, seeded
                );
                let d = naive_ends(&pat, &text[f.start..f.end]);
                prop_assert_eq!(*d.last().unwrap(), f.distance.max(*d.last().unwrap()));
            }
        }

        /// Short and long patterns (the long ones take the sampled pass), random or cut from a
        /// repetitive text so that they occur, overlapping, many times.
        #[test]
        fn exact_search_finds_every_occurrence(
            text in proptest::collection::vec(0u32..3, 0..600),
            cuts in proptest::collection::vec((any::<usize>(), 0usize..60, any::<bool>(), proptest::collection::vec(0u32..3, 0..40)), 1..12),
        ) {
            let pats: Vec<Vec<u32>> = cuts
                .into_iter()
                .map(|(at, len, from_text, random)| {
                    if from_text && !text.is_empty() {
                        let at = at % text.len();
                        text[at..(at + len).min(text.len())].to_vec()
                    } else {
                        random
                    }
                })
                .collect();
            let refs: Vec<&[u32]> = pats.iter().map(|p| p.as_slice()).collect();
            let found = find_exact_all(&text, &refs);
            for (p, got) in pats.iter().zip(found) {
                let want: Vec<usize> = if p.is_empty() || p.len() > text.len() {
                    Vec::new()
                } else {
                    (0..=text.len() - p.len()).filter(|&i| text[i..i + p.len()] == p[..]).collect()
                };
                prop_assert_eq!(got, want);
            }
        }
    }
}
