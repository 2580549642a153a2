//! The arithmetic of root causes (`why`): how the gap between a KPI's value
//! in a period and its reference splits over segments (sets of dimension
//! values), so that the parts add up to the gap exactly.
//!
//! - Additive measures (sums, counts): a segment's contribution is its own
//!   change ([`Additive`]); disjoint segments that cover the whole add up to
//!   the gap.
//! - Ratios (`Σ numerator / Σ denominator`: averages, shares, rates): the
//!   ratio is `Σ wᵢ·rᵢ`, each segment's share `wᵢ` of the denominator times
//!   its own ratio `rᵢ`. A segment's part of the gap is split into a *mix*
//!   effect (its share moved, valued at how far its mean ratio is from the
//!   whole's) and a *rate* effect (its ratio moved, weighted by its mean
//!   share) — the symmetric (midpoint) split, which adds up exactly
//!   ([`mix_rate`]).
//! - A target as the reference: spread over segments by each one's share of
//!   the reference period ([`spread`]).
//!
//! Which segments to show — the search — is built on these ([`search`]).

pub mod search;

/// A segment of an additive measure, in the period and in the reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Additive {
    pub value: f64,
    pub reference: f64,
}

impl Additive {
    /// What the segment adds to the gap (`value − reference`).
    pub fn contribution(&self) -> f64 {
        self.value - self.reference
    }
}

/// A part's share of the whole gap; `None` when there is no gap.
pub fn share(part: f64, gap: f64) -> Option<f64> {
    (gap != 0.0 && gap.is_finite()).then(|| part / gap)
}

/// A segment of a ratio: its numerator and denominator in the period and
/// in the reference.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RatioParts {
    pub numerator: f64,
    pub denominator: f64,
    pub reference_numerator: f64,
    pub reference_denominator: f64,
}

/// A segment's part of a ratio's gap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixRate {
    /// Its share of the denominator moved.
    pub mix: f64,
    /// Its own ratio moved.
    pub rate: f64,
}

impl MixRate {
    pub fn total(&self) -> f64 {
        self.mix + self.rate
    }
}

/// A ratio's gap (`value − reference`) and each segment's mix and rate
/// effects, which add up to it. `None` when either period's total
/// denominator is zero (the ratio has no value).
///
/// With `wᵢ = dᵢ/Σd`, `rᵢ = nᵢ/dᵢ` and `R̄` the mean of the whole ratio in
/// the two (′: the period): mix `(wᵢ′ − wᵢ)((rᵢ′ + rᵢ)/2 − R̄)` — a share
/// moving to a segment whose ratio is the whole's changes nothing — and
/// rate `(rᵢ′ − rᵢ)(wᵢ′ + wᵢ)/2`. Their sum is `wᵢ′rᵢ′ − wᵢrᵢ − (wᵢ′ − wᵢ)R̄`,
/// and over the segments the shares' changes sum to zero, so the parts add
/// up to the gap. A segment without denominator in one of the two has no
/// ratio there: its mix is valued at the ratio it has, and a numerator
/// without any denominator counts as rate.
pub fn mix_rate(segments: &[RatioParts]) -> Option<(f64, Vec<MixRate>)> {
    let den: f64 = segments.iter().map(|s| s.denominator).sum();
    let ref_den: f64 = segments.iter().map(|s| s.reference_denominator).sum();
    if den == 0.0 || ref_den == 0.0 || !den.is_finite() || !ref_den.is_finite() {
        return None;
    }
    let whole = segments.iter().map(|s| s.numerator).sum::<f64>() / den;
    let whole_before = segments.iter().map(|s| s.reference_numerator).sum::<f64>() / ref_den;
    let mean = (whole + whole_before) / 2.0;
    let mut gap = 0.0;
    let parts = segments
        .iter()
        .map(|s| {
            // Each segment's term of the ratio, in the period and before.
            let now = s.numerator / den;
            let before = s.reference_numerator / ref_den;
            gap += now - before;
            let (w1, w0) = (s.denominator / den, s.reference_denominator / ref_den);
            let ratio = |n: f64, d: f64| (d != 0.0).then(|| n / d);
            let (mix, rate) = match (
                ratio(s.numerator, s.denominator),
                ratio(s.reference_numerator, s.reference_denominator),
            ) {
                (Some(r1), Some(r0)) => ((w1 - w0) * ((r1 + r0) / 2.0 - mean), (r1 - r0) * (w1 + w0) / 2.0),
                (Some(r), None) | (None, Some(r)) => {
                    let mix = (w1 - w0) * (r - mean);
                    (mix, (now - before) - (w1 - w0) * mean - mix)
                }
                (None, None) => (0.0, (now - before) - (w1 - w0) * mean),
            };
            MixRate { mix, rate }
        })
        .collect();
    Some((gap, parts))
}

