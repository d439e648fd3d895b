//! `resolve` (and `describe`, and the UTF-16 maps) on arbitrary text and selectors: no panic,
//! anchors inside the text, and a passage described in an unchanged text resolves to itself
//! (or, if it occurs more than once, is at worst an ambiguous orphan — never another place).
#![no_main]

use arbitrary::Arbitrary;
use factmark_core::anchor::{describe, resolve, Anchorer, OrphanReason, Resolution, Span};
use factmark_core::model::{Selectors, TextPositionSelector, TextQuoteSelector};
use factmark_core::text::{Text, View};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    text: String,
    exact: String,
    prefix: Option<String>,
    suffix: Option<String>,
    position: Option<(usize, usize)>,
    span: (u16, u16),
    dom: Vec<u16>,
}

fn check(text: &Text, r: &Resolution) {
    if let Resolution::Anchored(a) = r {
        assert!(
            a.start < a.end && a.end <= text.len(),
            "{a:?} outside a text of {}",
            text.len()
        );
        assert!((0.0..=1.0).contains(&a.confidence));
    }
}

fuzz_target!(|input: Input| {
    let text = Text::new(&input.text);
    let sel = Selectors {
        quote: TextQuoteSelector {
            exact: input.exact,
            prefix: input.prefix,
            suffix: input.suffix,
        },
        position: input
            .position
            .map(|(start, end)| TextPositionSelector { start, end }),
    };
    let alone = resolve(&text, &sel);
    check(&text, &alone);

    // A passage described in this very text comes back where it was; only a passage that
    // occurs more than once (modulo whitespace and normalization) may be ambiguous instead.
    let n = text.len().max(1);
    let (a, b) = (input.span.0 as usize % n, input.span.1 as usize % (n + 1));
    let span = Span {
        start: a.min(b),
        end: a.max(b),
    };
    let described = describe(&text, span);
    if let Ok(own) = &described {
        match resolve(&text, own) {
            Resolution::Anchored(x) => assert_eq!((x.start, x.end), (span.start, span.end)),
            Resolution::Orphan(o) => {
                let quote = View::of(&own.quote.exact);
                let copies = text
                    .view()
                    .chars()
                    .windows(quote.len())
                    .filter(|w| *w == quote.chars())
                    .count();
                let ambiguous = o.reason == OrphanReason::Ambiguous && copies > 1;
                assert!(ambiguous, "own passage orphaned: {o:?}");
            }
        }
    }

    // The batch gives what one-by-one gives.
    let mut batch = vec![sel];
    batch.extend(described.ok());
    let all = Anchorer::new(&text).resolve_all(&batch);
    assert_eq!(all[0], alone);

    let dom = Text::from_utf16(&input.dom);
    assert_eq!(dom.utf16_len(), input.dom.len());
    for u in 0..=input.dom.len() {
        let cp = dom.utf16_to_cp(u);
        assert!(dom.cp_to_utf16(cp) <= u);
    }
});
