//! Anchoring benchmarks on deterministic generated articles.
//!
//! - `exact_1000_quotes_1MB`: 1,000 passages described in a 1 MB article, re-anchored in the same
//!   text without position hints (every quote found by exact search), and with hints.
//! - `fuzzy_100_quotes_100KB`: 100 passages described in a 100 KB article, then in each passage
//!   1–3 letters are changed and a word is inserted; re-anchored without and with (now stale)
//!   position hints. The setup asserts that every passage lands exactly where it is now.
//!
//! Run: `cargo bench -p factmark-core` (figures are per whole batch).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use factmark_core::anchor::{describe, Anchorer, Method, Resolution, Span};
use factmark_core::model::Selectors;
use factmark_core::text::Text;

#[path = "../tests/support/rng.rs"]
mod rng;
use rng::Rng;

const FUNCTION_WORDS: &[&str] = &[
    "the", "of", "and", "to", "in", "a", "that", "is", "was", "for", "on", "with", "as", "by",
    "at", "from", "has", "had", "said", "which", "their", "its", "were", "been", "after", "before",
];
const ONSETS: &[&str] = &[
    "b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr", "st",
    "gr", "ch",
];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ia", "ou", "ai"];
const CODAS: &[&str] = &["", "", "n", "r", "s", "l", "m", "t"];

/// A content word from 1–3 random syllables: thousands of distinct words, so generated sentences
/// are unique.
fn content_word(rng: &mut Rng) -> String {
    let syllables = 1 + rng.below(3);
    let mut w = String::new();
    for _ in 0..syllables {
        w.push_str(rng.pick(ONSETS));
        w.push_str(rng.pick(VOWELS));
        w.push_str(rng.pick(CODAS));
    }
    w
}

fn sentence(rng: &mut Rng) -> String {
    let words = 10 + rng.below(22);
    let mut s = String::new();
    for i in 0..words {
        let w = if rng.below(5) < 2 {
            rng.pick(FUNCTION_WORDS).to_owned()
        } else {
            content_word(rng)
        };
        if i == 0 {
            let mut c = w.chars();
            let first = c.next().unwrap().to_ascii_uppercase();
            s.push(first);
            s.push_str(c.as_str());
        } else {
            s.push_str(if rng.below(12) == 0 { ", " } else { " " });
            s.push_str(&w);
        }
    }
    s.push('.');
    s
}

/// An article of at least `bytes` bytes: paragraphs of 3–7 sentences. Returns the text and the
/// code point span of every sentence.
fn article(rng: &mut Rng, bytes: usize) -> Vec<Vec<String>> {
    let mut paragraphs = Vec::new();
    let mut size = 0;
    while size < bytes {
        let p: Vec<String> = (0..3 + rng.below(5)).map(|_| sentence(rng)).collect();
        size += p.iter().map(|s| s.len() + 1).sum::<usize>() + 1;
        paragraphs.push(p);
    }
    paragraphs
}

/// Joins paragraphs (sentences separated by a space, paragraphs by a blank line) and returns the
/// span of each sentence in code points (all ASCII here, so bytes).
fn render(paragraphs: &[Vec<String>]) -> (String, Vec<Span>) {
    let mut text = String::new();
    let mut spans = Vec::new();
    for (i, p) in paragraphs.iter().enumerate() {
        if i > 0 {
            text.push_str("\n\n");
        }
        for (j, s) in p.iter().enumerate() {
            if j > 0 {
                text.push(' ');
            }
            spans.push(Span {
                start: text.len(),
                end: text.len() + s.len(),
            });
            text.push_str(s);
        }
    }
    (text, spans)
}

/// `count` distinct, non-adjacent sentence indices out of `n`.
fn choose(rng: &mut Rng, n: usize, count: usize) -> Vec<usize> {
    let mut taken = vec![false; n];
    let mut out = Vec::new();
    while out.len() < count {
        let i = rng.below(n);
        if taken[i] || (i > 0 && taken[i - 1]) || (i + 1 < n && taken[i + 1]) {
            continue;
        }
        taken[i] = true;
        out.push(i);
    }
    out
}

fn without_position(mut s: Selectors) -> Selectors {
    s.position = None;
    s
}

fn assert_all_at(resolutions: &[Resolution], expected: &[Span], method: Option<Method>) {
    for (i, (r, want)) in resolutions.iter().zip(expected).enumerate() {
        match r {
            Resolution::Anchored(a) if (a.start, a.end) == (want.start, want.end) => {
                if let Some(m) = method {
                    assert_eq!(a.method, m, "passage {i}");
                }
            }
            other => panic!("passage {i}: expected {want:?}, got {other:?}"),
        }
    }
}

struct ExactSetup {
    source: String,
    text: Text,
    hinted: Vec<Selectors>,
    unhinted: Vec<Selectors>,
}

