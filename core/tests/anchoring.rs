//! Table-driven anchoring cases: a passage is flagged in one version of a text (selectors from
//! `describe`), the text changes, and `resolve` must find the passage again — or say it cannot.

use factmark_core::anchor::{
    describe, resolve, Anchorer, DescribeError, Method, OrphanReason, Resolution, Span,
};
use factmark_core::model::{Selectors, TextPositionSelector, TextQuoteSelector};
use factmark_core::text::Text;

const ARTICLE: &str = "\
An increasingly worrying escalation
By Staff reporter · 20 November 2026

A climate of crisis has newly established between Mali and Algeria, two countries whose relations \
are now marked by hostility. The latest episode, the mobilization of Algerian air defense, testifies \
to the seriousness of the situation.

Historically, Mali and Algeria have had problematic relations, influenced by security and political \
issues. This dynamic has recently been complicated by Malian military operations around \
Tinzaouatène, aimed at neutralizing armed groups.

In response, Algeria has strengthened its military presence on the border, specifically with the \
deployment of Pantsir S-1 air defense systems to ward off any violation of its airspace. These \
systems are renowned for their effectiveness in intercepting small and medium-sized aerial targets.

Observers on the ground stress that regional security could be seriously affected if tensions are \
not quickly defused. Malian civil society has expressed the wish to see a security coalition \
including the AES countries.

At the heart of this crisis is the movement of the famous convoy of the Malian Armed Forces towards \
Tinzaouatène. Fabricated images and sensational information circulate widely, creating media \
confusion which undermines the credibility of the media in the region.";

/// The span of the `nth` occurrence of `needle` in `haystack`, in code points.
fn span_of(haystack: &str, needle: &str, nth: usize) -> Span {
    let (byte, _) = haystack
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle:?} occurs fewer than {} times", nth + 1));
    let start = haystack[..byte].chars().count();
    Span {
        start,
        end: start + needle.chars().count(),
    }
}

