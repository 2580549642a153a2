//! In-period projections: where a period not yet ended will finish, and
//! how likely it is to meet its target.
//!
//! - Additive measures (`sum(…)`, `count(…)`): the value so far plus the
//!   rest of the period at an expected full-period value that moves from
//!   the forecast of the KPI's history (the start of the period) to the
//!   run rate so far (its end): `E = (1 − f)·forecast + to_date`, where `f`
//!   is the elapsed share of the period's time; projection
//!   `to_date + (1 − f)·E`; uncertainty is the forecast's, scaled by the
//!   remaining share.
//! - Everything else (shares, availability, ratios, averages, percentiles,
//!   formulas, growth): the value so far for the elapsed share and the
//!   trailing rate (mean of the last three complete periods) for the rest;
//!   uncertainty is the spread of the last twelve complete periods, scaled
//!   by the remaining share.
//! - Cumulative measures and rolling windows are not projected.
//!
//! The probability of meeting the target assumes a normal end value;
//! `on_track` from 75%, `off_track` below 25%, `at_risk` between. `low`
//! and `high` bound an 80% interval.

use serde::Serialize;
use yardstick_core::domain::Domain;
use yardstick_core::model::{Measure, MeasureDef, Target};
#[cfg(test)]
use yardstick_forecast::forecast;
use yardstick_forecast::{Forecast, ForecastError, Z80, probability_within, sd_from_95};

/// The projection of an incomplete period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// Probability of meeting the target (absent without a target or
    /// without history to judge the uncertainty by).
    pub probability: Option<f64>,
    /// Where it is heading against the target (absent without a target).
    pub status: Option<Heading>,
    /// How the projection was made: `forecast+run_rate`, `run_rate` or
    /// `trailing_rate`.
    pub method: &'static str,
}

/// Where an incomplete period is heading, written in JSON as `on_track`,
/// `at_risk` or `off_track`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Heading {
    /// At least a 75% chance of meeting the target.
    OnTrack,
    /// Between 25% and 75%.
    AtRisk,
    /// Below 25%.
    OffTrack,
}

impl Heading {
    pub fn as_str(self) -> &'static str {
        match self {
            Heading::OnTrack => "on_track",
            Heading::AtRisk => "at_risk",
            Heading::OffTrack => "off_track",
        }
    }

    /// `on track`, `at risk`, `off track`.
    pub fn words(self) -> &'static str {
        match self {
            Heading::OnTrack => "on track",
            Heading::AtRisk => "at risk",
            Heading::OffTrack => "off track",
        }
    }
}

/// How a measure's value grows through its period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Growth {
    /// The period's value is the sum of its parts.
    Additive,
    /// The period's value is a rate over its parts.
    Rate,
}

/// How `k` is projected, if at all.
pub(crate) fn growth_of(k: &MeasureDef) -> Option<Growth> {
    match &k.measure.as_ref()?.value {
        Measure::Aggregate { measure, .. } => {
            let additive = yardstick_core::sql::is_single_call(&measure.text, &["sum", "count"]);
            Some(if additive { Growth::Additive } else { Growth::Rate })
        }
        Measure::Cumulative { .. } => None,
        _ => Some(Growth::Rate),
    }
}

/// The values `k` can take: its form's domain (shares and availability in
/// [0, 1], counts ≥ 0), floored at zero for aggregates whose every known
/// value is non-negative (sums of non-negative amounts). Forecasts and
/// projections are bounded to it: points and range ends outside are moved
/// to its edge, which keeps every range's coverage of possible values.
pub(crate) fn value_domain(k: &MeasureDef, known: impl IntoIterator<Item = f64>) -> Domain {
    let domain = Domain::of(k);
    let aggregate = matches!(
        k.measure.as_ref().map(|m| &m.value),
        Some(Measure::Aggregate { .. })
    );
    let mut seen = false;
    let non_negative = known.into_iter().filter(|v| v.is_finite()).all(|v| {
        seen = true;
        v >= 0.0
    });
    if aggregate && seen && non_negative {
        domain.non_negative()
    } else {
        domain
    }
}

