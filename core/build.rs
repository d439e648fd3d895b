//! Generates the compact Unicode tables the matching view needs (`unicode`): the full
//! canonical decomposition of every character that has one (Hangul syllables excepted: they
//! decompose by arithmetic) and the canonical combining classes, from `unicode-normalization`,
//! so that the library itself does not link that crate's much larger tables.
//!
//! Collected first as `decompositions` (sorted by character; each entry packs the character in
//! bits 42..63, the first character of its decomposition in bits 21..42 and up to three more as
//! 7-bit indexes into `tails` in bits 14..21, 7..14, 0..7, 0 = none) and `classes` (sorted runs
//! of characters with one non-zero class), then written column by column by `planes_tables`.

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
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(
        out_dir.join("nfd_planes.rs"),
        planes_tables(&decompositions, &tails, &classes),
    )
    .unwrap();
}

/// The tables for `unicode.rs`, column by column and each 21-bit value as three byte
/// planes (all low bytes, then all middle bytes, then all high bytes): sorted code points then
/// differ mostly in one plane, which gzip squeezes to about half of the packed `u64` form.
fn planes_tables(decompositions: &[u64], tails: &[u32], classes: &[(u32, u32, u8)]) -> String {
    fn planes(values: impl Iterator<Item = u32> + Clone) -> Vec<u8> {
        (0..3)
            .flat_map(|k| values.clone().map(move |v| (v >> (8 * k)) as u8))
            .collect()
    }
    fn bytes(name: &str, doc: &str, data: &[u8]) -> String {
        let list: Vec<String> = data.iter().map(u8::to_string).collect();
        format!(
            "/// {doc}\npub(super) static {name}: [u8; {}] = [{}];\n",
            data.len(),
            list.join(",")
        )
    }
    let field = |shift: u32| {
        decompositions
            .iter()
            .map(move |&e| (e >> shift) as u32 & 0x1F_FFFF)
    };
    let tail_indexes: Vec<u8> = [14, 7, 0]
        .iter()
        .flat_map(|&shift| {
            decompositions
                .iter()
                .map(move |&e| (e >> shift) as u8 & 0x7F)
        })
        .collect();
    let mut out = String::new();
    out += &bytes(
        "DECOMPOSED",
        "Characters with a canonical decomposition (Hangul aside), sorted, as byte planes.",
        &planes(field(42)),
    );
    out += &bytes(
        "FIRSTS",
        "The first character of each one's decomposition, as byte planes.",
        &planes(field(21)),
    );
    out += &bytes(
        "TAIL_INDEXES",
        "Up to three more characters per decomposition, as indexes into TAILS (0 = none), one plane per place.",
        &tail_indexes,
    );
    let list: Vec<String> = tails.iter().map(u32::to_string).collect();
    out += &format!(
        "/// Non-initial decomposition characters (index 0 unused).\npub(super) static TAILS: [u32; {}] = [{}];\n",
        tails.len(),
        list.join(",")
    );
    out += &bytes(
        "CLASS_STARTS",
        "First character of each run of characters with one non-zero combining class, sorted, as byte planes.",
        &planes(classes.iter().map(|&(first, _, _)| first)),
    );
    let lengths: Vec<u8> = classes
        .iter()
        .map(|&(first, last, _)| u8::try_from(last - first).expect("a class run of more than 256"))
        .collect();
    out += &bytes(
        "CLASS_SPANS",
        "Last minus first character of each run.",
        &lengths,
    );
    let values: Vec<u8> = classes.iter().map(|&(_, _, class)| class).collect();
    out += &bytes("CLASS_VALUES", "The combining class of each run.", &values);
    out
}
