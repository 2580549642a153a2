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

/// Each down span's own share of one unit's downtime over `[lo, hi)`,
/// in the order given: where spans overlap, the time belongs to the span
/// that started first (the earlier in `down` on a tie), so the shares add
/// up to `down_and_scheduled`'s downtime exactly.
pub fn attributed(down: &[Span], excluded: &[Span], lo: i64, hi: i64) -> Vec<i64> {
    let x = union_within(excluded.iter().copied(), lo, hi);
    let mut order: Vec<usize> = (0..down.len()).collect();
    order.sort_by_key(|&i| (down[i].0, i));
    let mut out = vec![0; down.len()];
    // Every span that started before this one reaches at most `covered`;
    // they all start no later, so what they cover past this start is
    // exactly `[start, covered)`.
    let mut covered = i64::MIN;
    for i in order {
        let (s, e) = down[i];
        let own = union_within([(s.max(covered), e)], lo, hi);
        out[i] = length(&own) - overlap(&own, &x);
        covered = covered.max(e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn overlapping_downtime_goes_to_the_incident_that_started_first() {
        // 2–4 and 3–5 overlap on 3–4: the first keeps it. Maintenance 4–6
        // takes 4–5 off the second; 8–9 lies inside 7–10.
        assert_eq!(
            attributed(&[(3, 5), (2, 4), (7, 10), (8, 9)], &[(4, 6)], 0, 10),
            vec![0, 2, 3, 0]
        );
        // Cut at the period's edges.
        assert_eq!(attributed(&[(8, 14)], &[], 10, 20), vec![4]);
    }

    proptest! {
        #[test]
        fn attributed_shares_add_up_to_the_downtime(
            down in prop::collection::vec((0i64..100, 0i64..30), 0..12),
            excluded in prop::collection::vec((0i64..100, 0i64..30), 0..4),
            lo in 0i64..50,
            len in 0i64..80,
        ) {
            let down: Vec<Span> = down.into_iter().map(|(s, l)| (s, s + l)).collect();
            let excluded: Vec<Span> = excluded.into_iter().map(|(s, l)| (s, s + l)).collect();
            let (downtime, _) = down_and_scheduled(&down, &excluded, lo, lo + len);
            let shares = attributed(&down, &excluded, lo, lo + len);
            prop_assert!(shares.iter().all(|x| *x >= 0));
            prop_assert_eq!(shares.iter().sum::<i64>(), downtime);
        }
    }

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
