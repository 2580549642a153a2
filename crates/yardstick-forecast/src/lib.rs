//! Forecasts, in-period projections and early warnings for KPI series.
//!
//! Pure numbers: a series of period values in, forecasts with 80% and 95%
//! intervals out ([`forecast`], [`forecast_many`] in parallel), the
//! probability that a normally distributed end value meets a target
//! ([`probability_within`]), and anomalies and changepoints of a daily
//! series ([`warnings`]). Calendars, KPIs and data are the engine's
//! business; this crate never sees them.
//!
//! Model choice: the candidates that the series is long enough for —
//! augurs' AutoETS (non-seasonal), AutoETS on a seasonally adjusted series
//! and MSTL with an AutoETS trend — are fitted without the last
//! `min(horizon, n/4)` values and scored by mean absolute error on them;
//! the best is refitted on the whole series, its intervals widened when it
//! erred more on the holdout than they implied. Series too short for ETS
//! (fewer than 10 periods) choose the same way among naive, drift and
//! seasonal naive, and say so in `note`; below 6 periods, naive. (On M3
//! the plain models lost to the ETS family as candidates for long series:
//! they are fallbacks, and [`benchmark`] offers them for comparisons.)

pub mod warnings;

mod models;

use models::{Candidate, fit_predict};
use serde::Serialize;

/// One forecast step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub value: f64,
    pub low80: Option<f64>,
    pub high80: Option<f64>,
    pub low95: Option<f64>,
    pub high95: Option<f64>,
}

/// A forecast of one series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// The model chosen, e.g. `ETS(A,Ad,N)` or `seasonal_naive`.
    pub model: String,
    pub points: Vec<Point>,
    /// Why a simple model was used, when the series was too short.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why a series cannot be forecast.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    #[error("no period has a value yet: nothing to forecast from")]
    Empty,
}

/// z-score of the central 80% interval of a normal distribution.
pub const Z80: f64 = 1.281_551_565_544_600_5;
/// z-score of the central 95% interval of a normal distribution.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The fewest values for which models are compared on a holdout (below
/// it: naive).
const MIN_FOR_SELECTION: usize = 6;

/// Forecasts `horizon` steps after `y`, a series of period values with a
/// seasonal period of `season` steps (1 for none). NaN values are gaps:
/// leading gaps are dropped, inner ones interpolated linearly, trailing
/// ones carry the last value.
pub fn forecast(y: &[f64], season: usize, horizon: usize) -> Result<Forecast, ForecastError> {
    let y = fill_gaps(y);
    let n = y.len();
    if n == 0 {
        return Err(ForecastError::Empty);
    }
    let m = season.max(1);
    let modelled = n >= Candidate::Ets.min_len(m);
    let candidates: Vec<Candidate> = match (modelled, m > 1) {
        (true, false) => vec![Candidate::Ets],
        (true, true) => vec![Candidate::Ets, Candidate::SeasonalEts, Candidate::Mstl],
        (false, _) => vec![Candidate::Naive, Candidate::Drift, Candidate::SeasonalNaive],
    };
    let (chosen, widen) = if n < MIN_FOR_SELECTION {
        (Candidate::Naive, 1.0)
    } else {
        select(&y, m, horizon, &candidates)
    };
    let note = (!modelled).then(|| {
        format!(
            "{n} period{} of history is too short for ETS (it needs {}): {} forecast",
            if n == 1 { "" } else { "s" },
            Candidate::Ets.min_len(m),
            chosen.name()
        )
    });
    let mut fc = fit_predict(chosen, &y, m, horizon)
        .or_else(|| fit_predict(Candidate::Naive, &y, m, horizon))
        .ok_or(ForecastError::Empty)?;
    if widen > 1.0 {
        for i in 0..horizon {
            let p = fc.point[i];
            for b in [
                &mut fc.low80[i],
                &mut fc.high80[i],
                &mut fc.low95[i],
                &mut fc.high95[i],
            ] {
                *b = p + (*b - p) * widen;
            }
        }
    }
    Ok(to_forecast(fc, horizon, note))
}

fn to_forecast(fc: models::Fc, horizon: usize, note: Option<String>) -> Forecast {
    let opt = |v: f64| v.is_finite().then_some(v);
    let points = (0..horizon.min(fc.point.len()))
        .map(|i| Point {
            value: fc.point[i],
            low80: opt(fc.low80[i]),
            high80: opt(fc.high80[i]),
            low95: opt(fc.low95[i]),
            high95: opt(fc.high95[i]),
        })
        .collect();
    Forecast {
        model: fc.name,
        points,
        note,
    }
}

/// The candidate with the lowest mean absolute error on the holdout (the
/// earlier one in `candidates` on a tie), and how much its intervals must
/// widen to match the errors it made there: the root mean square of the
/// holdout errors over the root mean square of the standard deviations its
/// intervals implied, between 1 and 3.
fn select(y: &[f64], m: usize, horizon: usize, candidates: &[Candidate]) -> (Candidate, f64) {
    let n = y.len();
    let hold = horizon.clamp(1, (n / 4).max(1));
    let (train, test) = y.split_at(n - hold);
    // When nothing fits the shortened series, the first candidate that
    // fits the whole one.
    let fallback = candidates
        .iter()
        .copied()
        .find(|c| n >= c.min_len(m))
        .unwrap_or(Candidate::Naive);
    let mut best = (fallback, f64::INFINITY, 1.0);
    for &c in candidates {
        let Some(fc) = fit_predict(c, train, m, hold) else {
            continue;
        };
        let mae = fc.point.iter().zip(test).map(|(p, a)| (p - a).abs()).sum::<f64>() / hold as f64;
        if mae < best.1 {
            let mse = fc
                .point
                .iter()
                .zip(test)
                .map(|(p, a)| (p - a).powi(2))
                .sum::<f64>()
                / hold as f64;
            let var = fc
                .low95
                .iter()
                .zip(&fc.high95)
                .map(|(l, h)| sd_from_95(*l, *h).powi(2))
                .sum::<f64>()
                / hold as f64;
            let widen = if var > 0.0 && var.is_finite() {
                (mse / var).sqrt().clamp(1.0, 3.0)
            } else {
                1.0
            };
            best = (c, mae, widen);
        }
    }
    (best.0, best.2)
}

