//! Early warnings on a daily series: anomalies (a value far from what the
//! same weekday's recent values predict, in robust units) and changepoints
//! (a lasting change of level, by augurs' Bayesian online changepoint
//! detector).
//!
//! Anomalies use only what came before each day, as an on-call person
//! would have seen it: the expected value is the median of the last four
//! values of the same season position (weekday), or of the last seven
//! days for a series without season; the scale is 1.4826 × the median
//! absolute deviation of the earlier residuals (at most the last 8 seasons),
//! or 1.2533 × their mean absolute deviation when that is larger (sparse
//! counts and rates that are usually 100% have a MAD of zero), and at least
//! Poisson's √expected for counts and 0.5% of the expected value otherwise.

use augurs::changepoint::{Detector, NormalGammaDetector, dist::NormalGamma};
use serde::Serialize;

/// A day far from its expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    pub index: usize,
    pub value: f64,
    pub expected: f64,
    /// Robust z-score: (value − expected) / scale.
    pub score: f64,
}

/// A lasting change of level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changepoint {
    /// First index of the new level.
    pub index: usize,
    /// Mean of up to `span` values before and after.
    pub before: f64,
    pub after: f64,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if !n.is_multiple_of(2) {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Values whose robust z-score is beyond `threshold` (NaN values are
/// skipped, and are not used as history).
pub fn anomalies(y: &[f64], season: usize, threshold: f64) -> Vec<Anomaly> {
    let m = season.max(1);
    let (lag_step, lags) = if m > 1 { (m, 4) } else { (1, 7) };
    let mut expected = vec![f64::NAN; y.len()];
    for (t, slot) in expected.iter_mut().enumerate() {
        let mut prev: Vec<f64> = (1..=lags)
            .filter_map(|k| t.checked_sub(k * lag_step))
            .map(|s| y[s])
            .filter(|v| v.is_finite())
            .collect();
        if prev.len() >= 3 {
            *slot = median(&mut prev);
        }
    }
    let residuals: Vec<f64> = y.iter().zip(&expected).map(|(v, e)| v - e).collect();
    // Counts move by whole units: their noise is at least Poisson's.
    let counts = y.iter().filter(|v| v.is_finite()).all(|v| v.fract() == 0.0);
    let window = 8 * m.max(7);
    let mut out = Vec::new();
    for t in 0..y.len() {
        let r = residuals[t];
        if !r.is_finite() {
            continue;
        }
        let mut past: Vec<f64> = residuals[t.saturating_sub(window)..t]
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        if past.len() < 7 {
            continue;
        }
        let centre = median(&mut past);
        let mut dev: Vec<f64> = past.iter().map(|v| (v - centre).abs()).collect();
        // MAD is zero when most residuals are equal (sparse counts, rates
        // that are usually 100%): the mean absolute deviation stands in.
        let mean_dev = dev.iter().sum::<f64>() / dev.len() as f64;
        let scale = (1.4826 * median(&mut dev)).max(1.2533 * mean_dev).max(if counts {
            expected[t].abs().max(1.0).sqrt()
        } else {
            0.005 * expected[t].abs().max(1e-9)
        });
        let score = (r - centre) / scale;
        if score.abs() > threshold {
            out.push(Anomaly {
                index: t,
                value: y[t],
                expected: expected[t] + centre,
                score,
            });
        }
    }
    out
}

/// Lasting level changes found by Bayesian online changepoint detection
/// on the standardised series; each reported with the mean level of up to
/// `span` values on either side, and only when that moved by more than
/// `min_shift` robust standard deviations.
pub fn changepoints(y: &[f64], span: usize, min_shift: f64) -> Vec<Changepoint> {
    let values: Vec<(usize, f64)> = y
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .collect();
    if values.len() < 8 {
        return Vec::new();
    }
    // The noise scale from first differences is not inflated by the level
    // shifts being looked for: 1.4826 × MAD of the differences / √2.
    let mut diffs: Vec<f64> = values.windows(2).map(|w| w[1].1 - w[0].1).collect();
    let dcentre = median(&mut diffs);
    let mut dev: Vec<f64> = diffs.iter().map(|d| (d - dcentre).abs()).collect();
    let mut sorted: Vec<f64> = values.iter().map(|(_, v)| *v).collect();
    let centre = median(&mut sorted);
    let scale = (1.4826 * median(&mut dev) / std::f64::consts::SQRT_2).max(1e-9 * centre.abs().max(1.0));
    let z: Vec<f64> = values.iter().map(|(_, v)| (v - centre) / scale).collect();
    let Ok(prior) = NormalGamma::new(0.0, 1.0, 1.0, 1.0) else {
        return Vec::new();
    };
    let mut detector = NormalGammaDetector::normal_gamma(250.0, prior);
    let found = detector.detect_changepoints(&z);
    let mut out = Vec::new();
    let mean = |s: &[(usize, f64)]| s.iter().map(|(_, v)| v).sum::<f64>() / s.len() as f64;
    let split = |i: usize| {
        let lo = i.saturating_sub(span);
        let hi = (i + span).min(values.len());
        (mean(&values[lo..i]), mean(&values[i..hi]))
    };
    for found in found {
        // The detector's index can be a step early or late: take the split
        // nearby that separates the two levels best.
        let Some(i) = (found.saturating_sub(2)..=found + 2)
            .filter(|i| *i > 0 && *i < values.len())
            .max_by(|a, b| {
                let gap = |i: usize| {
                    let (x, y) = split(i);
                    (y - x).abs()
                };
                gap(*a).total_cmp(&gap(*b))
            })
        else {
            continue;
        };
        let (before, after) = split(i);
        // Both sides long enough, the shift large against the noise and
        // clear of both segments' spread (Welch's t above 4), and not a
        // repeat of the last reported change.
        let lo = i.saturating_sub(span);
        let hi = (i + span).min(values.len());
        let var = |s: &[(usize, f64)], m: f64| {
            s.iter().map(|(_, v)| (v - m).powi(2)).sum::<f64>() / (s.len().max(2) - 1) as f64
        };
        let (nb, na) = ((i - lo) as f64, (hi - i) as f64);
        let se = (var(&values[lo..i], before) / nb + var(&values[i..hi], after) / na).sqrt();
        let t = if se > 0.0 {
            (after - before).abs() / se
        } else {
            f64::INFINITY
        };
        let index = values[i].0;
        let clear_of_last = out.last().is_none_or(|c: &Changepoint| index >= c.index + span);
        if i - lo >= span.min(7)
            && hi - i >= span.min(7)
            && ((after - before) / scale).abs() > min_shift
            && t > 4.0
            && clear_of_last
        {
            out.push(Changepoint { index, before, after });
        }
    }
    out
}
