//! Sorting and small ordered maps with one copy of the sorting code in the wasm.
//!
//! Every `sort_by` / `sort_by_key` / `sort_unstable` call site with its own closure or element
//! type gets its own monomorphized copy of the standard library's sort (3 to 5 KB of wasm each).
//! Here every sort goes through one of two non-generic entry points: [`sort_keys`] for integer
//! keys (a key packs what orders the items; the one copy of the standard sort) and [`sort_by`]
//! for comparisons that do not fit in a key, which merge-sorts indexes through a `dyn`
//! comparator and then permutes the items in place.

use std::borrow::Borrow;
use std::cmp::Ordering;

/// Sorts integer keys ascending. The one instantiation of the standard sort for keys.
#[inline(never)]
pub fn sort_keys(keys: &mut [u64]) {
    keys.sort_unstable();
}

/// Sorts `values` ascending, through [`sort_keys`].
pub fn sort_usizes(values: &mut [usize]) {
    let mut keys: Vec<u64> = values.iter().map(|&v| v as u64).collect();
    sort_keys(&mut keys);
    for (value, key) in values.iter_mut().zip(keys) {
        *value = key as usize;
    }
}

/// Sorts `items` stably by `cmp`: equal items keep their order.
pub fn sort_by<T>(items: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    let order = sorted_indexes(items.len(), &|a, b| cmp(&items[a], &items[b]));
    permute(items, order);
}

/// Sorts `items` stably by the key `key` computes (which is computed per comparison, so it
/// should be cheap: a field or a tuple of fields, not an allocation).
pub fn sort_by_key<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// `0..len` in the order `cmp` sorts them, equal ones in index order: a bottom-up merge sort
/// (insertion-sorted runs, then merges), a few hundred bytes of wasm where another copy of the
/// standard sort would cost about 3 KB.
#[inline(never)]
fn sorted_indexes(len: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    const RUN: usize = 8;
    let after = |a: usize, b: usize| cmp(a, b) == Ordering::Greater;
    let mut order: Vec<usize> = (0..len).collect();
    for start in (0..len).step_by(RUN) {
        let end = (start + RUN).min(len);
        for i in start + 1..end {
            let x = order[i];
            let mut j = i;
            while j > start && after(order[j - 1], x) {
                order[j] = order[j - 1];
                j -= 1;
            }
            order[j] = x;
        }
    }
    let mut merged = vec![0; len];
    let mut width = RUN;
    while width < len {
        for lo in (0..len).step_by(2 * width) {
            let mid = (lo + width).min(len);
            let hi = (lo + 2 * width).min(len);
            let (mut i, mut j) = (lo, mid);
            for slot in &mut merged[lo..hi] {
                // Ties go to the left run: stable.
                if i < mid && (j >= hi || !after(order[i], order[j])) {
                    *slot = order[i];
                    i += 1;
                } else {
                    *slot = order[j];
                    j += 1;
                }
            }
        }
        std::mem::swap(&mut order, &mut merged);
        width *= 2;
    }
    order
}

