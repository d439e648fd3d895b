//! One text type for a page's text: code points (what W3C selectors count, spec 4.2.4) ⇄ UTF-16
//! code units (what the DOM counts), cheap slicing by code point, and a *matching view* in which
//! differences that do not change what a reader sees are gone.
//!
//! # Offset mapping
//! Every mapping is O(1) or O(log n): code points → UTF-16 by counting, with a binary search, the
//! non-BMP characters before the offset (the only ones that take two units); code points → bytes by a
//! checkpoint every 64 code points plus a short walk. Pure-ASCII text skips both tables.
//!
//! # The matching view
//! [`View`] is the text as the matcher sees it. Relative to the original it:
//! - drops every whitespace character (`char::is_whitespace`, which includes no-break spaces) and
//!   invisible formatting characters (soft hyphen, zero-width space, word joiner, BOM, bidi marks and
//!   embeddings), so reflowed lines, indentation, `&nbsp;` and CMS-inserted soft hyphens never
//!   break a match — and neither does a block boundary that one DOM extraction renders as `"\n"` and
//!   another as nothing;
//! - applies canonical decomposition with canonical reordering of combining marks (NFD), so NFC and
//!   NFD spellings of the same text are equal;
//! - folds typographic variants of apostrophes, quotation marks and dashes to their ASCII forms
//!   (a CMS "smart quotes" pass must not orphan every flag that spans a quotation).
//!
//! Each view character remembers the original code point it came from (`orig`), and that map is
//! non-decreasing, so any view range maps back to an exact original range with [`View::to_original`].
//! A boundary that falls *inside* what one original character produced (a decomposed "é", or a
//! canonically reordered run of combining marks) rounds outward to whole original characters.

use std::fmt;
use std::sync::OnceLock;

use crate::unicode::{canonical_combining_class, decompose_canonical};

/// Code points between two byte-offset checkpoints (a power of two).
const CHECKPOINT: usize = 64;
const _: () = assert!(CHECKPOINT.is_power_of_two());

/// A page's text, built once per text; owns the string and the maps between offset units.
///
/// All offsets are Unicode code points unless named `*_utf16`. Offsets past the end are clamped to
/// the end; a UTF-16 offset in the middle of a surrogate pair maps to the start of that character.
#[derive(Clone)]
pub struct Text {
    s: String,
    /// Length in code points.
    len: usize,
    /// Byte offset of code point `i * CHECKPOINT`; empty when the text is ASCII.
    checkpoints: Vec<u32>,
    /// Code point offsets of the characters outside the BMP (two UTF-16 units each), ascending.
    astral: Vec<u32>,
    view: OnceLock<View>,
}

impl Text {
    /// Builds the maps for `s`.
    ///
    /// # Panics
    /// If `s` is 4 GiB or longer (offsets are stored as `u32` to halve the maps' memory).
    pub fn new(s: &str) -> Text {
        Text::from_string(s.to_owned())
    }

    /// [`Text::new`] for a string the caller no longer needs (no copy).
    ///
    /// # Panics
    /// If `s` is 4 GiB or longer.
    pub fn from_string(s: String) -> Text {
        assert!(u32::try_from(s.len()).is_ok(), "text of 4 GiB or more");
        let mut checkpoints = Vec::new();
        let mut astral = Vec::new();
        let len = if s.is_ascii() {
            s.len()
        } else {
            checkpoints.reserve(s.len() / CHECKPOINT + 1);
            // Bytes, not chars: a code point starts at every byte that is not a continuation
            // byte, and takes two UTF-16 units when its lead byte is 0xF0 or more. Eight bytes
            // at a time where that is all they do (no astral lead, no checkpoint); one at a time
            // elsewhere.
            const HIGH: u64 = 0x8080_8080_8080_8080;
            let bytes = s.as_bytes();
            let mut n = 0usize;
            let mut at = 0;
            while at < bytes.len() {
                if let Some(chunk) = bytes.get(at..at + 8) {
                    let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
                    // Per byte, the top bit: continuation (10xxxxxx), astral lead (1111xxxx).
                    let continuation = w & !(w << 1) & HIGH;
                    let astral_lead = w & (w << 1) & (w << 2) & (w << 3) & HIGH;
                    let starts = 8 - continuation.count_ones() as usize;
                    let into = n & (CHECKPOINT - 1);
                    if astral_lead == 0
                        && (starts == 0 || (into != 0 && into + starts <= CHECKPOINT))
                    {
                        n += starts;
                        at += 8;
                        continue;
                    }
                }
                let end = (at + 8).min(bytes.len());
                for (i, &b) in bytes[at..end].iter().enumerate() {
                    let byte = at + i;
                    if starts_char(b) {
                        if n & (CHECKPOINT - 1) == 0 {
                            checkpoints.push(byte as u32);
                        }
                        if b >= 0xF0 {
                            astral.push(n as u32);
                        }
                        n += 1;
                    }
                }
                at = end;
            }
            n
        };
        Text {
            s,
            len,
            checkpoints,
            astral,
            view: OnceLock::new(),
        }
    }

