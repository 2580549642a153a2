//! The candidate models: plain benchmarks (naive, seasonal naive, drift)
//! with their textbook prediction intervals, and augurs' AutoETS — alone,
//! on a seasonally adjusted series (classical decomposition; augurs'
//! AutoETS has no seasonal models yet) and as the trend model of MSTL.

use augurs::ets::AutoETS;
use augurs::mstl::MSTLModel;
use augurs::{Fit, Predict};

pub(crate) use crate::{Z80, Z95};

/// A candidate model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Candidate {
    Naive,
    SeasonalNaive,
    Drift,
    Ets,
    SeasonalEts,
    Mstl,
}

impl Candidate {
    /// The name a forecast reports for the plain models.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Candidate::Naive => "naive",
            Candidate::SeasonalNaive => "seasonal_naive",
            Candidate::Drift => "drift",
            Candidate::Ets => "ETS",
            Candidate::SeasonalEts => "ETS on seasonally adjusted values",
            Candidate::Mstl => "MSTL + AutoETS",
        }
    }

    /// The fewest observations a candidate is fitted on.
    pub(crate) fn min_len(self, m: usize) -> usize {
        match self {
            Candidate::Naive => 1,
            Candidate::Drift => 3,
            Candidate::SeasonalNaive => m + 1,
            // AutoETS needs more points than parameters plus four.
            Candidate::Ets => 10,
            Candidate::SeasonalEts => (2 * m).max(10) + 2,
            Candidate::Mstl => (2 * m).max(10) + 2,
        }
    }

    /// Whether the candidate uses the seasonal period.
    pub(crate) fn seasonal(self) -> bool {
        matches!(
            self,
            Candidate::SeasonalNaive | Candidate::SeasonalEts | Candidate::Mstl
        )
    }
}

/// Point forecasts with 80% and 95% bounds (NaN where a model cannot say).
#[derive(Debug, Clone)]
pub(crate) struct Fc {
    pub(crate) name: String,
    pub(crate) point: Vec<f64>,
    pub(crate) low80: Vec<f64>,
    pub(crate) high80: Vec<f64>,
    pub(crate) low95: Vec<f64>,
    pub(crate) high95: Vec<f64>,
}

impl Fc {
    /// A forecast whose intervals are normal with the given standard
    /// deviations per step.
    fn normal(name: impl Into<String>, point: Vec<f64>, sd: &[f64]) -> Fc {
        let band =
            |z: f64, sign: f64| -> Vec<f64> { point.iter().zip(sd).map(|(p, s)| p + sign * z * s).collect() };
        Fc {
            name: name.into(),
            low80: band(Z80, -1.0),
            high80: band(Z80, 1.0),
            low95: band(Z95, -1.0),
            high95: band(Z95, 1.0),
            point,
        }
    }
}

/// Root mean square of residuals with `lost` degrees of freedom; NaN
/// when there are none left.
fn rms(residuals: impl Iterator<Item = f64>, lost: usize) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for r in residuals {
        sum += r * r;
        n += 1;
    }
    if n <= lost {
        f64::NAN
    } else {
        (sum / (n - lost) as f64).sqrt()
    }
}

/// Fits `c` to `y` and forecasts `h` steps; `None` when the model cannot
/// be fitted (too short, or the optimiser found nothing).
pub(crate) fn fit_predict(c: Candidate, y: &[f64], m: usize, h: usize) -> Option<Fc> {
    let n = y.len();
    if n < c.min_len(m) || (c.seasonal() && m < 2) {
        return None;
    }
    let last = *y.last()?;
    match c {
        Candidate::Naive => {
            let sigma = rms(y.windows(2).map(|w| w[1] - w[0]), 0);
            let sd: Vec<f64> = (1..=h).map(|i| sigma * (i as f64).sqrt()).collect();
            Some(Fc::normal("naive", vec![last; h], &sd))
        }
        Candidate::SeasonalNaive => {
            let sigma = rms(y.windows(m + 1).map(|w| w[m] - w[0]), 0);
            let point = (0..h).map(|i| y[n - m + i % m]).collect();
            let sd: Vec<f64> = (0..h).map(|i| sigma * ((i / m + 1) as f64).sqrt()).collect();
            Some(Fc::normal("seasonal_naive", point, &sd))
        }
        Candidate::Drift => {
            let slope = (last - y[0]) / (n - 1) as f64;
            let sigma = rms(y.windows(2).map(|w| w[1] - w[0] - slope), 1);
            let t = (n - 1) as f64;
            let point = (1..=h).map(|i| last + slope * i as f64).collect();
            let sd: Vec<f64> = (1..=h)
                .map(|i| {
                    let i = i as f64;
                    sigma * (i * (1.0 + i / t)).sqrt()
                })
                .collect();
            Some(Fc::normal("drift", point, &sd))
        }
        Candidate::Ets => ets(y, h).map(|(name, fc)| Fc { name, ..fc }),
        Candidate::SeasonalEts => {
            let (index, multiplicative) = seasonal_indices(y, m)?;
            let adjusted: Vec<f64> = y
                .iter()
                .enumerate()
                .map(|(t, v)| {
                    if multiplicative {
                        v / index[t % m]
                    } else {
                        v - index[t % m]
                    }
                })
                .collect();
            let (name, mut fc) = ets(&adjusted, h)?;
            for i in 0..h {
                let s = index[(n + i) % m];
                for v in [
                    &mut fc.point[i],
                    &mut fc.low80[i],
                    &mut fc.high80[i],
                    &mut fc.low95[i],
                    &mut fc.high95[i],
                ] {
                    if multiplicative {
                        *v *= s;
                    } else {
                        *v += s;
                    }
                }
            }
            fc.name = format!(
                "{name} on {} seasonally adjusted values",
                if multiplicative {
                    "multiplicatively"
                } else {
                    "additively"
                }
            );
            Some(fc)
        }
        Candidate::Mstl => {
            let model = MSTLModel::new(vec![m], AutoETS::non_seasonal().into_trend_model());
            let fit = model.fit(y).ok()?;
            let f80 = fit.predict(h, 0.80).ok()?;
            let f95 = fit.predict(h, 0.95).ok()?;
            let (l80, h80) = bounds(&f80, h)?;
            let (l95, h95) = bounds(&f95, h)?;
            finite(Fc {
                name: "MSTL + AutoETS".into(),
                point: f95.point,
                low80: l80,
                high80: h80,
                low95: l95,
                high95: h95,
            })
        }
    }
}

