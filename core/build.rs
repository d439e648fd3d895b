//! Generates the compact Unicode tables the matching view needs (`text::nfd`): the full
//! canonical decomposition of every character that has one (Hangul syllables excepted: they
//! decompose by arithmetic) and the canonical combining classes, from `unicode-normalization`,
//! so that the library itself does not link that crate's much larger tables.
//!
//! `DECOMPOSITIONS`: sorted by character; each entry packs the character (bits 42..63), the first
//! character of its decomposition (bits 21..42) and up to three more as 7-bit indexes into
//! `TAILS` (bits 14..21, 7..14, 0..7; 0 = none). `CLASSES`: sorted runs of characters with one
//! non-zero class, packed as first (bits 29..50), last (bits 8..29), class (bits 0..8).

use std::fmt::Write;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let mut tails: Vec<u32> = vec![0];
    let mut decompositions = Vec::new();
    let mut classes: Vec<(u32, u32, u8)> = Vec::new();
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        let cp = c as u32;
        let class = unicode_normalization::char::canonical_combining_class(c);
        if class != 0 {
            match classes.last_mut() {
                Some((_, last, k)) if *last + 1 == cp && *k == class => *last = cp,
                _ => classes.push((cp, cp, class)),
            }
        }
        if (0xAC00..=0xD7A3).contains(&cp) {
            continue;
        }
        let mut d = Vec::new();
        unicode_normalization::char::decompose_canonical(c, |x| d.push(x as u32));
        if d == [cp] {
            continue;
        }
        assert!(
            d.len() <= 4,
            "U+{cp:04X} decomposes into more than 4 characters"
        );
        let mut packed = (cp as u64) << 42 | (d[0] as u64) << 21;
        for (i, &t) in d[1..].iter().enumerate() {
            let k = match tails.iter().position(|&x| x == t) {
                Some(k) => k,
                None => {
                    tails.push(t);
                    tails.len() - 1
                }
            };
            assert!(
                k < 128,
                "more than 127 distinct non-initial decomposition characters"
            );
            packed |= (k as u64) << (14 - 7 * i);
        }
        decompositions.push(packed);
    }
    let mut out = String::new();
    let list = |xs: &mut dyn Iterator<Item = String>| xs.collect::<Vec<_>>().join(",");
    writeln!(
        out,
        "pub(super) static DECOMPOSITIONS: [u64; {}] = [{}];",
        decompositions.len(),
        list(&mut decompositions.iter().map(|x| format!("{x:#x}")))
    )
    .unwrap();
    writeln!(
        out,
        "pub(super) static TAILS: [u32; {}] = [{}];",
        tails.len(),
        list(&mut tails.iter().map(|x| format!("{x:#x}")))
    )
    .unwrap();
    writeln!(
        out,
        "pub(super) static CLASSES: [u64; {}] = [{}];",
        classes.len(),
        list(
            &mut classes
                .iter()
                .map(|&(a, b, k)| format!("{:#x}", (a as u64) << 29 | (b as u64) << 8 | k as u64))
        )
    )
    .unwrap();
    let path = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("nfd_tables.rs");
    std::fs::write(path, out).unwrap();
}