    /// Builds a text from DOM UTF-16 code units. A lone surrogate becomes U+FFFD, which is one unit
    /// too, so UTF-16 offsets keep meaning the same place in the result.
    pub fn from_utf16(units: &[u16]) -> Text {
        Text::from_string(String::from_utf16_lossy(units))
    }

    pub fn as_str(&self) -> &str {
        &self.s
    }

    /// Length in code points.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Length in UTF-16 code units.
    pub fn utf16_len(&self) -> usize {
        self.len + self.astral.len()
    }

    /// Code point offset of a UTF-16 offset. An offset between the two halves of a surrogate pair
    /// maps to the start of that character; offsets past the end map to [`Text::len`].
    pub fn utf16_to_cp(&self, u16_offset: usize) -> usize {
        let u = u16_offset.min(self.utf16_len());
        // The k-th astral character starts at UTF-16 offset astral[k] + k, which is increasing in k;
        // subtract one unit for each astral character that starts before `u`.
        let (mut lo, mut hi) = (0usize, self.astral.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if (self.astral[mid] as usize) + mid < u {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        u - lo
    }

    /// UTF-16 offset of a code point offset (clamped to the end).
    pub fn cp_to_utf16(&self, cp: usize) -> usize {
        let cp = cp.min(self.len);
        cp + self.astral.partition_point(|&a| (a as usize) < cp)
    }

    /// Byte offset of a code point offset (clamped to the end).
    pub fn cp_to_byte(&self, cp: usize) -> usize {
        let cp = cp.min(self.len);
        if self.checkpoints.is_empty() {
            return cp;
        }
        if cp == self.len {
            return self.s.len();
        }
        // From the checkpoint, count character starts; `cp < len`, so the character sought is
        // there.
        let bytes = self.s.as_bytes();
        let mut at = self.checkpoints[cp / CHECKPOINT] as usize;
        let mut rest = cp % CHECKPOINT;
        while rest > 0 {
            at += 1;
            if starts_char(bytes[at]) {
                rest -= 1;
            }
        }
        at
    }

    /// The text between two code point offsets; offsets are clamped to the end, and an inverted
    /// range gives the empty string.
    pub fn slice(&self, start_cp: usize, end_cp: usize) -> &str {
        if start_cp >= end_cp {
            return "";
        }
        let a = self.cp_to_byte(start_cp);
        let b = self.cp_to_byte(end_cp);
        &self.s[a..b]
    }

    /// The matching view, built on first use.
    pub fn view(&self) -> &View {
        self.view.get_or_init(|| View::build(&self.s, self.len))
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.s == other.s
    }
}

impl Eq for Text {}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head: String = self.s.chars().take(40).collect();
        f.debug_struct("Text")
            .field("len", &self.len)
            .field("utf16_len", &self.utf16_len())
            .field("head", &head)
            .finish()
    }
}

