//! In-period projections on constructed series: one heading for its
//! target, one heading below it.

use std::fmt::Write;

use crate::{eval, project, row};

const DEFS: &str = r#"
[source.signups]
path = "data/signups.csv"
time = "at"

[source.deliveries]
path = "data/deliveries.csv"
time = "at"

[kpi.signups]
measure = "count(*)"
source = "signups"
every = "month"
for_each = ["region"]
target = ">= 90"

[kpi.on_time]
share = "on_time"
source = "deliveries"
every = "month"
target = ">= 95%"
"#;

/// 14 months of about 100 signups per region (97, 100, 103, …), then
/// March 2026 up to the 15th: north on pace (50), south far behind (10).
/// Deliveries: 98% on time every month, 80% so far in March.
fn data() -> (String, String) {
    let mut signups = String::from("at,region\n");
    let mut deliveries = String::from("at,on_time\n");
    let months: Vec<(i32, u32)> = (0..14i32).map(|i| (2025 + i / 12, (i % 12) as u32 + 1)).collect();
    for (i, (y, m)) in months.iter().enumerate() {
        let n = 97 + 3 * (i % 3);
        for region in ["north", "south"] {
            for k in 0..n {
                let _ = writeln!(signups, "{y}-{m:02}-{:02} {:02}:00,{region}", 1 + k % 28, k % 24);
            }
        }
        for k in 0..100 {
            let _ = writeln!(deliveries, "{y}-{m:02}-{:02} 12:00,{}", 1 + k % 28, k >= 2);
        }
    }
    for (region, n) in [("north", 50), ("south", 10)] {
        for k in 0..n {
            let _ = writeln!(signups, "2026-03-{:02} {:02}:00,{region}", 1 + k % 15, k % 24);
        }
    }
    for k in 0..50 {
        let _ = writeln!(deliveries, "2026-03-{:02} 12:00,{}", 1 + k % 15, k >= 10);
    }
    (signups, deliveries)
}

#[test]
fn incomplete_periods_carry_a_projection_and_a_heading() {
    let (signups, deliveries) = data();
    let dir = project(
        "Europe/Berlin",
        DEFS,
        &[
            ("data/signups.csv", &signups),
            ("data/deliveries.csv", &deliveries),
        ],
    );
    // Midnight of 16 March in Berlin: 15 of March's 31 days (less the DST
    // hour on the 29th) have passed.
    let rows = eval(dir.path(), "2026-03-15T23:00:00Z");
    let elapsed = 15.0 * 24.0 / (31.0 * 24.0 - 1.0);

    for r in rows.iter().filter(|r| r.complete) {
        assert!(r.projection.is_none(), "{r:?}");
    }

    let north = row(&rows, "signups", "2026-03", Some("north"));
    assert!(!north.complete);
    let p = north.projection.as_ref().expect("north projection");
    // To date 50 plus the rest of the month at a full-month value between
    // the history's ~100 and the run rate: within a few signups of 100.
    assert!((p.value - 100.0).abs() < 6.0, "{p:?}");
    assert!(p.low <= p.value && p.value <= p.high, "{p:?}");
    assert_eq!(p.status.map(|h| h.as_str()), Some("on_track"), "{p:?}");

    let south = row(&rows, "signups", "2026-03", Some("south"));
    let p = south.projection.as_ref().expect("south projection");
    // 10 + (1 − f)·((1 − f)·~100 + 10): about 41.
    let rest = 1.0 - elapsed;
    let want = 10.0 + rest * (rest * 100.0 + 10.0);
    assert!((p.value - want).abs() < 3.0, "{p:?} vs {want}");
    assert!(
        matches!(p.status.map(|h| h.as_str()), Some("off_track" | "at_risk")),
        "{p:?}"
    );
    assert!(p.probability.is_some_and(|x| x < 0.25), "{p:?}");

    let on_time = row(&rows, "on_time", "2026-03", None);
    let p = on_time.projection.as_ref().expect("on_time projection");
    // 80% for the elapsed part, the trailing 98% for the rest.
    let want = elapsed * 0.8 + rest * 0.98;
    assert!((p.value - want).abs() < 1e-9, "{p:?} vs {want}");
    assert_eq!(p.status.map(|h| h.as_str()), Some("off_track"), "{p:?}");
}