#[derive(Debug)]
enum Expect {
    /// Anchored by this method on the `nth` occurrence of this string in the new text.
    At(Method, &'static str, usize),
    Orphan(OrphanReason),
}

struct Case {
    name: &'static str,
    /// The text when the passage was flagged.
    before: String,
    /// The flagged passage and which occurrence of it.
    passage: &'static str,
    nth: usize,
    /// What is left of the selectors (import from a tool that records less, etc.).
    keep: Keep,
    /// The text now.
    after: String,
    expect: Expect,
}

#[derive(Clone, Copy)]
enum Keep {
    All,
    NoPosition,
    QuoteOnly,
}

fn edited(f: impl FnOnce(&str) -> String) -> String {
    f(ARTICLE)
}

fn cases() -> Vec<Case> {
    // Two copies of a notice with more than 32 identical characters around each.
    let dup_para = "The ministry said the crossing at the northern post would stay closed until further notice.";
    let notice = format!("\n\n*** Correction notice from the desk ***\n\n{dup_para}\n\n*** End of the correction notice ***\n\n");
    let with_dup = format!(
        "{ARTICLE}{notice}Some other reporting follows here, long enough to separate the copies by a wide margin.{notice}The end."
    );
    let near_dup = format!(
        "{ARTICLE}\n\nOn Monday, officials in Bamako said the convoy had reached the outskirts of the town without incident.\n\n\
         Separately, on Tuesday, officials in Bamako said the convoy had reached the outskirts of the town without incident."
    );
    vec![
        Case {
            name: "unchanged text: the position holds",
            before: ARTICLE.into(),
            passage: "the deployment of Pantsir S-1 air defense systems",
            nth: 0,
            keep: Keep::All,
            after: ARTICLE.into(),
            expect: Expect::At(Method::Position, "the deployment of Pantsir S-1 air defense systems", 0),
        },
        Case {
            name: "unchanged text, no position: exact search",
            before: ARTICLE.into(),
            passage: "the deployment of Pantsir S-1 air defense systems",
            nth: 0,
            keep: Keep::NoPosition,
            after: ARTICLE.into(),
            expect: Expect::At(Method::Exact, "the deployment of Pantsir S-1 air defense systems", 0),
        },
        Case {
            name: "words inserted before the passage",
            before: ARTICLE.into(),
            passage: "Fabricated images and sensational information circulate widely",
            nth: 0,
            keep: Keep::All,
            after: edited(|a| a.replace("Historically,", "Historically, and as our correspondent reported last year,")),
            expect: Expect::At(Method::Exact, "Fabricated images and sensational information circulate widely", 0),
        },
        Case {
            name: "repeated quote, disambiguated by its context",
            before: ARTICLE.into(),
            passage: "Mali and Algeria",
            nth: 1,
            keep: Keep::All,
            after: edited(|a| a.replace("A climate of crisis", "A new climate of crisis")),
            expect: Expect::At(Method::Exact, "Mali and Algeria", 1),
        },
        Case {
            name: "repeated quote with context but no position: context decides",
            before: ARTICLE.into(),
            passage: "Tinzaouatène",
            nth: 1,
            keep: Keep::NoPosition,
            after: ARTICLE.into(),
            expect: Expect::At(Method::Exact, "Tinzaouatène", 1),
        },
        Case {
            name: "repeated quote, no context, no position: ambiguous, not a coin flip",
            before: ARTICLE.into(),
            passage: "Mali and Algeria",
            nth: 0,
            keep: Keep::QuoteOnly,
            after: ARTICLE.into(),
            expect: Expect::Orphan(OrphanReason::Ambiguous),
        },
        Case {
            name: "identical copies with identical context: the old position decides",
            before: with_dup.clone(),
            passage: dup_para,
            nth: 0,
            keep: Keep::All,
            after: with_dup.replace("A climate of crisis", "A grave climate of crisis"),
            expect: Expect::At(Method::Exact, dup_para, 0),
        },
        Case {
            name: "identical copies with identical context and no position: ambiguous",
            before: with_dup.clone(),
            passage: dup_para,
            nth: 1,
            keep: Keep::NoPosition,
            after: with_dup.clone(),
            expect: Expect::Orphan(OrphanReason::Ambiguous),
        },
        Case {
            name: "typo fixed inside the passage",
            before: edited(|a| a.replace("problematic relations", "problematic relatoins")),
            passage: "Mali and Algeria have had problematic relatoins, influenced by security",
            nth: 0,
            keep: Keep::All,
            after: ARTICLE.into(),
            expect: Expect::At(Method::Fuzzy, "Mali and Algeria have had problematic relations, influenced by security", 0),
        },
        Case {
            name: "typo fixed and a word inserted, position dropped",
            before: edited(|a| a.replace("renowned for their effectiveness", "renowed for their effectivenes")),
            passage: "These systems are renowed for their effectivenes in intercepting small",
            nth: 0,
            keep: Keep::NoPosition,
            after: edited(|a| a.replace("systems are renowned", "systems are widely renowned")),
            expect: Expect::At(Method::Fuzzy, "These systems are widely renowned for their effectiveness in intercepting small", 0),
        },
        Case {
            name: "passage partly rewritten: still found, as fuzzy",
            before: ARTICLE.into(),
            passage: "Observers on the ground stress that regional security could be seriously affected if tensions are not quickly defused.",
            nth: 0,
            keep: Keep::All,
            after: edited(|a| a.replace("could be seriously affected", "might be badly affected")),
            expect: Expect::At(
                Method::Fuzzy,
                "Observers on the ground stress that regional security might be badly affected if tensions are not quickly defused.",
                0,
            ),
        },
        Case {
            name: "passage largely rewritten: orphan",
            before: ARTICLE.into(),
            passage: "Observers on the ground stress that regional security could be seriously affected if tensions are not quickly defused.",
            nth: 0,
            keep: Keep::All,
            after: edited(|a| {
                a.replace(
                    "Observers on the ground stress that regional security could be seriously affected if tensions are \
                     not quickly defused.",
                    "Analysts in the capital warn that a wider war may follow unless both governments talk soon.",
                )
            }),
            expect: Expect::Orphan(OrphanReason::NotFound),
        },
        Case {
            name: "paragraph removed: orphan",
            before: ARTICLE.into(),
            passage: "specifically with the deployment of Pantsir S-1 air defense systems",
            nth: 0,
            keep: Keep::All,
            after: edited(|a| {
                let start = a.find("In response, Algeria").unwrap();
                let end = a.find("Observers on the ground").unwrap();
                format!("{}{}", &a[..start], &a[end..])
            }),
            expect: Expect::Orphan(OrphanReason::NotFound),
        },
        Case {
            name: "short quote whose sentence was removed, the word still elsewhere: orphan",
            before: ARTICLE.into(),
            passage: "Pantsir",
            nth: 0,
            keep: Keep::All,
            after: edited(|a| {
                a.replace("deployment of Pantsir S-1 air defense systems", "deployment of new air defense systems")
                    .replace("The latest episode,", "The latest episode, after Pantsir batteries were seen,")
            }),
            expect: Expect::Orphan(OrphanReason::WeakMatch),
        },
        Case {
            name: "short quote deleted, a look-alike remnant at the seam: orphan",
            before: "Witnesses in Mali Malian and foreign, said the convoy moved north on Sunday.".into(),
            passage: "Mali",
            nth: 0,
            keep: Keep::All,
            after: "Witnesses in Malian and foreign, said the convoy moved north on Sunday.".into(),
            expect: Expect::Orphan(OrphanReason::NotFound),
        },
        Case {
            name: "whitespace reflowed (line breaks, indentation, no-break spaces)",
            before: ARTICLE.into(),
            passage: "Malian civil society has expressed the wish to see a security coalition",
            nth: 0,
            keep: Keep::All,
            after: edited(|a| {
                a.replace(
                    "Malian civil society has expressed the wish to see a security coalition",
                    "Malian civil\n        society  has expressed the\u{a0}wish to see a\n    security coalition",
                )
                .replace("\n\n", "\n      \n      ")
            }),
            expect: Expect::At(
                Method::Exact,
                "Malian civil\n        society  has expressed the\u{a0}wish to see a\n    security coalition",
                0,
            ),
        },
        Case {
            name: "words run together where a block boundary lost its newline",
            before: ARTICLE.into(),
            passage: "the credibility of the media in the region.",
            nth: 0,
            keep: Keep::All,
            after: ARTICLE.replace("\n\n", ""),
            expect: Expect::At(Method::Exact, "the credibility of the media in the region.", 0),
        },
        Case {
            name: "typographic apostrophes and soft hyphens added by a CMS",
            before: "The army’s convoy reached the town’s outskirts on Tuesday, officials said.".into(),
            passage: "The army’s convoy reached the town’s outskirts",
            nth: 0,
            keep: Keep::NoPosition,
            after: "The army's con\u{ad}voy reached the town's out\u{ad}skirts on Tuesday, officials said.".into(),
            expect: Expect::At(Method::Exact, "The army's con\u{ad}voy reached the town's out\u{ad}skirts", 0),
        },
        Case {
            name: "NFC flagged, NFD now",
            before: "Le ministère a déclaré que la frontière resterait fermée jusqu'à nouvel ordre.".into(),
            passage: "déclaré que la frontière resterait fermée",
            nth: 0,
            keep: Keep::All,
            after: "Le ministe\u{300}re a de\u{301}clare\u{301} que la frontie\u{300}re resterait ferme\u{301}e jusqu'a\u{300} nouvel ordre.".into(),
            expect: Expect::At(Method::Exact, "de\u{301}clare\u{301} que la frontie\u{300}re resterait ferme\u{301}e", 0),
        },
        Case {
            name: "NFD flagged, NFC now",
            before: "Vie\u{302}\u{323}t Nam: Ho\u{302}\u{300} Chi\u{301} Minh City reported the convoy.".into(),
            passage: "Ho\u{302}\u{300} Chi\u{301} Minh City",
            nth: 0,
            keep: Keep::All,
            after: "Việt Nam: Hồ Chí Minh City reported the convoy.".into(),
            expect: Expect::At(Method::Exact, "Hồ Chí Minh City", 0),
        },
        Case {
            name: "emoji, astral CJK and combining marks before the passage",
            before: "🇲🇱 Breaking 😀: 𠀀𠀁 report — officials confirm the convoy reached Kidal at dawn.".into(),
            passage: "officials confirm the convoy reached Kidal",
            nth: 0,
            keep: Keep::All,
            after: "🇲🇱 Breaking 😀😀 (update): 𠀀𠀁𠀂 report — officials confirm the convoy reached Kidal at dawn.".into(),
            expect: Expect::At(Method::Exact, "officials confirm the convoy reached Kidal", 0),
        },
        Case {
            name: "right-to-left text with bidi marks added",
            before: "قالت الحكومة إن القافلة وصلت إلى المدينة صباح الثلاثاء.".into(),
            passage: "القافلة وصلت إلى المدينة",
            nth: 0,
            keep: Keep::NoPosition,
            after: "\u{200f}قالت الحكومة إن \u{200f}القافلة وصلت إلى المدينة صباح الثلاثاء.".into(),
            expect: Expect::At(Method::Exact, "القافلة وصلت إلى المدينة", 0),
        },
        Case {
            name: "near-duplicate paragraphs: the flagged one is clearly closer",
            before: near_dup.clone(),
            passage: "On Monday, officials in Bamako said the convoy had reached the outskirts",
            nth: 0,
            keep: Keep::NoPosition,
            after: near_dup.replace("On Monday, officials in Bamako said", "On Monday, officials in Bamako stated"),
            expect: Expect::At(Method::Fuzzy, "On Monday, officials in Bamako stated the convoy had reached the outskirts", 0),
        },
        Case {
            name: "near-duplicate paragraphs, flagged copy removed, the other differs in context only",
            before: format!("{near_dup}\n\nMeanwhile, officials in Bamako said the convoy had reached the outskirts of the town without incident."),
            passage: "officials in Bamako said the convoy had reached the outskirts of the town without incident.",
            nth: 2,
            keep: Keep::NoPosition,
            after: near_dup.clone(),
            expect: Expect::Orphan(OrphanReason::Ambiguous),
        },
        Case {
            name: "near-duplicate paragraphs, both equally close after an edit: ambiguous",
            before: "First report: the convoy left Gao at noon with twelve trucks and two escorts.\n\n\
                     Second report: the convoy left Gao at noon with twelve trucks and two escorts."
                .into(),
            passage: "the convoy left Gao at noon with twelve trucks and two escorts.",
            nth: 0,
            keep: Keep::QuoteOnly,
            after: "First report: the convoy left Gao at 1pm with twelve trucks and two escorts.\n\n\
                    Second report: the convoy left Gao at 2pm with twelve trucks and two escorts."
                .into(),
            expect: Expect::Orphan(OrphanReason::Ambiguous),
        },
    ]
}

fn selectors_for(case: &Case) -> Selectors {
    let before = Text::new(&case.before);
    let span = span_of(&case.before, case.passage, case.nth);
    let mut sel = describe(&before, span).expect("describable");
    match case.keep {
        Keep::All => {}
        Keep::NoPosition => sel.position = None,
        Keep::QuoteOnly => {
            sel.position = None;
            sel.quote.prefix = None;
            sel.quote.suffix = None;
        }
    }
    sel
}

fn check(case: &Case, got: &Resolution) -> Result<(), String> {
    match (&case.expect, got) {
        (Expect::At(method, passage, nth), Resolution::Anchored(a)) => {
            let want = span_of(&case.after, passage, *nth);
            if (a.start, a.end) != (want.start, want.end) || a.method != *method {
                return Err(format!("expected {method:?} at {want:?}, got {a:?}"));
            }
            if !(0.0..=1.0).contains(&a.confidence) {
                return Err(format!("confidence out of range: {a:?}"));
            }
            Ok(())
        }
        (Expect::Orphan(reason), Resolution::Orphan(o)) if o.reason == *reason => Ok(()),
        (expect, got) => Err(format!("expected {expect:?}, got {got:?}")),
    }
}

#[test]
fn table() {
    let mut failures = Vec::new();
    for case in cases() {
        let sel = selectors_for(&case);
        let after = Text::new(&case.after);
        let got = resolve(&after, &sel);
        if let Err(e) = check(&case, &got) {
            failures.push(format!("{}: {e}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The batch API gives, for every case at once against one text, what `resolve` gives alone.
#[test]
fn resolve_all_agrees_with_resolve() {
    let cases: Vec<Case> = cases().into_iter().filter(|c| c.after == ARTICLE).collect();
    assert!(cases.len() >= 4);
    let text = Text::new(ARTICLE);
    let sels: Vec<Selectors> = cases.iter().map(selectors_for).collect();
    let batch = Anchorer::new(&text).resolve_all(&sels);
    for ((case, sel), got) in cases.iter().zip(&sels).zip(&batch) {
        assert_eq!(got, &resolve(&text, sel), "{}", case.name);
        check(case, got).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    }
}

#[test]
fn orphans_list_their_nearest_candidates() {
    let text = Text::new(ARTICLE);
    let sel = Selectors {
        quote: TextQuoteSelector {
            exact: "Mali and Algeria".into(),
            prefix: None,
            suffix: None,
        },
        position: None,
    };
    let Resolution::Orphan(o) = resolve(&text, &sel) else {
        panic!("expected an orphan")
    };
    assert_eq!(o.reason, OrphanReason::Ambiguous);
    let spans: Vec<(usize, usize)> = o.candidates.iter().map(|c| (c.start, c.end)).collect();
    let first = span_of(ARTICLE, "Mali and Algeria", 0);
    let second = span_of(ARTICLE, "Mali and Algeria", 1);
    assert_eq!(
        spans,
        vec![(first.start, first.end), (second.start, second.end)]
    );
}

#[test]
fn describe_records_quote_context_and_code_point_position() {
    let s = "😀 Officials 𠀀 said: «the convoy reached Kidal» at dawn, and left at noon.";
    let text = Text::new(s);
    let span = span_of(s, "the convoy reached Kidal", 0);
    assert_eq!(span.start, 21); // code points: the emoji and the CJK character count once each
    let sel = describe(&text, span).unwrap();
    assert_eq!(sel.quote.exact, "the convoy reached Kidal");
    assert_eq!(sel.quote.prefix.as_deref(), Some("😀 Officials 𠀀 said: «"));
    assert_eq!(
        sel.quote.suffix.as_deref(),
        Some("» at dawn, and left at noon.")
    );
    assert_eq!(
        sel.position,
        Some(TextPositionSelector { start: 21, end: 45 })
    );

    let long = "x".repeat(100) + "needle" + &"y".repeat(100);
    let t = Text::new(&long);
    let sel = describe(
        &t,
        Span {
            start: 100,
            end: 106,
        },
    )
    .unwrap();
    assert_eq!(sel.quote.prefix.as_deref(), Some(&"x".repeat(32)[..]));
    assert_eq!(sel.quote.suffix.as_deref(), Some(&"y".repeat(32)[..]));
}

#[test]
fn describe_refuses_bad_spans() {
    let text = Text::new("ab  \u{200b} cd");
    assert_eq!(
        describe(&text, Span { start: 3, end: 2 }),
        Err(DescribeError::OutOfRange {
            start: 3,
            end: 2,
            len: 8
        })
    );
    assert_eq!(
        describe(&text, Span { start: 0, end: 9 }),
        Err(DescribeError::OutOfRange {
            start: 0,
            end: 9,
            len: 8
        })
    );
    assert_eq!(
        describe(&text, Span { start: 1, end: 1 }),
        Err(DescribeError::Empty)
    );
    assert_eq!(
        describe(&text, Span { start: 2, end: 6 }),
        Err(DescribeError::Blank)
    );
}

/// Found by the fuzzer: a selection that starts inside a run of combining marks, which the
/// matching view reorders. In the unchanged text the recorded position still holds it literally.
#[test]
fn selection_inside_a_combining_sequence_resolves_in_place() {
    let text = Text::new("\u{1f}\0\u{5a5}\u{5b6}\u{5b6}\u{5a3}\0\u{5b6}\u{5a3}\u{1d}\u{1d}");
    let span = Span { start: 4, end: 10 };
    let sel = describe(&text, span).unwrap();
    let a = *resolve(&text, &sel).anchor().expect("anchored");
    assert_eq!(
        (a.start, a.end, a.method, a.confidence),
        (4, 10, Method::Position, 1.0)
    );
}

#[test]
fn blank_quote_is_an_invalid_selector() {
    let text = Text::new(ARTICLE);
    let sel = Selectors {
        quote: TextQuoteSelector {
            exact: " \u{200b}\n".into(),
            prefix: None,
            suffix: None,
        },
        position: Some(TextPositionSelector { start: 0, end: 3 }),
    };
    let Resolution::Orphan(o) = resolve(&text, &sel) else {
        panic!("expected an orphan")
    };
    assert_eq!(o.reason, OrphanReason::InvalidSelector);
}

#[test]
fn garbage_position_is_ignored_not_trusted() {
    let text = Text::new(ARTICLE);
    let span = span_of(ARTICLE, "Fabricated images and sensational information", 0);
    let mut sel = describe(&text, span).unwrap();
    for (start, end) in [
        (5, 2),
        (0, usize::MAX),
        (usize::MAX - 1, usize::MAX),
        (0, 10),
    ] {
        sel.position = Some(TextPositionSelector { start, end });
        let a = *resolve(&text, &sel).anchor().expect("anchored");
        assert_eq!(
            (a.start, a.end, a.method),
            (span.start, span.end, Method::Exact)
        );
    }
}

#[test]
fn quote_with_surrounding_spaces_keeps_them() {
    let s = "The convoy, said officials, reached Kidal at dawn.";
    let text = Text::new(s);
    let span = span_of(s, " reached Kidal ", 0);
    let mut sel = describe(&text, span).unwrap();
    sel.position = None;
    let moved = format!("Update: {s}");
    let a = *resolve(&Text::new(&moved), &sel)
        .anchor()
        .expect("anchored");
    let want = span_of(&moved, " reached Kidal ", 0);
    assert_eq!((a.start, a.end), (want.start, want.end));
}

/// The DOM gives UTF-16 offsets; selectors hold code points. A selection made with DOM offsets
/// round-trips through describe → resolve → DOM offsets, with astral characters, combining marks
/// and right-to-left text around.
#[test]
fn utf16_offsets_round_trip_through_anchoring() {
    let s = "🇲🇱 e\u{301}te\u{301} 𠀀 — «القافلة وصلت» then 😀 the convoy reached Kidal 👍🏽 at dawn";
    let text = Text::new(s);
    let units: Vec<u16> = s.encode_utf16().collect();
    assert_eq!(Text::from_utf16(&units), text);
    for needle in [
        "القافلة وصلت",
        "the convoy reached Kidal",
        "e\u{301}te\u{301} 𠀀",
        "👍🏽",
    ] {
        let byte = s.find(needle).unwrap();
        let u_start = s[..byte].encode_utf16().count();
        let u_end = u_start + needle.encode_utf16().count();
        let span = Span {
            start: text.utf16_to_cp(u_start),
            end: text.utf16_to_cp(u_end),
        };
        assert_eq!(text.slice(span.start, span.end), needle);
        let mut sel = describe(&text, span).unwrap();
        sel.position = None;
        let a = *resolve(&text, &sel)
            .anchor()
            .unwrap_or_else(|| panic!("{needle} not anchored"));
        assert_eq!(
            (text.cp_to_utf16(a.start), text.cp_to_utf16(a.end)),
            (u_start, u_end),
            "{needle}"
        );
    }
}

#[test]
fn resolutions_serialize_as_tagged_json() {
    let text = Text::new(ARTICLE);
    let span = span_of(ARTICLE, "Fabricated images", 0);
    let sel = describe(&text, span).unwrap();
    let json = serde_json::to_value(resolve(&text, &sel)).unwrap();
    assert_eq!(json["kind"], "anchored");
    assert_eq!(json["method"], "position");
    assert_eq!(json["start"], span.start);
    let orphan = Resolution::Orphan(factmark_core::anchor::Orphan {
        reason: OrphanReason::NotFound,
        candidates: vec![],
    });
    let json = serde_json::to_value(&orphan).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "orphan", "reason": "notFound", "candidates": []})
    );
    let back: Resolution = serde_json::from_value(json).unwrap();
    assert_eq!(back, orphan);
}

// ---------------------------------------------------------------------------------------------
// Near-duplicate paragraphs: the right answer can be ambiguous, a wrong one is never acceptable.

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ran", "te", "su", "dor", "ve", "na", "bri", "tho", "gel", "ump", "sta",
    "qui", "zen", "far", "ol", "ix", "pre", "mon", "da", "lu", "ber", "cor", "wen", "ash",
];
const COMMON: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "on",
    "was",
    "with",
    "as",
    "by",
    "officials",
    "said",
    "border",
    "report",
    "army",
    "convoy",
    "images",
    "water",
    "market",
];

fn bench_word(rng: &mut Rng) -> String {
    if rng.below(2) == 0 {
        return COMMON[rng.below(COMMON.len())].to_owned();
    }
    (0..2 + rng.below(3))
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
        .collect()
}

/// Six template paragraphs of about 500 characters, copied over and over with 1–3 words
/// replaced in each copy (as bench/lib/article.mjs does for the browser benchmark).
fn near_duplicate_paragraphs(rng: &mut Rng, count: usize) -> Vec<String> {
    let templates: Vec<Vec<String>> = (0..6)
        .map(|_| {
            let mut words = Vec::new();
            while words.iter().map(|w: &String| w.len() + 1).sum::<usize>() < 500 {
                words.push(bench_word(rng));
            }
            words
        })
        .collect();
    (0..count)
        .map(|i| {
            let mut words = templates[i % templates.len()].clone();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(words.len());
                words[at] = bench_word(rng);
            }
            words.join(" ")
        })
        .collect()
}