/// The text as the matcher compares it (see the module documentation), with a map back to the
/// original code point offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    chars: Vec<u32>,
    /// `orig[i]`: original code point offset of the character that produced `chars[i]`;
    /// non-decreasing; `orig[chars.len()]` is the original length.
    orig: Vec<u32>,
    /// Runs of combining marks that canonical reordering moved, as (first view index, end view
    /// index, original end offset), ascending. Inside one, all `orig` entries hold the run's first
    /// original offset; a range ending inside one ends at the run's end. Almost always empty.
    reordered: Vec<(u32, u32, u32)>,
    /// `orig[i * COARSE]`: a small table for the first step of [`View::view_index`], so that a
    /// lookup touches two cache lines of `orig` instead of twenty.
    coarse: Vec<u32>,
}

const COARSE: usize = 64;

impl View {
    /// The view of a standalone string (a quote, a prefix…), offsets relative to it.
    pub fn of(s: &str) -> View {
        View::build(s, s.chars().count())
    }

    fn build(s: &str, len: usize) -> View {
        let mut chars = Vec::with_capacity(len);
        let mut orig = Vec::with_capacity(len + 1);
        let mut reordered = Vec::new();
        if s.is_ascii() {
            // Branch-free: write every byte, advance past the non-blank ones (spaces are too
            // frequent and too irregular for a branch to predict).
            chars.resize(len, 0);
            orig.resize(len + 1, 0);
            let mut n = 0;
            let (c, o) = (&mut chars[..], &mut orig[..len]);
            for (i, &b) in s.as_bytes().iter().enumerate() {
                c[n] = b as u32;
                o[n] = i as u32;
                n += !(b == b' ' || (b'\t'..=b'\r').contains(&b)) as usize;
            }
            chars.truncate(n);
            orig.truncate(n);
            orig.push(len as u32);
            return View::assemble(chars, orig, reordered);
        }
        let mut run_start = 0usize; // first view index of the current run of combining marks
        for (i, c) in s.chars().enumerate() {
            let i = i as u32;
            if c.is_ascii() {
                if !c.is_whitespace() {
                    if chars.len() - run_start > 1 {
                        settle_marks(&mut chars, &mut orig, &mut reordered, run_start);
                    }
                    chars.push(c as u32);
                    orig.push(i);
                    run_start = chars.len();
                }
                continue;
            }
            if c.is_whitespace() || is_invisible(c) {
                continue;
            }
            let c = fold_punctuation(c);
            decompose_canonical(c, |d| {
                if canonical_combining_class(d) == 0 {
                    if chars.len() - run_start > 1 {
                        settle_marks(&mut chars, &mut orig, &mut reordered, run_start);
                    }
                    run_start = chars.len() + 1;
                }
                chars.push(d as u32);
                orig.push(i);
            });
        }
        settle_marks(&mut chars, &mut orig, &mut reordered, run_start);
        orig.push(len as u32);
        View::assemble(chars, orig, reordered)
    }

    fn assemble(chars: Vec<u32>, orig: Vec<u32>, reordered: Vec<(u32, u32, u32)>) -> View {
        let coarse = orig[..chars.len()]
            .iter()
            .step_by(COARSE)
            .copied()
            .collect();
        View {
            chars,
            orig,
            reordered,
            coarse,
        }
    }

