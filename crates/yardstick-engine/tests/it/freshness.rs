//! Stale sources: the newest row at the evaluation instant against `freshness`.

use yardstick_engine::freshness::stale_sources;

use crate::{project, utc};

const DEFS: &str = r#"
[source.orders]
path = "data/orders.csv"
time = "at"
freshness = "1d"
owner = "sales-ops"

[source.empty]
path = "data/empty.csv"
time = "at"
freshness = "6h"

[source.incidents]
path = "data/incidents.csv"
start = "started_at"
end = "ended_at"
freshness = "2w"

[source.people]
path = "data/people.csv"

[kpi.orders]
measure = "count(*)"
source = "orders"
every = "day"
"#;

fn stale_at(dir: &std::path::Path, as_of: &str) -> Vec<(String, Option<String>, Option<f64>)> {
    let loaded = yardstick_engine::load_dir(dir);
    assert!(!loaded.diagnostics.has_errors(), "{:#?}", loaded.diagnostics);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut d = yardstick_core::Diagnostics::default();
        let cat = yardstick_engine::register_sources(&loaded.project, dir, &mut d).await;
        assert!(!d.has_errors(), "{d:#?}");
        stale_sources(&loaded.project, &cat, utc(as_of))
            .await
            .expect("freshness")
            .into_iter()
            .map(|s| (s.source, s.newest, s.age_hours))
            .collect()
    })
}

#[test]
fn a_source_is_stale_when_its_newest_row_is_older_than_its_freshness() {
    let d = project(
        "Europe/Berlin",
        DEFS,
        &[
            // 12:00 Berlin (CET) is 11:00 UTC; the row on the 20th is after every as-of below.
            (
                "data/orders.csv",
                "at,amount\n2026-03-09 08:00,1\n2026-03-10 12:00,2\n2026-03-20 09:00,3\n",
            ),
            ("data/empty.csv", "at,amount\n"),
            (
                "data/incidents.csv",
                "started_at,ended_at\n2026-03-01 00:00,2026-03-01 02:00\n",
            ),
            ("data/people.csv", "name\nann\n"),
        ],
    );
    // 23 hours after the newest row (rows after as-of do not count): fresh.
    // The empty source is always stale; incidents started 10 days ago (freshness 2w): fresh.
    assert_eq!(
        stale_at(d.path(), "2026-03-11T10:00:00Z"),
        [("empty".to_string(), None, None)]
    );
    // Exactly one day: still fresh (older than, not as old as).
    assert_eq!(stale_at(d.path(), "2026-03-11T11:00:00Z").len(), 1);
    // 25 hours: stale, with the newest row and its age.
    let got = stale_at(d.path(), "2026-03-11T12:00:00Z");
    assert_eq!(
        got[0],
        (
            "orders".to_string(),
            Some("2026-03-10T11:00:00Z".to_string()),
            Some(25.0)
        )
    );
    // The interval source goes stale two weeks after its newest start.
    let later = stale_at(d.path(), "2026-03-16T00:00:00Z");
    assert_eq!(
        later.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
        ["orders", "empty", "incidents"]
    );
}

#[test]
fn the_message_names_the_owner() {
    let d = project(
        "UTC",
        DEFS,
        &[
            ("data/orders.csv", "at,amount\n2026-03-09 08:00,1\n"),
            ("data/empty.csv", "at,amount\n2026-03-09 08:00,1\n"),
            ("data/incidents.csv", "started_at,ended_at\n2026-03-09 00:00,\n"),
            ("data/people.csv", "name\nann\n"),
        ],
    );
    let loaded = yardstick_engine::load_dir(d.path());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let stale = rt.block_on(async {
        let mut diags = yardstick_core::Diagnostics::default();
        let cat = yardstick_engine::register_sources(&loaded.project, d.path(), &mut diags).await;
        stale_sources(&loaded.project, &cat, utc("2026-03-12T10:30:00Z"))
            .await
            .expect("freshness")
    });
    assert_eq!(
        stale[0].message,
        "source `orders` is stale: its newest row (2026-03-09T08:00:00Z) is 3 days 2 hours old at 2026-03-12T10:30:00Z (freshness 1d); owner: sales-ops"
    );
}
