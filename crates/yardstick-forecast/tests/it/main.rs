//! Forecasts and warnings on series whose structure is known by
//! construction.

use yardstick_forecast::warnings::{anomalies, changepoints};
use yardstick_forecast::{ForecastError, forecast, forecast_many};

/// Deterministic noise in [-1, 1) (a linear congruential generator).
fn noise(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

fn mae(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
}

#[test]
fn a_linear_trend_is_continued() {
    let mut e = noise(1);
    let y: Vec<f64> = (0..40).map(|t| 10.0 + 2.0 * t as f64 + 0.3 * e()).collect();
    let f = forecast(&y, 1, 6).expect("forecast");
    for (i, p) in f.points.iter().enumerate() {
        let truth = 10.0 + 2.0 * (40 + i) as f64;
        assert!(
            (p.value - truth).abs() < 0.03 * truth,
            "{}: step {i} = {} vs {truth}",
            f.model,
            p.value
        );
        let (l95, h95) = (p.low95.expect("low95"), p.high95.expect("high95"));
        let (l80, h80) = (p.low80.expect("low80"), p.high80.expect("high80"));
        assert!(
            l95 <= l80 && l80 <= p.value && p.value <= h80 && h80 <= h95,
            "{p:?}"
        );
    }
    // The intervals widen with the horizon.
    let width = |i: usize| f.points[i].high95.unwrap_or(0.0) - f.points[i].low95.unwrap_or(0.0);
    assert!(width(5) > width(0), "{f:?}");
}

#[test]
fn monthly_seasonality_is_modelled() {
    let mut e = noise(2);
    let truth =
        |t: usize| 200.0 + 1.5 * t as f64 + 40.0 * (2.0 * std::f64::consts::PI * t as f64 / 12.0).sin();
    let y: Vec<f64> = (0..72).map(|t| truth(t) + 3.0 * e()).collect();
    let f = forecast(&y, 12, 12).expect("forecast");
    let points: Vec<f64> = f.points.iter().map(|p| p.value).collect();
    let expected: Vec<f64> = (72..84).map(truth).collect();
    let err = mae(&points, &expected);
    // A seasonal-blind forecast is off by the seasonal amplitude (≈ 25 on
    // average); the chosen model must be far closer.
    assert!(err < 8.0, "{}: MAE {err}", f.model);
    let flat = forecast(&y, 1, 12).expect("forecast");
    let flat_points: Vec<f64> = flat.points.iter().map(|p| p.value).collect();
    assert!(
        mae(&flat_points, &expected) > 2.0 * err,
        "{} vs {}",
        f.model,
        flat.model
    );
}

#[test]
fn a_level_shift_moves_the_forecast_and_is_a_changepoint() {
    let mut e = noise(3);
    let y: Vec<f64> = (0..60).map(|t| if t < 30 { 50.0 } else { 80.0 } + e()).collect();
    let f = forecast(&y, 1, 3).expect("forecast");
    for p in &f.points {
        assert!((p.value - 80.0).abs() < 3.0, "{}: {}", f.model, p.value);
    }
    let cps = changepoints(&y, 14, 3.0);
    assert_eq!(cps.len(), 1, "{cps:?}");
    assert!((29..=31).contains(&cps[0].index), "{cps:?}");
    assert!((cps[0].before - 50.0).abs() < 1.0 && (cps[0].after - 80.0).abs() < 1.0);
    // No changepoint in noise around a level.
    let mut e = noise(4);
    let calm: Vec<f64> = (0..60).map(|_| 50.0 + e()).collect();
    assert!(changepoints(&calm, 14, 3.0).is_empty());
}

#[test]
fn a_spike_on_a_weekly_pattern_is_the_one_anomaly() {
    let mut e = noise(5);
    let weekday = [100.0, 110.0, 105.0, 108.0, 120.0, 40.0, 30.0];
    let mut y: Vec<f64> = (0..70).map(|t| weekday[t % 7] + 2.0 * e()).collect();
    y[60] -= 45.0; // a weekday (60 % 7 = 4) with half its usual leads
    let found = anomalies(&y, 7, 4.0);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].index, 60);
    assert!(found[0].score < -4.0 && (found[0].expected - 120.0).abs() < 4.0);
    // Weekends are low every week: not anomalies.
    assert!(anomalies(&y[..59], 7, 4.0).is_empty());
}

#[test]
fn short_series_fall_back_to_naive_with_a_message() {
    assert_eq!(forecast(&[], 12, 3), Err(ForecastError::Empty));
    assert_eq!(forecast(&[f64::NAN, f64::NAN], 12, 3), Err(ForecastError::Empty));
    let one = forecast(&[42.0], 12, 3).expect("forecast");
    assert_eq!(one.model, "naive");
    assert!(one.note.as_deref().unwrap_or("").contains("too short"), "{one:?}");
    assert!(one.points.iter().all(|p| p.value == 42.0 && p.low95.is_none()));
    let three = forecast(&[1.0, 2.0, 4.0], 1, 2).expect("forecast");
    assert_eq!(three.model, "naive");
    assert!(three.note.is_some());
    assert!(
        three.points[0].low95.is_some(),
        "two differences give an interval"
    );
    // Too short for ETS but long enough to compare the plain models.
    let eight = forecast(&[10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 22.0, 24.0], 1, 2).expect("forecast");
    assert_eq!(eight.model, "drift", "{eight:?}");
    assert!(
        eight
            .note
            .as_deref()
            .is_some_and(|n| n.contains("too short for ETS") && n.contains("drift"))
    );
    assert!((eight.points[1].value - 28.0).abs() < 1e-9, "{eight:?}");
    // Long enough: no note.
    let long: Vec<f64> = (0..24).map(|t| t as f64).collect();
    assert!(forecast(&long, 1, 2).expect("forecast").note.is_none());
}

#[test]
fn a_constant_series_is_forecast_constant() {
    let f = forecast(&[7.0; 30], 12, 4).expect("forecast");
    for p in &f.points {
        assert!((p.value - 7.0).abs() < 1e-6, "{f:?}");
    }
}

#[test]
fn many_series_in_parallel_keep_their_order() {
    let series: Vec<Vec<f64>> = (0..20)
        .map(|k| (0..30).map(|t| (k * 10 + t) as f64).collect())
        .collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let out = forecast_many(&series, 1, 2, &|| {
        done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(done.into_inner(), 20);
    for (k, r) in out.iter().enumerate() {
        let f = r.as_ref().expect("forecast");
        assert_eq!(Ok(f), forecast(&series[k], 1, 2).as_ref());
    }
}