    pub fn chars(&self) -> &[u32] {
        &self.chars
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// Original code point offset of view character `v` (the original length for `v == len`).
    pub fn orig_at(&self, v: usize) -> usize {
        self.orig[v.min(self.chars.len())] as usize
    }

    /// First view index whose character comes from original offset `cp` or later.
    pub fn view_index(&self, cp: usize) -> usize {
        let k = self.coarse.partition_point(|&o| (o as usize) < cp);
        let lo = k.saturating_sub(1) * COARSE;
        let hi = (k * COARSE).min(self.chars.len());
        lo + self.orig[lo..hi].partition_point(|&o| (o as usize) < cp)
    }

    /// The view range covering the original range `[start, end)`: the view characters produced by
    /// original characters inside it.
    pub fn view_range(&self, start: usize, end: usize) -> (usize, usize) {
        let a = self.view_index(start);
        let b = self.view_index(end).max(a);
        (a, b)
    }

    /// The original range of a non-empty view range: from the first character's source to just
    /// after the last character's source. A boundary inside what one original character produced,
    /// or inside a reordered run of combining marks, rounds outward.
    pub fn to_original(&self, start: usize, end: usize) -> (usize, usize) {
        debug_assert!(start < end && end <= self.chars.len());
        let last = end - 1;
        let k = self.reordered.partition_point(|r| (r.1 as usize) <= last);
        let orig_end = match self.reordered.get(k) {
            Some(&(a, _, e)) if a as usize <= last => e as usize,
            _ => self.orig[last] as usize + 1,
        };
        (self.orig[start] as usize, orig_end)
    }
}

/// Whether `c` starts a combining sequence (canonical combining class 0).
pub(crate) fn is_starter(c: char) -> bool {
    c.is_ascii() || canonical_combining_class(c) == 0
}

/// Whether a UTF-8 byte starts a character (is not a continuation byte, `10xxxxxx`).
fn starts_char(b: u8) -> bool {
    (b as i8) >= -0x40
}

/// Whether the view drops `c`: whitespace or an invisible formatting character.
pub(crate) fn is_blank(c: char) -> bool {
    if c.is_ascii() {
        return matches!(c, ' ' | '\t'..='\r');
    }
    c.is_whitespace() || is_invisible(c)
}

/// Characters that render as nothing (or only steer layout) and that editors add or drop freely.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                // soft hyphen
            | '\u{200B}'          // zero width space
            | '\u{2060}'          // word joiner
            | '\u{FEFF}'          // BOM / zero width no-break space
            | '\u{061C}'          // Arabic letter mark
            | '\u{200E}' | '\u{200F}' // LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2066}'..='\u{2069}' // bidi isolates
    )
}

/// Typographic variants whose choice is the CMS's, not the author's.
fn fold_punctuation(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' => '"',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        _ => c,
    }
}