fn bounds(f: &augurs::Forecast, h: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    let i = f.intervals.as_ref()?;
    (i.lower.len() == h && i.upper.len() == h).then(|| (i.lower.clone(), i.upper.clone()))
}

fn finite(fc: Fc) -> Option<Fc> {
    fc.point.iter().all(|v| v.is_finite()).then_some(fc)
}

/// Non-seasonal AutoETS (augurs): the chosen model's name and forecast.
fn ets(y: &[f64], h: usize) -> Option<(String, Fc)> {
    let fit = AutoETS::non_seasonal().fit(y).ok()?;
    let name = {
        let m = fit.model();
        let t = m.model_type();
        let damped = if m.damped() { "d" } else { "" };
        format!("ETS({},{}{},N)", t.error, t.trend, damped)
    };
    let f80 = fit.predict(h, 0.80).ok()?;
    let f95 = fit.predict(h, 0.95).ok()?;
    let (l80, h80) = bounds(&f80, h)?;
    let (l95, h95) = bounds(&f95, h)?;
    let fc = finite(Fc {
        name: name.clone(),
        point: f95.point,
        low80: l80,
        high80: h80,
        low95: l95,
        high95: h95,
    })?;
    Some((name, fc))
}

/// Autocorrelation of `y` at lags 1..=`max_lag`.
fn acf(y: &[f64], max_lag: usize) -> Vec<f64> {
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n as f64;
    let denom: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    (1..=max_lag)
        .map(|k| {
            if denom == 0.0 || k >= n {
                return 0.0;
            }
            (k..n).map(|t| (y[t] - mean) * (y[t - k] - mean)).sum::<f64>() / denom
        })
        .collect()
}

/// The 90% seasonality test of the M4 competition's benchmarks: the
/// autocorrelation at lag `m` is outside its Bartlett band.
pub(crate) fn is_seasonal(y: &[f64], m: usize) -> bool {
    if m < 2 || y.len() < 3 * m {
        return false;
    }
    let r = acf(y, m);
    let sum_sq: f64 = r[..m - 1].iter().map(|v| v * v).sum();
    let limit = 1.645 * ((1.0 + 2.0 * sum_sq) / y.len() as f64).sqrt();
    r[m - 1].abs() > limit
}

/// Seasonal indices of a classical decomposition (centred moving
/// average): multiplicative when every value is positive, additive
/// otherwise. `None` when the series is not seasonal at `m`.
pub(crate) fn seasonal_indices(y: &[f64], m: usize) -> Option<(Vec<f64>, bool)> {
    if !is_seasonal(y, m) {
        return None;
    }
    let n = y.len();
    let multiplicative = y.iter().all(|v| *v > 0.0);
    // Centred moving average: 2×m when m is even, m when odd.
    let half = m / 2;
    let mut sums = vec![0.0; m];
    let mut counts = vec![0usize; m];
    for t in half..n.saturating_sub(half) {
        let cma = if m.is_multiple_of(2) {
            if t + half >= n {
                continue;
            }
            let inner: f64 = y[t + 1 - half..t + half].iter().sum();
            (inner + 0.5 * (y[t - half] + y[t + half])) / m as f64
        } else {
            y[t - half..=t + half].iter().sum::<f64>() / m as f64
        };
        let d = if multiplicative { y[t] / cma } else { y[t] - cma };
        if d.is_finite() {
            sums[t % m] += d;
            counts[t % m] += 1;
        }
    }
    if counts.contains(&0) {
        return None;
    }
    let mut index: Vec<f64> = sums.iter().zip(&counts).map(|(s, c)| s / *c as f64).collect();
    let mean = index.iter().sum::<f64>() / m as f64;
    for v in &mut index {
        if multiplicative {
            *v /= mean;
        } else {
            *v -= mean;
        }
    }
    if multiplicative && index.iter().any(|v| *v <= 0.0 || !v.is_finite()) {
        return None;
    }
    Some((index, multiplicative))
}