/// A target for the whole spread over segments by each one's share of the
/// reference; equally when the reference is zero throughout.
pub fn spread(target: f64, reference: &[f64]) -> Vec<f64> {
    let total: f64 = reference.iter().sum();
    if total == 0.0 || !total.is_finite() {
        #[allow(clippy::cast_precision_loss)]
        let n = reference.len().max(1) as f64;
        return reference.iter().map(|_| target / n).collect();
    }
    reference.iter().map(|r| target * r / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    fn parts(n: f64, d: f64, rn: f64, rd: f64) -> RatioParts {
        RatioParts {
            numerator: n,
            denominator: d,
            reference_numerator: rn,
            reference_denominator: rd,
        }
    }

    #[test]
    fn a_mix_shift_with_unchanged_rates_is_all_mix() {
        // Success rates 90% (web) and 50% (phone) both months; phone's
        // share of the calls rises from 20% to 50%.
        let (gap, p) = mix_rate(&[parts(45.0, 50.0, 72.0, 80.0), parts(25.0, 50.0, 10.0, 20.0)]).unwrap();
        // 70% now, 82% before.
        assert!(close(gap, 0.70 - 0.82), "{gap}");
        assert!(p.iter().all(|x| x.rate.abs() < 1e-12), "{p:?}");
        // Web: share 0.8 → 0.5 at 90%; phone: 0.2 → 0.5 at 50%; the
        // whole's mean ratio is 76%.
        assert!(
            close(p[0].mix, -0.3 * (0.9 - 0.76)) && close(p[1].mix, 0.3 * (0.5 - 0.76)),
            "{p:?}"
        );
    }

    #[test]
    fn changed_rates_with_an_unchanged_mix_are_all_rate() {
        let (gap, p) = mix_rate(&[parts(40.0, 50.0, 45.0, 50.0), parts(20.0, 50.0, 25.0, 50.0)]).unwrap();
        assert!(close(gap, 0.60 - 0.70));
        assert!(p.iter().all(|x| x.mix.abs() < 1e-12), "{p:?}");
        // Each rate fell 10 points at a share of one half.
        assert!(close(p[0].rate, -0.05) && close(p[1].rate, -0.05), "{p:?}");
    }

    #[test]
    fn a_new_segment_and_an_empty_total_are_handled() {
        // A segment new this month: its whole term is mix, against the
        // mean ratio (0.4 now, 0.6 before).
        let (gap, p) = mix_rate(&[parts(50.0, 100.0, 60.0, 100.0), parts(30.0, 100.0, 0.0, 0.0)]).unwrap();
        assert!(close(gap, 0.4 - 0.6));
        assert!(
            close(p[1].mix, 0.5 * (0.3 - 0.5)) && p[1].rate.abs() < 1e-12,
            "{p:?}"
        );
        assert!(close(p.iter().map(MixRate::total).sum::<f64>(), gap));
        assert_eq!(mix_rate(&[parts(1.0, 0.0, 1.0, 2.0)]), None);
    }

    #[test]
    fn a_target_spreads_by_the_reference() {
        assert_eq!(spread(100.0, &[30.0, 10.0, 0.0]), vec![75.0, 25.0, 0.0]);
        assert_eq!(spread(90.0, &[0.0, 0.0, 0.0]), vec![30.0, 30.0, 30.0]);
        let a = Additive {
            value: 80.0,
            reference: 75.0,
        };
        assert_eq!(
            (a.contribution(), share(a.contribution(), 20.0)),
            (5.0, Some(0.25))
        );
        assert_eq!(share(1.0, 0.0), None);
    }

    fn segment() -> impl Strategy<Value = RatioParts> {
        let n = prop_oneof![Just(0.0), 0.0f64..1e6];
        let d = prop_oneof![Just(0.0), 1.0f64..1e6];
        (n.clone(), d.clone(), n, d).prop_map(|(a, b, c, e)| parts(a, b, c, e))
    }

    proptest! {
        /// Mix and rate effects add up to the gap, whatever the segments.
        #[test]
        fn mix_and_rate_add_up_to_the_gap(segments in prop::collection::vec(segment(), 1..12)) {
            let den: f64 = segments.iter().map(|s| s.denominator).sum();
            let ref_den: f64 = segments.iter().map(|s| s.reference_denominator).sum();
            match mix_rate(&segments) {
                None => prop_assert!(den == 0.0 || ref_den == 0.0),
                Some((gap, p)) => {
                    let whole = segments.iter().map(|s| s.numerator).sum::<f64>() / den
                        - segments.iter().map(|s| s.reference_numerator).sum::<f64>() / ref_den;
                    // Rounding is relative to the terms summed, not to
                    // the gap they leave.
                    let scale = segments
                        .iter()
                        .map(|s| (s.numerator / den).abs() + (s.reference_numerator / ref_den).abs())
                        .sum::<f64>()
                        .max(1.0);
                    let total: f64 = p.iter().map(MixRate::total).sum();
                    prop_assert!((gap - whole).abs() <= 1e-12 * scale, "{} vs {}", gap, whole);
                    prop_assert!((total - gap).abs() <= 1e-12 * scale, "{} vs {}", total, gap);
                    // Where a segment has a ratio in both, its rate effect
                    // is the stated one.
                    for (s, x) in segments.iter().zip(&p) {
                        if s.denominator != 0.0 && s.reference_denominator != 0.0 {
                            let (r1, r0) = (s.numerator / s.denominator, s.reference_numerator / s.reference_denominator);
                            let (w1, w0) = (s.denominator / den, s.reference_denominator / ref_den);
                            let rate = (r1 - r0) * (w1 + w0) / 2.0;
                            prop_assert!((x.rate - rate).abs() <= 1e-12 * scale, "{} vs {}", x.rate, rate);
                        }
                    }
                }
            }
        }
    }
}
