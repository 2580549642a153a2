//! Interval arithmetic for availability: unions of downtime, exclusions,
//! cut at period edges. Times are integers (µs since the epoch).

/// A half-open span `[start, end)`.
pub type Span = (i64, i64);

/// Sorted, disjoint union of `spans` clipped to `[lo, hi)`.
pub fn union_within(spans: impl IntoIterator<Item = Span>, lo: i64, hi: i64) -> Vec<Span> {
    let mut v: Vec<Span> = spans
        .into_iter()
        .map(|(s, e)| (s.max(lo), e.min(hi)))
        .filter(|(s, e)| s < e)
        .collect();
    v.sort_unstable();
    let mut out: Vec<Span> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Total length of a sorted disjoint union.
pub fn length(spans: &[Span]) -> i64 {
    spans.iter().map(|(s, e)| e - s).sum()
}

/// Length of `a ∩ b` for two sorted disjoint unions.
pub fn overlap(a: &[Span], b: &[Span]) -> i64 {
    let (mut i, mut j, mut total) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        let s = a[i].0.max(b[j].0);
        let e = a[i].1.min(b[j].1);
        if s < e {
            total += e - s;
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    total
}

/// Downtime and scheduled time of one unit over `[lo, hi)`: the union of
/// `down` minus `excluded`, and the period minus `excluded`.
pub fn down_and_scheduled(down: &[Span], excluded: &[Span], lo: i64, hi: i64) -> (i64, i64) {
    let d = union_within(down.iter().copied(), lo, hi);
    let x = union_within(excluded.iter().copied(), lo, hi);
    let downtime = length(&d) - overlap(&d, &x);
    let scheduled = (hi - lo).max(0) - length(&x);
    (downtime, scheduled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_downtime_counts_once_and_exclusions_are_removed() {
        // Incidents 2–4 and 3–5 (union 2–5), maintenance 4–6, period 0–10.
        let (down, sched) = down_and_scheduled(&[(2, 4), (3, 5)], &[(4, 6)], 0, 10);
        assert_eq!((down, sched), (2, 8));
    }

    #[test]
    fn intervals_are_cut_at_period_edges() {
        // An incident from 8 to 14 across a period edge at 10.
        assert_eq!(down_and_scheduled(&[(8, 14)], &[], 0, 10), (2, 10));
        assert_eq!(down_and_scheduled(&[(8, 14)], &[], 10, 20), (4, 10));
        // Fully excluded period: nothing scheduled.
        assert_eq!(down_and_scheduled(&[(1, 2)], &[(0, 10)], 0, 10), (0, 0));
    }

    #[test]
    fn unions_merge_touching_spans() {
        assert_eq!(
            union_within([(5, 7), (1, 3), (3, 4), (6, 9)], 0, 8),
            vec![(1, 4), (5, 8)]
        );
    }
}