/// A passage of 20–200 characters on word boundaries inside paragraph `p` (ASCII text: bytes
/// are code points).
fn passage_in(rng: &mut Rng, text: &str, p: (usize, usize)) -> Option<Span> {
    let (a, b) = p;
    let want = 20 + rng.below(181);
    if b - a < want + 2 {
        return None;
    }
    let bytes = text.as_bytes();
    let mut s = a + rng.below(b - a - want);
    while s > a && bytes[s - 1] != b' ' {
        s -= 1;
    }
    let mut e = (s + want).min(b);
    while e < b && bytes[e] != b' ' {
        e += 1;
    }
    (e - s >= 20).then_some(Span { start: s, end: e })
}

#[derive(Debug, Default, PartialEq)]
struct Graded {
    right: usize,
    orphan: usize,
    wrong: Vec<String>,
}

/// Flags 100 passages of a near-duplicate article, edits each (1–3 letters changed, or a word
/// inserted, in turn), re-anchors with the stale selectors and grades each landing against
/// where the edited passage really is (right: overlaps it by at least half their union).
fn near_duplicate_round(seed: u64) -> Graded {
    let mut rng = Rng(seed);
    let paragraphs = near_duplicate_paragraphs(&mut rng, 220);
    let mut text = String::new();
    let mut bounds = Vec::new();
    for p in &paragraphs {
        if !text.is_empty() {
            text.push('\n');
        }
        bounds.push((text.len(), text.len() + p.len()));
        text.push_str(p);
    }
    let before = Text::new(&text);
    // Passages with their neighbours' context left alone, ascending.
    let mut spans: Vec<Span> = Vec::new();
    for _ in 0..10_000 {
        if spans.len() == 100 {
            break;
        }
        let p = bounds[rng.below(bounds.len())];
        if let Some(span) = passage_in(&mut rng, &text, p) {
            let clear = spans
                .iter()
                .all(|o| span.end + 64 < o.start || o.end + 64 < span.start);
            if clear {
                spans.push(span);
            }
        }
    }
    assert_eq!(spans.len(), 100, "enough separable passages");
    spans.sort_by_key(|s| s.start);
    let selectors: Vec<Selectors> = spans
        .iter()
        .map(|&s| describe(&before, s).expect("describable"))
        .collect();
    // Edit right to left so earlier offsets stay valid; then compute where each passage is now.
    let mut edited = text.clone();
    let mut new_lengths = vec![0; spans.len()];
    for (i, span) in spans.iter().enumerate().rev() {
        let mut passage: Vec<u8> = text.as_bytes()[span.start..span.end].to_vec();
        if i % 4 == 1 {
            let spaces: Vec<usize> = (0..passage.len()).filter(|&k| passage[k] == b' ').collect();
            let at = if spaces.is_empty() {
                passage.len()
            } else {
                spaces[rng.below(spaces.len())]
            };
            passage.splice(at..at, b" reportedly".iter().copied());
        } else {
            let mut letters: Vec<usize> = (0..passage.len())
                .filter(|&k| passage[k].is_ascii_lowercase())
                .collect();
            for _ in 0..[1, 0, 2, 3][i % 4] {
                let at = letters.swap_remove(rng.below(letters.len()));
                passage[at] = if passage[at] == b'x' { b'q' } else { b'x' };
            }
        }
        new_lengths[i] = passage.len();
        edited.replace_range(span.start..span.end, std::str::from_utf8(&passage).unwrap());
    }
    let after = Text::new(&edited);
    let mut growth = 0isize;
    let truths: Vec<Span> = spans
        .iter()
        .zip(&new_lengths)
        .map(|(s, &n)| {
            let start = (s.start as isize + growth) as usize;
            growth += n as isize - (s.end - s.start) as isize;
            Span {
                start,
                end: start + n,
            }
        })
        .collect();
    let mut graded = Graded::default();
    for ((r, t), sel) in Anchorer::new(&after)
        .resolve_all(&selectors)
        .iter()
        .zip(&truths)
        .zip(&selectors)
    {
        match r.anchor() {
            None => graded.orphan += 1,
            Some(a) => {
                let inter = a.end.min(t.end).saturating_sub(a.start.max(t.start));
                let union = a.end.max(t.end) - a.start.min(t.start);
                if 2 * inter >= union {
                    graded.right += 1;
                } else {
                    graded.wrong.push(format!(
                        "{:?} now at {}..{}, anchored at {}..{} ({:?})",
                        sel.quote.exact, t.start, t.end, a.start, a.end, a.method
                    ));
                }
            }
        }
    }
    graded
}

