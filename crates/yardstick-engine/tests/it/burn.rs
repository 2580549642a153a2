//! Burn rates over the workbook's windows, against hand-computed ratios.

use yardstick_engine::burn::burn;

use crate::{project, utc};

const DEFS: &str = r#"
[source.incidents]
path = "data/incidents.csv"
start = "started_at"
end = "ended_at"

[source.requests]
path = "data/requests.csv"
time = "at"

[kpi.uptime]
availability = { down = "incidents" }
every = "month"
target = ">= 99.9%"

[kpi.success]
share = "ok"
source = "requests"
filter = "path <> '/health'"
every = "month"
target = ">= 99%"
"#;

fn rates(dir: &std::path::Path, kpi: &str, objective: f64, as_of: &str) -> yardstick_engine::burn::Burn {
    let loaded = yardstick_engine::load_dir(dir);
    assert!(!loaded.diagnostics.has_errors(), "{:#?}", loaded.diagnostics);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut d = yardstick_core::Diagnostics::default();
        let cat = yardstick_engine::register_sources(&loaded.project, dir, &mut d).await;
        assert!(!d.has_errors(), "{d:#?}");
        burn(&loaded.project, &cat, kpi, objective, utc(as_of))
            .await
            .expect("burn")
    })
}

fn rate(b: &yardstick_engine::burn::Burn, minutes: i64) -> f64 {
    b.windows
        .iter()
        .find(|w| w.minutes == minutes)
        .and_then(|w| w.burn_rate)
        .unwrap_or(f64::NAN)
}

#[test]
fn an_ongoing_outage_fires_the_fast_rule_and_an_old_one_does_not() {
    // UTC project: times are UTC. An outage since 11:50 with no end yet;
    // an earlier one 08:40–09:00.
    let d = project(
        "UTC",
        DEFS,
        &[
            (
                "data/incidents.csv",
                "started_at,ended_at\n2026-03-10 08:40,2026-03-10 09:00\n2026-03-10 11:50,\n",
            ),
            ("data/requests.csv", "at,ok,path\n"),
        ],
    );
    let b = rates(d.path(), "uptime", 0.999, "2026-03-10T12:00:00Z");
    // 5 min all down: 1 / 0.001; 1 h: 10/60; 6 h (06:00–12:00): 30/360.
    assert!((rate(&b, 5) - 1000.0).abs() < 1e-9, "{b:?}");
    assert!((rate(&b, 60) - 10.0 / 60.0 / 0.001).abs() < 1e-9, "{b:?}");
    assert!((rate(&b, 360) - 30.0 / 360.0 / 0.001).abs() < 1e-9, "{b:?}");
    assert_eq!(b.firing, Some((60, 5, 14.4)));

    // At 11:40 only the 08:40 outage counts: 6 h burns 20/360/0.001 ≈ 55.6,
    // but the last 30 minutes are clean: nothing fires.
    let b = rates(d.path(), "uptime", 0.999, "2026-03-10T11:40:00Z");
    assert!((rate(&b, 360) - 20.0 / 360.0 / 0.001).abs() < 1e-9, "{b:?}");
    assert_eq!(rate(&b, 30), 0.0);
    assert_eq!(b.firing, None);
}

#[test]
fn a_share_burns_by_failed_rows_in_each_window() {
    // 100 judged requests in the last hour, one per 36 s back from 11:59:24;
    // the 2 failures are in the last 5 minutes; health checks do not count.
    let mut rows = String::from("at,ok,path\n");
    for i in 0..100 {
        let t = utc("2026-03-10T11:59:24Z") - chrono::Duration::seconds(36 * i);
        let ok = i >= 2;
        rows.push_str(&format!("{},{ok},/api\n", t.format("%Y-%m-%d %H:%M:%S")));
        rows.push_str(&format!("{},false,/health\n", t.format("%Y-%m-%d %H:%M:%S")));
    }
    let d = project(
        "UTC",
        DEFS,
        &[
            ("data/incidents.csv", "started_at,ended_at\n"),
            ("data/requests.csv", &rows),
        ],
    );
    let b = rates(d.path(), "success", 0.99, "2026-03-10T12:00:00Z");
    // Last 5 min (11:55–12:00): rows at 11:59:24 back to 11:55:12 → 8 rows, 2 bad.
    assert!((rate(&b, 5) - (2.0 / 8.0) / 0.01).abs() < 1e-9, "{b:?}");
    assert!((rate(&b, 60) - (2.0 / 100.0) / 0.01).abs() < 1e-9, "{b:?}");
    // 14.4× over 5 min but only 2× over the hour: no page.
    assert_eq!(b.firing, None);
}
