//! Reading a stored list: what the widget does with `localStorage` when a page opens.
//!
//! - `stored_1000`: 1,000 annotations (about 0.85 MB of JSON) in the shape of the browser
//!   benchmark's stored list (bench/lib/annotations.mjs: a flag, a note, every fifth with an
//!   evidence link, quote + position selectors, a TimeState), read by `parse_stored`; also the
//!   same annotations as factmark writes them, and `Annotation::validate` alone.
//!
//! Run: `cargo bench -p factmark-core --bench stored` (figures are per whole list).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use factmark_core::import::parse_stored;
use factmark_core::model::Annotation;
use serde_json::json;

#[path = "../tests/support/rng.rs"]
mod rng;
use rng::Rng;

const WORDS: &[&str] = &[
    "the",
    "council",
    "ceasefire",
    "northern",
    "government",
    "claims",
    "images",
    "first",
    "was",
    "Wróbel",
    "Łukasz",
    "über",
    "said",
    "after",
    "régime",
    "Ğ",
    "two",
    "of",
    "and",
    "𝔽ake",
];

fn words(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| rng.pick(WORDS))
        .collect::<Vec<_>>()
        .join(" ")
}

fn uuid(rng: &mut Rng) -> String {
    let h = format!("{:016x}{:016x}", rng.next(), rng.next());
    format!(
        "urn:uuid:{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// The browser benchmark's stored list, written the way `JSON.stringify` writes it.
fn stored_list(n: usize) -> String {
    let mut rng = Rng(0x5EED_0F57_09ED);
    let items: Vec<_> = (0..n)
        .map(|i| {
            let created = format!(
                "2026-11-20T{:02}:{:02}:{:02}.000Z",
                9 + i / 60 % 14,
                i % 60,
                i * 7 % 60
            );
            let mut body = vec![
                json!({"type": "TextualBody", "purpose": "assessing",
                       "value": if i % 2 == 1 { "fabricated" } else { "unverified" }}),
                json!({"type": "TextualBody", "purpose": "commenting",
                       "value": format!("Benchmark note {i}: source not found."),
                       "format": "text/plain"}),
            ];
            if i % 5 == 0 {
                body.push(json!({"type": "SpecificResource", "purpose": "linking",
                                 "source": format!("https://factcheck.example/claims/{i}")}));
            }
            let count = 3 + rng.below(25);
            let start = i * 1000 + rng.below(500);
            json!({
                "@context": "http://www.w3.org/ns/anno.jsonld",
                "id": uuid(&mut rng),
                "type": "Annotation",
                "motivation": "assessing",
                "created": created,
                "body": body,
                "target": {
                    "type": "SpecificResource",
                    "source": "https://bench.example/articles/1mb",
                    "selector": [
                        {"type": "TextQuoteSelector", "exact": words(&mut rng, count),
                         "prefix": words(&mut rng, 4), "suffix": words(&mut rng, 4)},
                        {"type": "TextPositionSelector", "start": start, "end": start + count * 6},
                    ],
                    "state": {"type": "TimeState", "sourceDate": created},
                },
            })
        })
        .collect();
    serde_json::to_string(&items).unwrap()
}

fn benches(c: &mut Criterion) {
    let bench_shape = stored_list(1000);
    let read = parse_stored(&bench_shape);
    assert_eq!((read.valid.len(), read.invalid.len()), (1000, 0));
    assert!(read.corrupt.is_none());
    let written = serde_json::to_string(&read.valid).unwrap();
    assert_eq!(parse_stored(&written).valid, read.valid);

    let mut g = c.benchmark_group("stored_1000");
    g.bench_function("parse_stored_bench_shape", |b| {
        b.iter(|| parse_stored(black_box(&bench_shape)))
    });
    g.bench_function("parse_stored_as_written", |b| {
        b.iter(|| parse_stored(black_box(&written)))
    });
    g.bench_function("validate_only", |b| {
        b.iter(|| {
            black_box(&read.valid)
                .iter()
                .all(|a: &Annotation| a.validate().is_ok())
        })
    });
    g.finish();
}

criterion_group!(stored, benches);
criterion_main!(stored);