#[test]
fn near_duplicate_paragraphs_never_anchor_wrongly() {
    for seed in [7, 31, 1234] {
        let g = near_duplicate_round(seed);
        assert!(g.wrong.is_empty(), "seed {seed}: {g:#?}");
        // Most edited passages sit where their position says, with intact context: found.
        assert!(
            g.right >= 50,
            "seed {seed}: only {} right ({} orphans)",
            g.right,
            g.orphan
        );
    }
}

/// A paragraph repeated verbatim, context included; the flagged copy (told apart by position)
/// is then edited. The untouched copy matches exactly, the edited one sits at the recorded
/// position: either may be the flagged passage, so the flag must not move to the copy.
#[test]
fn edited_passage_with_a_verbatim_copy_elsewhere_is_not_moved_to_the_copy() {
    let paragraph = "Officials in Bamako said on Tuesday that the border crossing had been closed \
        since dawn, while Algiers denied any troop movement near the frontier at Tinzaouatene.";
    let filler = "Markets in Gao reopened after a week, traders said, although prices for water \
        and grain stayed high and convoys from the north were still delayed by checkpoints. ";
    let before = format!("{paragraph}\n{}{paragraph}\n{}", filler.repeat(3), filler);
    let flagged = span_of(&before, "the border crossing had been closed since dawn", 0);
    let sel = describe(&Text::new(&before), flagged).unwrap();
    for edited_quote in [
        "the border crossxng had been clxsed since dawn",
        "the border crossing had reportedly been closed since dawn",
    ] {
        let first = before.replacen(
            "the border crossing had been closed since dawn",
            edited_quote,
            1,
        );
        match resolve(&Text::new(&first), &sel) {
            Resolution::Orphan(o) => assert_eq!(o.reason, OrphanReason::Ambiguous),
            Resolution::Anchored(a) => {
                let right = span_of(&first, edited_quote, 0);
                assert_eq!((a.start, a.end), (right.start, right.end), "{edited_quote}");
            }
        }
    }
}
