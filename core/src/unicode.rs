//! Canonical decomposition and combining classes (the same results as `unicode-normalization`)
//! from tables that `build.rs` generates as byte planes: about 5 KB less wasm after gzip than
//! packed `u64` entries, for the same binary searches.

mod tables {
    include!(concat!(env!("OUT_DIR"), "/nfd_planes.rs"));
}

use tables::*;

const S_BASE: u32 = 0xAC00;
const L_BASE: u32 = 0x1100;
const V_BASE: u32 = 0x1161;
const T_BASE: u32 = 0x11A7;
const T_COUNT: u32 = 28;
const N_COUNT: u32 = 21 * T_COUNT;
const S_COUNT: u32 = 19 * N_COUNT;

/// Value `i` of a column of 21-bit values stored as three byte planes.
#[inline]
fn planes_get(planes: &[u8], i: usize) -> u32 {
    let n = planes.len() / 3;
    u32::from(planes[i]) | u32::from(planes[n + i]) << 8 | u32::from(planes[2 * n + i]) << 16
}

/// The number of values `v` in the sorted plane column with `below(v)`.
#[inline]
fn planes_partition(planes: &[u8], below: impl Fn(u32) -> bool) -> usize {
    let (mut lo, mut hi) = (0, planes.len() / 3);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if below(planes_get(planes, mid)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Calls `emit` with each character of the full canonical decomposition of `c` (`c` itself
/// when it has none).
#[inline]
pub fn decompose_canonical(c: char, mut emit: impl FnMut(char)) {
    let cp = c as u32;
    if cp < 0xC0 {
        return emit(c);
    }
    let s = cp.wrapping_sub(S_BASE);
    if s < S_COUNT {
        emit(char::from_u32(L_BASE + s / N_COUNT).unwrap_or(c));
        emit(char::from_u32(V_BASE + (s % N_COUNT) / T_COUNT).unwrap_or(c));
        if !s.is_multiple_of(T_COUNT) {
            emit(char::from_u32(T_BASE + s % T_COUNT).unwrap_or(c));
        }
        return;
    }
    let k = planes_partition(&DECOMPOSED, |x| x < cp);
    if k == DECOMPOSED.len() / 3 || planes_get(&DECOMPOSED, k) != cp {
        return emit(c);
    }
    let to_char = |x: u32| char::from_u32(x).unwrap_or(c);
    emit(to_char(planes_get(&FIRSTS, k)));
    let n = TAIL_INDEXES.len() / 3;
    for place in 0..3 {
        let t = TAIL_INDEXES[place * n + k] as usize;
        if t == 0 {
            break;
        }
        emit(to_char(TAILS[t]));
    }
}

/// The canonical combining class of `c` (0 for starters).
#[inline]
pub fn canonical_combining_class(c: char) -> u8 {
    let cp = c as u32;
    if cp < 0x300 {
        return 0;
    }
    let k = planes_partition(&CLASS_STARTS, |first| first <= cp);
    match k.checked_sub(1) {
        Some(k) if planes_get(&CLASS_STARTS, k) + u32::from(CLASS_SPANS[k]) >= cp => {
            CLASS_VALUES[k]
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn planes_tables_agree_with_unicode_normalization_everywhere() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            super::decompose_canonical(c, |d| ours.push(d));
            unicode_normalization::char::decompose_canonical(c, |d| theirs.push(d));
            assert_eq!(ours, theirs, "decomposition of U+{:04X}", c as u32);
            assert_eq!(
                super::canonical_combining_class(c),
                unicode_normalization::char::canonical_combining_class(c),
                "class of U+{:04X}",
                c as u32
            );
        }
    }
}