/// Rearranges `items` so that position `k` holds what was at `order[k]`, by following the
/// permutation's cycles (swaps only; `order` is used up as the visited marks).
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    const DONE: usize = usize::MAX;
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != DONE {
            let from = order[at];
            order[at] = DONE;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// A map kept as a vector sorted by key: what `BTreeMap` offers here (lookups by key, iteration
/// in key order) for the few entries this code holds, without the B-tree's wasm code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// From entries already in strictly increasing key order (another map's, say): no sort.
    pub fn from_sorted(entries: Vec<(K, V)>) -> Self {
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        SortedMap { entries }
    }

    /// From entries in any order, in one sort (where inserting one by one would shift the
    /// vector each time); for a repeated key the last entry wins, as with repeated inserts.
    pub fn from_entries(mut entries: Vec<(K, V)>) -> Self {
        sort_by(&mut entries, |a, b| a.0.cmp(&b.0));
        let mut unique: Vec<(K, V)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match unique.last_mut() {
                // Stable sort: a later entry of the same key comes later.
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => unique.push(entry),
            }
        }
        SortedMap { entries: unique }
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`; returns the value it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    /// The value of `key`, inserted from `make` first if there is none.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key, make()));
                i
            }
        };
        &mut self.entries[i].1
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    /// Entries in key order.
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = &'a (K, V);
    type IntoIter = std::slice::Iter<'a, (K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// Adds `value` to the sorted, duplicate-free `set`; false when it was there already.
pub fn insert_sorted<T: Ord>(set: &mut Vec<T>, value: T) -> bool {
    match set.binary_search(&value) {
        Ok(_) => false,
        Err(i) => {
            set.insert(i, value);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator, so the cases are many without a dependency.
    fn numbers(seed: u64, n: usize, modulo: u64) -> Vec<u64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % modulo
            })
            .collect()
    }

    #[test]
    fn sort_keys_sorts_like_the_standard_sort() {
        for (seed, n) in [(1, 0), (2, 1), (3, 2), (4, 17), (5, 1000), (6, 5000)] {
            let mut ours = numbers(seed, n, 50);
            let mut std = ours.clone();
            sort_keys(&mut ours);
            std.sort();
            assert_eq!(ours, std);
        }
    }

    #[test]
    fn sort_usizes_sorts() {
        let mut values: Vec<usize> = numbers(13, 300, 1 << 40)
            .iter()
            .map(|&x| x as usize)
            .collect();
        let mut std = values.clone();
        sort_usizes(&mut values);
        std.sort_unstable();
        assert_eq!(values, std);
    }

    #[test]
    fn sort_by_is_stable_and_matches_the_standard_stable_sort() {
        for (seed, n) in [(7, 0), (8, 1), (9, 2), (10, 31), (11, 700), (12, 3000)] {
            // Pairs of (key, original position): equal keys must keep their positions' order.
            let pairs: Vec<(u64, usize)> = numbers(seed, n, 13)
                .into_iter()
                .enumerate()
                .map(|(i, k)| (k, i))
                .collect();
            let mut ours = pairs.clone();
            let mut std = pairs;
            sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
            std.sort_by_key(|pair| pair.0); // the standard library's stable sort
            assert_eq!(ours, std);
        }
    }

    #[test]
    fn sort_by_moves_owned_values_and_sorts_descending_when_asked() {
        let mut words: Vec<String> = ["pear", "fig", "apple", "kiwi", "date"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        sort_by(&mut words, |a, b| b.cmp(a));
        assert_eq!(words, ["pear", "kiwi", "fig", "date", "apple"]);
        sort_by_key(&mut words, |w| w.len());
        assert_eq!(words, ["fig", "pear", "kiwi", "date", "apple"]);
    }

    #[test]
    fn sorted_map_keeps_keys_in_order_and_behaves_like_a_map() {
        let mut map: SortedMap<String, u32> = SortedMap::new();
        assert!(map.is_empty());
        assert_eq!(map.insert("m".into(), 1), None);
        assert_eq!(map.insert("c".into(), 2), None);
        assert_eq!(map.insert("x".into(), 3), None);
        assert_eq!(map.insert("c".into(), 4), Some(2));
        assert_eq!(map.len(), 3);
        assert_eq!(map.get("c"), Some(&4));
        assert_eq!(map.get("zz"), None);
        assert!(map.contains_key("x"));
        *map.get_mut("m").unwrap() += 10;
        *map.get_or_insert_with("a".into(), || 0) += 5;
        *map.get_or_insert_with("a".into(), || 100) += 1;
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        assert_eq!(keys, ["a", "c", "m", "x"]);
        let values: Vec<u32> = map.values().copied().collect();
        assert_eq!(values, [6, 4, 11, 3]);
        assert_eq!(map.remove("c"), Some(4));
        assert_eq!(map.remove("c"), None);
        let pairs: Vec<(String, u32)> = map.clone().into_iter().collect();
        assert_eq!(pairs, [("a".into(), 6), ("m".into(), 11), ("x".into(), 3)]);
        assert_eq!(map, map.clone());
    }

    #[test]
    fn sorted_map_from_entries_is_the_same_as_inserting_them_one_by_one() {
        for (seed, n, modulo) in [
            (1, 0, 1),
            (2, 1, 5),
            (3, 50, 7),
            (4, 300, 1000),
            (5, 300, 3),
        ] {
            let keys = numbers(seed, n, modulo);
            let entries: Vec<(u64, usize)> = keys.iter().copied().zip(0..).collect();
            let mut one_by_one = SortedMap::new();
            for (k, v) in entries.clone() {
                one_by_one.insert(k, v);
            }
            assert_eq!(SortedMap::from_entries(entries), one_by_one, "seed {seed}");
        }
    }

    #[test]
    fn insert_sorted_keeps_a_sorted_set() {
        let mut set = Vec::new();
        for x in [5, 1, 5, 3, 1, 9] {
            insert_sorted(&mut set, x);
        }
        assert_eq!(set, [1, 3, 5, 9]);
        assert!(!insert_sorted(&mut set, 3));
        assert!(insert_sorted(&mut set, 4));
    }
}
