//! Accuracy of `forecast` on a file of series, one per line:
//! `id;train values;test values` (comma-separated). The M3 files are made
//! by `scripts/bench_forecast.py --export DIR`; the end-to-end benchmark
//! (through `yardstick forecast`, against statsforecast) is that script.
//!
//!     cargo run --release -p yardstick-forecast --example m3 -- DIR/monthly.csv 12 18

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(m), Some(h)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: m3 FILE SEASON HORIZON");
        std::process::exit(2);
    };
    let (m, h): (usize, usize) = match (m.parse(), h.parse()) {
        (Ok(m), Ok(h)) => (m, h),
        _ => {
            eprintln!("SEASON and HORIZON are whole numbers");
            std::process::exit(2);
        }
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let parse = |s: &str| -> Vec<f64> { s.split(',').filter_map(|v| v.parse().ok()).collect() };
    let series: Vec<(Vec<f64>, Vec<f64>)> = text
        .lines()
        .filter_map(|l| {
            let mut parts = l.split(';');
            let _id = parts.next()?;
            Some((parse(parts.next()?), parse(parts.next()?)))
        })
        .collect();
    let train: Vec<Vec<f64>> = series.iter().map(|s| s.0.clone()).collect();
    let t0 = Instant::now();
    let out = yardstick_forecast::forecast_many(&train, m, h, &|| {});
    let secs = t0.elapsed().as_secs_f64();
    let (mut smape, mut mase, mut covered, mut total) = (0.0, 0.0, 0usize, 0usize);
    // Coverage of the 95% ranges per step ahead: (inside, all).
    let mut by_step = vec![(0usize, 0usize); h];
    let mut models: std::collections::BTreeMap<String, usize> = Default::default();
    for ((x, y), f) in series.iter().zip(&out) {
        let Ok(f) = f else { continue };
        *models
            .entry(f.model.split(" on ").next().unwrap_or("").to_string())
            .or_default() += 1;
        let scale = if x.len() > m {
            x.windows(m + 1).map(|w| (w[m] - w[0]).abs()).sum::<f64>() / (x.len() - m) as f64
        } else {
            x.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (x.len() - 1) as f64
        };
        let (mut s, mut a) = (0.0, 0.0);
        for (i, (p, v)) in f.points.iter().zip(y).enumerate() {
            s += 200.0 * (v - p.value).abs() / (v.abs() + p.value.abs());
            a += (v - p.value).abs();
            if let (Some(l), Some(u)) = (p.low95, p.high95) {
                let inside = usize::from(*v >= l && *v <= u);
                covered += inside;
                by_step[i].0 += inside;
            }
            by_step[i].1 += 1;
            total += 1;
        }
        let n = y.len().min(h) as f64;
        smape += s / n;
        mase += a / n / scale;
    }
    // Seasonal naive on the same series, for scale.
    let (mut sn_smape, mut sn_mase) = (0.0, 0.0);
    for (x, y) in &series {
        let Some(f) = yardstick_forecast::benchmark(yardstick_forecast::Benchmark::SeasonalNaive, x, m, h)
            .or_else(|| yardstick_forecast::benchmark(yardstick_forecast::Benchmark::Naive, x, m, h))
        else {
            continue;
        };
        let scale = x.windows(m + 1).map(|w| (w[m] - w[0]).abs()).sum::<f64>() / (x.len() - m).max(1) as f64;
        let n = y.len().min(h) as f64;
        let (mut s, mut a) = (0.0, 0.0);
        for (p, v) in f.points.iter().zip(y) {
            s += 200.0 * (v - p.value).abs() / (v.abs() + p.value.abs());
            a += (v - p.value).abs();
        }
        sn_smape += s / n;
        sn_mase += a / n / scale;
    }
    let k = series.len() as f64;
    println!(
        "seasonal naive: sMAPE {:.3}, MASE {:.3}",
        sn_smape / k,
        sn_mase / k
    );
    println!(
        "{} series, h={h}: sMAPE {:.3}, MASE {:.3}, 95% coverage {:.1}%, {secs:.2} s",
        series.len(),
        smape / k,
        mase / k,
        100.0 * covered as f64 / total as f64
    );
    println!("models: {models:?}");
    let steps: Vec<String> = by_step
        .iter()
        .map(|(c, t)| format!("{:.1}", 100.0 * *c as f64 / (*t).max(1) as f64))
        .collect();
    println!("95% coverage by step ahead: {}", steps.join(" "));
}