fn exact_setup() -> ExactSetup {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let paragraphs = article(&mut rng, 1_000_000);
    let (source, sentences) = render(&paragraphs);
    let text = Text::new(&source);
    let mut expected = Vec::new();
    let mut hinted = Vec::new();
    for i in choose(&mut rng, sentences.len(), 1000) {
        // A passage: part of a sentence, from a word start, 40–160 characters, or the whole.
        let s = sentences[i];
        let sentence = &source[s.start..s.end];
        let starts: Vec<usize> = std::iter::once(0)
            .chain(sentence.match_indices(' ').map(|(b, _)| b + 1))
            .collect();
        let from = starts[rng.below(starts.len().div_ceil(2))];
        let len = (40 + rng.below(120)).min(sentence.len() - from);
        let span = Span {
            start: s.start + from,
            end: s.start + from + len,
        };
        hinted.push(describe(&text, span).expect("describable"));
        expected.push(span);
    }
    let unhinted: Vec<Selectors> = hinted.iter().cloned().map(without_position).collect();
    let anchorer = Anchorer::new(&text);
    assert_all_at(
        &anchorer.resolve_all(&unhinted),
        &expected,
        Some(Method::Exact),
    );
    assert_all_at(
        &anchorer.resolve_all(&hinted),
        &expected,
        Some(Method::Position),
    );
    ExactSetup {
        source,
        text,
        hinted,
        unhinted,
    }
}

struct FuzzySetup {
    edited: Text,
    hinted: Vec<Selectors>,
    unhinted: Vec<Selectors>,
}

/// Changes 1–3 letters of a sentence (not among its first and last three characters) and inserts
/// a word between two of its interior words.
fn edit_sentence(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..1 + rng.below(3) {
        loop {
            let i = 3 + rng.below(chars.len() - 6);
            if chars[i].is_ascii_lowercase() {
                let mut c = chars[i];
                while c == chars[i] {
                    c = (b'a' + rng.below(26) as u8) as char;
                }
                chars[i] = c;
                break;
            }
        }
    }
    let s: String = chars.into_iter().collect();
    let gaps: Vec<usize> = s.match_indices(' ').map(|(b, _)| b).collect();
    let at = gaps[1 + rng.below(gaps.len() - 2)];
    let word = content_word(rng);
    format!("{} {}{}", &s[..at], word, &s[at..])
}

fn fuzzy_setup() -> FuzzySetup {
    let mut rng = Rng(0x5EED_1234_ABCD_0002);
    let mut paragraphs = article(&mut rng, 100_000);
    let (source, sentences) = render(&paragraphs);
    let text = Text::new(&source);
    let chosen = choose(&mut rng, sentences.len(), 100);
    let hinted: Vec<Selectors> = chosen
        .iter()
        .map(|&i| describe(&text, sentences[i]).expect("describable"))
        .collect();
    // Edit the chosen sentences in place; sentence i is the i-th in reading order.
    let mut index = 0;
    let mut targets = vec![false; sentences.len()];
    for &i in &chosen {
        targets[i] = true;
    }
    for p in &mut paragraphs {
        for s in p.iter_mut() {
            if targets[index] {
                *s = edit_sentence(&mut rng, s);
            }
            index += 1;
        }
    }
    let (edited_source, edited_sentences) = render(&paragraphs);
    let edited = Text::new(&edited_source);
    let expected: Vec<Span> = chosen.iter().map(|&i| edited_sentences[i]).collect();
    let unhinted: Vec<Selectors> = hinted.iter().cloned().map(without_position).collect();
    let anchorer = Anchorer::new(&edited);
    assert_all_at(
        &anchorer.resolve_all(&unhinted),
        &expected,
        Some(Method::Fuzzy),
    );
    assert_all_at(
        &anchorer.resolve_all(&hinted),
        &expected,
        Some(Method::Fuzzy),
    );
    FuzzySetup {
        edited,
        hinted,
        unhinted,
    }
}

fn benches(c: &mut Criterion) {
    let exact = exact_setup();
    let mut g = c.benchmark_group("exact_1000_quotes_1MB");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.bench_function("no_position", |b| {
        b.iter(|| Anchorer::new(&exact.text).resolve_all(black_box(&exact.unhinted)))
    });
    g.bench_function("with_position", |b| {
        b.iter(|| Anchorer::new(&exact.text).resolve_all(black_box(&exact.hinted)))
    });
    g.bench_function("no_position_including_text_build", |b| {
        b.iter(|| {
            let text = Text::new(black_box(&exact.source));
            Anchorer::new(&text).resolve_all(black_box(&exact.unhinted))
        })
    });
    g.bench_function("text_build_only", |b| {
        b.iter(|| {
            let text = Text::new(black_box(&exact.source));
            text.view().len()
        })
    });
    g.finish();

    let fuzzy = fuzzy_setup();
    let mut g = c.benchmark_group("fuzzy_100_quotes_100KB");
    g.sample_size(30).measurement_time(Duration::from_secs(6));
    g.bench_function("no_position", |b| {
        b.iter(|| Anchorer::new(&fuzzy.edited).resolve_all(black_box(&fuzzy.unhinted)))
    });
    g.bench_function("with_position", |b| {
        b.iter(|| Anchorer::new(&fuzzy.edited).resolve_all(black_box(&fuzzy.hinted)))
    });
    g.finish();
}

criterion_group!(anchoring, benches);
criterion_main!(anchoring);