/// Projects an incomplete period. `history` holds the values of the
/// complete periods before it (oldest first), `elapsed` the share of the
/// period's time that has passed (0–1), `season` the seasonal period in
/// periods; the projection stays inside `domain`.
#[cfg(test)]
fn project(
    growth: Growth,
    domain: Domain,
    history: &[Option<f64>],
    to_date: Option<f64>,
    elapsed: f64,
    season: usize,
    target: Option<Target>,
) -> Option<Projection> {
    let one_ahead = |y: &[f64], m: usize| forecast(y, m, 1);
    project_with(
        &one_ahead, growth, domain, history, to_date, elapsed, season, target,
    )
}

/// A one-period-ahead forecast of a series with a season (a memo of
/// [`forecast`] in an incremental evaluation).
pub(crate) type OneAhead<'a> = dyn Fn(&[f64], usize) -> Result<Forecast, ForecastError> + 'a;

/// [`project`] with the forecasts from `one_ahead`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn project_with(
    one_ahead: &OneAhead<'_>,
    growth: Growth,
    domain: Domain,
    history: &[Option<f64>],
    to_date: Option<f64>,
    elapsed: f64,
    season: usize,
    target: Option<Target>,
) -> Option<Projection> {
    let f = elapsed.clamp(0.0, 1.0);
    let rest = 1.0 - f;
    let known: Vec<f64> = history.iter().flatten().copied().collect();
    let (value, sd, method) = match growth {
        Growth::Additive => {
            let so_far = to_date.unwrap_or(0.0);
            let series: Vec<f64> = history.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
            match one_ahead(&series, season) {
                Ok(fc) => {
                    let p = fc.points.first()?;
                    let sd = match (p.low95, p.high95) {
                        (Some(l), Some(h)) => Some(sd_from_95(l, h) * rest),
                        _ => None,
                    };
                    let expected_full = rest * p.value + so_far;
                    (so_far + rest * expected_full, sd, "forecast+run_rate")
                }
                Err(_) if f > 0.0 => (so_far / f, None, "run_rate"),
                Err(_) => return None,
            }
        }
        Growth::Rate => {
            let recent = &known[known.len().saturating_sub(3)..];
            let trailing = if recent.is_empty() {
                to_date?
            } else {
                recent.iter().sum::<f64>() / recent.len() as f64
            };
            let value = match to_date {
                Some(v) => f * v + rest * trailing,
                None => trailing,
            };
            let last12 = &known[known.len().saturating_sub(12)..];
            let sd = (last12.len() >= 2).then(|| {
                let mean = last12.iter().sum::<f64>() / last12.len() as f64;
                let var = last12.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (last12.len() - 1) as f64;
                var.sqrt() * rest
            });
            (value, sd, "trailing_rate")
        }
    };
    if !value.is_finite() {
        return None;
    }
    let half = sd.map_or(0.0, |s| Z80 * s);
    let probability = match (target, sd) {
        (Some(t), Some(sd)) => {
            let (low, high) = match t {
                Target::AtLeast(x) | Target::Above(x) => (Some(x), None),
                Target::AtMost(x) | Target::Below(x) => (None, Some(x)),
                Target::Between(a, b) => (Some(a), Some(b)),
            };
            Some(probability_within(value, sd, low, high))
        }
        _ => None,
    };
    let status = target.map(|t| match probability {
        Some(p) if p >= 0.75 => Heading::OnTrack,
        Some(p) if p >= 0.25 => Heading::AtRisk,
        Some(_) => Heading::OffTrack,
        // No spread known: judge the point projection.
        None if t.holds(value) => Heading::OnTrack,
        None => Heading::OffTrack,
    });
    Some(Projection {
        value: domain.clamp(value),
        low: domain.clamp(value - half),
        high: domain.clamp(value + half),
        probability,
        status,
        method,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_calls_are_additive() {
        use yardstick_core::sql::is_single_call;
        assert!(is_single_call("count(*)", &["sum", "count"]));
        assert!(is_single_call(
            " SUM(amount * (1 - discount)) ",
            &["sum", "count"]
        ));
        assert!(!is_single_call("sum(a) / count(*)", &["sum", "count"]));
        assert!(!is_single_call("avg(x)", &["sum", "count"]));
    }

    #[test]
    fn additive_half_way_with_flat_history() {
        // Ten periods of 100; half-way with 50 so far: the forecast and the
        // run rate agree on 100.
        let history = vec![Some(100.0); 10];
        let p = project(
            Growth::Additive,
            Domain::ANY,
            &history,
            Some(50.0),
            0.5,
            1,
            Some(Target::AtLeast(90.0)),
        )
        .expect("projection");
        assert!((p.value - 100.0).abs() < 1e-6, "{p:?}");
        assert_eq!(p.status, Some(Heading::OnTrack));
    }

    #[test]
    fn additive_behind_pace_is_off_track() {
        // History of 100 ± 2; half-way with only 20: ends near 20 + 0.5 × (50 + 20) = 55.
        let history: Vec<Option<f64>> = (0..12).map(|i| Some(100.0 + (i % 3) as f64 - 1.0)).collect();
        let p = project(
            Growth::Additive,
            Domain::ANY,
            &history,
            Some(20.0),
            0.5,
            1,
            Some(Target::AtLeast(90.0)),
        )
        .expect("projection");
        assert!((p.value - 55.0).abs() < 1.0, "{p:?}");
        assert_eq!(p.status, Some(Heading::OffTrack));
        assert!(p.probability.is_some_and(|x| x < 0.01));
    }

    #[test]
    fn rate_blends_so_far_with_trailing() {
        let history = vec![Some(0.99), Some(0.995), Some(0.999), Some(0.997)];
        // 60% elapsed at 0.90: 0.6 × 0.90 + 0.4 × mean(0.995, 0.999, 0.997).
        let p = project(
            Growth::Rate,
            Domain::ANY,
            &history,
            Some(0.90),
            0.6,
            1,
            Some(Target::AtLeast(0.995)),
        )
        .expect("projection");
        assert!((p.value - (0.54 + 0.4 * 0.997)).abs() < 1e-12, "{p:?}");
        assert_eq!(p.status, Some(Heading::OffTrack));
        assert_eq!(p.method, "trailing_rate");
    }

    #[test]
    fn no_history_uses_the_run_rate_without_probability() {
        let p = project(
            Growth::Additive,
            Domain::ANY,
            &[],
            Some(30.0),
            0.25,
            1,
            Some(Target::AtLeast(100.0)),
        )
        .expect("projection");
        assert_eq!(p.value, 120.0);
        assert_eq!(p.probability, None);
        assert_eq!(p.status, Some(Heading::OnTrack));
        assert_eq!(
            project(Growth::Additive, Domain::ANY, &[], None, 0.0, 1, None),
            None
        );
    }
}

#[cfg(test)]
mod domain_tests {
    use super::*;

    #[test]
    fn ranges_stay_possible() {
        // A share at 0.99 with a wide spread: the range ends at 100%.
        let history = vec![Some(0.9), Some(1.0), Some(0.95), Some(1.0), Some(0.99)];
        let p = project(
            Growth::Rate,
            Domain::FRACTION,
            &history,
            Some(1.0),
            0.1,
            1,
            Some(Target::AtLeast(0.9)),
        )
        .expect("projection");
        assert!(p.high <= 1.0 && p.low >= 0.0 && p.value <= 1.0, "{p:?}");
        assert_eq!(p.high, 1.0, "{p:?}");
    }
}