/// Puts the combining marks from `run_start` to the end in canonical order (a stable sort by
/// combining class). When that moves anything, every mark of the run maps to the run's first
/// source and the run is recorded, so the run as a whole still maps to exactly the original
/// characters it came from.
fn settle_marks(
    chars: &mut [u32],
    orig: &mut [u32],
    reordered: &mut Vec<(u32, u32, u32)>,
    run_start: usize,
) {
    let run = run_start..chars.len();
    if run.len() < 2 {
        return;
    }
    let class = |c: u32| canonical_combining_class(char::from_u32(c).unwrap_or('\0'));
    if chars[run.clone()]
        .windows(2)
        .all(|w| class(w[0]) <= class(w[1]))
    {
        return;
    }
    let mut marks: Vec<u32> = chars[run.clone()].to_vec();
    crate::order::sort_by_key(&mut marks, |&c| class(c));
    chars[run.clone()].copy_from_slice(&marks);
    let first = orig[run.start];
    let last = orig[run.end - 1];
    for o in &mut orig[run.clone()] {
        *o = first;
    }
    reordered.push((run.start as u32, run.end as u32, last + 1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_round_trip_with_astral_characters() {
        let t = Text::new("a😀b𠀀c");
        assert_eq!(t.len(), 5);
        assert_eq!(t.utf16_len(), 7);
        let cps = [0, 1, 2, 3, 4, 5];
        let units = [0, 1, 3, 4, 6, 7];
        for (&cp, &u) in cps.iter().zip(&units) {
            assert_eq!(t.cp_to_utf16(cp), u);
            assert_eq!(t.utf16_to_cp(u), cp);
        }
        // Inside a surrogate pair: the character's start.
        assert_eq!(t.utf16_to_cp(2), 1);
        assert_eq!(t.utf16_to_cp(5), 3);
        assert_eq!(t.utf16_to_cp(99), 5);
        assert_eq!(t.slice(1, 4), "😀b𠀀");
    }

    #[test]
    fn offset_maps_agree_with_counting_characters_in_mixed_text() {
        // Runs of 1-, 2-, 3- and 4-byte characters of varied lengths, so that astral characters
        // and checkpoints fall at every place within the eight-byte steps of `from_string`.
        let alphabet = ['a', ' ', 'é', 'ß', '€', '中', '😀', '𠀀'];
        let mut seed = 7u32;
        for round in 0..40 {
            let mut s = String::new();
            for _ in 0..(round * 13 % 300 + 1) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let c = alphabet[(seed >> 16) as usize % alphabet.len()];
                let run = if c.is_ascii() {
                    (seed >> 8) as usize % 20 + 1
                } else {
                    1
                };
                s.extend(std::iter::repeat_n(c, run));
            }
            let t = Text::new(&s);
            let chars: Vec<(usize, char)> = s.char_indices().collect();
            assert_eq!(t.len(), chars.len());
            let mut units = 0;
            for (cp, &(byte, c)) in chars.iter().enumerate() {
                assert_eq!(t.cp_to_byte(cp), byte, "round {round}, cp {cp}");
                assert_eq!(t.cp_to_utf16(cp), units, "round {round}, cp {cp}");
                assert_eq!(t.utf16_to_cp(units), cp, "round {round}, cp {cp}");
                units += c.len_utf16();
            }
            assert_eq!(t.cp_to_byte(chars.len()), s.len());
            assert_eq!(t.utf16_len(), units);
        }
    }

    #[test]
    fn view_drops_whitespace_and_maps_back() {
        let t = Text::new("a \n\u{00A0}b\u{00AD}c");
        let v = t.view();
        assert_eq!(v.chars(), &['a' as u32, 'b' as u32, 'c' as u32]);
        assert_eq!(v.to_original(1, 3), (4, 7));
        assert_eq!(v.view_range(1, 5), (1, 2));
    }

    #[test]
    fn nfc_and_nfd_have_the_same_view() {
        let nfc = View::of("caf\u{e9} \u{1ec7}");
        let nfd = View::of("cafe\u{301} e\u{323}\u{302}");
        assert_eq!(nfc.chars(), nfd.chars());
        // "é" is one original character that became two view characters.
        assert_eq!(nfc.to_original(3, 5), (3, 4));
        assert_eq!(nfd.to_original(3, 5), (3, 5));
    }

    #[test]
    fn reordered_marks_keep_an_exact_outer_map() {
        // e + acute (230) + dot below (220) → canonical order puts the dot first.
        let v = View::of("xe\u{301}\u{323}y");
        let w = View::of("xe\u{323}\u{301}y");
        assert_eq!(v.chars(), w.chars());
        assert_eq!(v.to_original(1, 4), (1, 4));
        assert_eq!(v.to_original(4, 5), (4, 5));
        // A range ending inside the reordered run covers all of it.
        assert_eq!(v.to_original(0, 3), (0, 4));
        assert_eq!(v.to_original(2, 3), (2, 4));
    }

    #[test]
    fn view_index_agrees_with_a_plain_search() {
        let mut s = String::new();
        for i in 0..400 {
            s.push_str(["word ", "  \n\n    ", "é", "e\u{301}\u{323}", "😀", "x"][i % 6]);
            if i % 37 == 0 {
                s.push_str(&" ".repeat(150));
            }
        }
        let t = Text::new(&s);
        let v = t.view();
        for cp in 0..=t.len() + 1 {
            let plain = v.orig[..v.len()].partition_point(|&o| (o as usize) < cp);
            assert_eq!(v.view_index(cp), plain, "cp {cp}");
        }
    }

    #[test]
    fn lone_surrogates_keep_utf16_length() {
        let t = Text::from_utf16(&[0x61, 0xD800, 0x62, 0xD83D, 0xDE00]);
        assert_eq!(t.utf16_len(), 5);
        assert_eq!(t.as_str(), "a\u{FFFD}b😀");
        assert_eq!(t.utf16_to_cp(3), 3);
    }
}
