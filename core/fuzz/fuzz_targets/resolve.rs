//! `resolve` (and `describe`, and the UTF-16 maps) on arbitrary text and selectors: no panic,
//! anchors inside the text, and a passage described in an unchanged text resolves to itself.
#![no_main]

use arbitrary::Arbitrary;
use factmark_core::anchor::{describe, resolve, Anchorer, Method, Resolution, Span};
use factmark_core::model::{Selectors, TextPositionSelector, TextQuoteSelector};
use factmark_core::text::Text;
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

    // A passage described in this very text comes back where it was.
    let n = text.len().max(1);
    let (a, b) = (input.span.0 as usize % n, input.span.1 as usize % (n + 1));
    let described = describe(
        &text,
        Span {
            start: a.min(b),
            end: a.max(b),
        },
    );
    if let Ok(own) = &described {
        match resolve(&text, own) {
            Resolution::Anchored(x) => {
                assert_eq!(
                    (x.start, x.end, x.method),
                    (a.min(b), a.max(b), Method::Position)
                )
            }
            other => panic!("own passage not anchored: {other:?}"),
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
