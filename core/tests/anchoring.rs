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
    assert_eq!((a.start, a.end, a.method, a.confidence), (4, 10, Method::Position, 1.0));
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