/// A plain benchmark forecast (naive, seasonal naive or drift), for
/// comparisons; `None` when the series is too short for it.
pub fn benchmark(kind: Benchmark, y: &[f64], season: usize, horizon: usize) -> Option<Forecast> {
    let c = match kind {
        Benchmark::Naive => Candidate::Naive,
        Benchmark::SeasonalNaive => Candidate::SeasonalNaive,
        Benchmark::Drift => Candidate::Drift,
    };
    let fc = fit_predict(c, &fill_gaps(y), season.max(1), horizon)?;
    Some(to_forecast(fc, horizon, None))
}

/// The plain models of [`benchmark`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Benchmark {
    Naive,
    SeasonalNaive,
    Drift,
}

/// Leading gaps dropped, inner gaps interpolated, trailing gaps carried.
fn fill_gaps(y: &[f64]) -> Vec<f64> {
    let Some(first) = y.iter().position(|v| v.is_finite()) else {
        return Vec::new();
    };
    let y = &y[first..];
    let mut out = Vec::with_capacity(y.len());
    let mut last_known = 0usize;
    for (i, v) in y.iter().enumerate() {
        if v.is_finite() {
            if i > last_known + 1 {
                let (a, b) = (y[last_known], *v);
                let span = (i - last_known) as f64;
                for (k, slot) in out[last_known + 1..i].iter_mut().enumerate() {
                    *slot = a + (b - a) * (k + 1) as f64 / span;
                }
            }
            out.push(*v);
            last_known = i;
        } else {
            out.push(y[last_known]);
        }
    }
    out
}

/// Forecasts many series on every core, calling `progress` after each.
/// Results are in the order of `series`.
pub fn forecast_many(
    series: &[Vec<f64>],
    season: usize,
    horizon: usize,
    progress: &(dyn Fn() + Sync),
) -> Vec<Result<Forecast, ForecastError>> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(series.len().max(1));
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<Result<Forecast, ForecastError>>>> = Mutex::new(vec![None; series.len()]);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(y) = series.get(i) else { break };
                    let r = forecast(y, season, horizon);
                    if let Ok(mut out) = out.lock() {
                        out[i] = Some(r);
                    }
                    progress();
                }
            });
        }
    });
    out.into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.unwrap_or(Err(ForecastError::Empty)))
        .collect()
}

/// The standard normal distribution function, from Numerical Recipes'
/// Chebyshev approximation of `erfc` (fractional error below 1.2e-7).
pub fn normal_cdf(x: f64) -> f64 {
    let z = x / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * z.abs());
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    if z >= 0.0 { 1.0 - 0.5 * erfc } else { 0.5 * erfc }
}

/// The probability that a normal value with `mean` and `sd` lies within
/// `[low, high]` (either side open when `None`). With `sd` zero the value
/// is certain.
pub fn probability_within(mean: f64, sd: f64, low: Option<f64>, high: Option<f64>) -> f64 {
    let cdf = |x: f64| {
        if sd > 0.0 {
            normal_cdf((x - mean) / sd)
        } else if mean < x {
            1.0
        } else if mean > x {
            0.0
        } else {
            0.5
        }
    };
    let upper = high.map_or(1.0, cdf);
    let lower = low.map_or(0.0, cdf);
    (upper - lower).clamp(0.0, 1.0)
}

/// The standard deviation implied by a normal 95% interval.
pub fn sd_from_95(low: f64, high: f64) -> f64 {
    ((high - low) / (2.0 * Z95)).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_filled() {
        let nan = f64::NAN;
        assert_eq!(
            fill_gaps(&[nan, 1.0, nan, nan, 4.0, nan]),
            vec![1.0, 2.0, 3.0, 4.0, 4.0]
        );
        assert!(fill_gaps(&[nan, nan]).is_empty());
    }

    #[test]
    fn normal_cdf_matches_tables() {
        // Standard normal table values.
        for (x, p) in [
            (0.0, 0.5),
            (1.0, 0.841_344_7),
            (-1.959_964, 0.025),
            (2.326_348, 0.99),
        ] {
            assert!((normal_cdf(x) - p).abs() < 2e-7, "Φ({x}) = {}", normal_cdf(x));
        }
    }

    #[test]
    fn probability_within_bounds() {
        assert!((probability_within(10.0, 2.0, Some(10.0), None) - 0.5).abs() < 1e-7);
        assert!((probability_within(10.0, 1.0, Some(8.04), Some(11.96)) - 0.95).abs() < 1e-3);
        assert_eq!(probability_within(10.0, 0.0, Some(9.0), None), 1.0);
        assert_eq!(probability_within(10.0, 0.0, None, Some(9.0)), 0.0);
    }
}
