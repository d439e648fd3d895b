//! The textbook oracle the bit-parallel matcher is checked against (used by the matcher's unit
//! tests and by the property tests).

/// Smallest edit distance of the pattern ending at each text position (dynamic programming).
pub fn naive_ends(p: &[u32], t: &[u32]) -> Vec<usize> {
    let mut col: Vec<usize> = (0..=p.len()).collect();
    let mut out = Vec::new();
    for &c in t {
        let mut diag = col[0];
        col[0] = 0;
        for i in 1..=p.len() {
            let up = col[i];
            col[i] = (diag + (p[i - 1] != c) as usize)
                .min(col[i - 1] + 1)
                .min(up + 1);
            diag = up;
        }
        out.push(col[p.len()]);
    }
    out
}

/// What `Myers::find_ends` must report for distance `k`: each run of end positions within `k`
/// as (end of its first best match, that distance), from the oracle's column.
pub fn runs_within(naive: &[usize], k: usize) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut run: Option<(usize, usize)> = None;
    for (j, &d) in naive.iter().enumerate() {
        if d <= k {
            match run {
                Some((_, best)) if best <= d => {}
                _ => run = Some((j + 1, d)),
            }
        } else if let Some(r) = run.take() {
            runs.push(r);
        }
    }
    runs.extend(run);
    runs
}
