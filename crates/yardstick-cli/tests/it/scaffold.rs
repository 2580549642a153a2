//! `demo` and `init`: projects that check clean, with data ending yesterday.

use super::*;

#[test]
fn the_demo_checks_clean() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = yardstick(&["demo", "demo", "--end", "2026-11-24", "--no-serve"], tmp.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (code, json) = check_json(&tmp.path().join("demo"));
    assert_eq!(
        (code, &json["errors"], &json["warnings"]),
        (0, &Value::from(0), &Value::from(0)),
        "{json:#}"
    );
    assert_eq!(json["counts"]["kpis"], 18);
    assert_eq!(json["counts"]["reconciliations"], 1);
    // Trial signups were pushed into the store as the website would: the
    // KPI has values from the first month on.
    let out = yardstick(
        &[
            "eval",
            "demo",
            "--kpi",
            "trial_signups",
            "--as-of",
            "2026-11-24",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = v["evaluations"].as_array().expect("rows");
    assert!(rows.len() >= 13, "{v}");
    assert!(
        rows.iter()
            .filter(|r| r["complete"] == true)
            .all(|r| r["value"].as_f64().unwrap_or(0.0) > 5.0),
        "{v}"
    );
    let out = yardstick(
        &["alerts", "demo", "--as-of", "2026-11-24", "--format", "json"],
        tmp.path(),
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["alerts"].as_array().is_some_and(|a| a.len() >= 2), "{v}");
    assert!(tmp.path().join("demo/.gitignore").exists());
    // Never overwrites.
    let again = yardstick(&["demo", "demo", "--no-serve"], tmp.path());
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}

const TEMPLATES: [&str; 5] = [
    "saas",
    "sla",
    "partnership-distribution",
    "partnership-jv",
    "partnership-technology",
];

#[test]
fn every_init_template_checks_clean() {
    for t in TEMPLATES {
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = yardstick(&["init", "p", "--template", t], tmp.path());
        assert!(
            out.status.success(),
            "{t}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (code, json) = check_json(&tmp.path().join("p"));
        assert_eq!(
            (code, &json["errors"], &json["warnings"]),
            (0, &Value::from(0), &Value::from(0)),
            "{t}: {json:#}"
        );
        assert!(json["counts"]["kpis"].as_u64().unwrap_or(0) >= 3, "{t}");
        assert!(tmp.path().join("p/.gitignore").exists(), "{t}");
    }
}

/// A new project shows a year of values ending yesterday, with statuses
/// that are not all the same, on the day it is made.
#[test]
fn a_new_project_has_a_year_of_data_ending_yesterday() {
    for t in TEMPLATES {
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = yardstick(&["init", "p", "--template", t, "--end", "2027-03-10"], tmp.path());
        assert!(
            out.status.success(),
            "{t}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = yardstick(
            &["eval", "p", "--as-of", "2027-03-10T00:00:00Z", "--format", "json"],
            tmp.path(),
        );
        assert!(
            out.status.success(),
            "{t}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("json");
        let rows = v["evaluations"].as_array().expect("rows");
        let complete: Vec<&Value> = rows.iter().filter(|r| r["complete"] == true).collect();
        let statuses: std::collections::BTreeSet<&str> =
            complete.iter().filter_map(|r| r["status"].as_str()).collect();
        assert!(
            statuses.contains("met") && statuses.len() >= 2,
            "{t}: {statuses:?}"
        );
        let no_data = complete.iter().filter(|r| r["status"] == "no_data").count();
        assert!(
            no_data * 10 <= complete.len(),
            "{t}: {no_data} of {} without data",
            complete.len()
        );
        // Every KPI has a value in its latest complete period.
        let mut latest: std::collections::BTreeMap<&str, &Value> = std::collections::BTreeMap::new();
        for r in &complete {
            latest.insert(r["kpi"].as_str().expect("kpi"), r);
        }
        for (kpi, r) in latest {
            assert!(
                r["value"].is_number(),
                "{t}: {kpi} has no value in {}",
                r["period"]
            );
        }
        let first = rows
            .iter()
            .filter_map(|r| r["start"].as_str())
            .min()
            .unwrap_or_default();
        assert!(first < "2026-04", "{t}: data starts {first}");
    }
}

/// The distribution template's mature-partnership KPIs, recomputed from its
/// CSV files by hand: customer lifetime value (revenue per customer × gross
/// margin ÷ churn rate) and market share growth, per quarter.
#[test]
fn lifetime_value_and_market_share_growth_match_a_hand_computation() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = yardstick(
        &[
            "init",
            "p",
            "--template",
            "partnership-distribution",
            "--end",
            "2027-03-10",
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let p = tmp.path().join("p");
    let read = |f: &str| -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(p.join("data").join(f)).expect("csv");
        text.lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    // The quarter of a time stamp, in the project's zone (Europe/London).
    let quarter = |t: &str| {
        use chrono::Datelike;
        let local = chrono::DateTime::parse_from_rfc3339(t)
            .expect("RFC 3339")
            .with_timezone(&chrono_tz::Europe::London)
            .date_naive();
        format!("{}-Q{}", local.year(), (local.month() - 1) / 3 + 1)
    };
    use std::collections::{BTreeMap, BTreeSet};
    #[derive(Default)]
    struct Q {
        revenue: f64,
        cost: f64,
        customers: BTreeSet<String>,
        churned: BTreeSet<String>,
        market: f64,
    }
    let mut qs: BTreeMap<String, Q> = BTreeMap::new();
    for r in read("partner_sales.csv") {
        let q = qs.entry(quarter(&r[1])).or_default();
        q.revenue += r[5].parse::<f64>().expect("amount");
        q.cost += r[6].parse::<f64>().expect("cost");
        q.customers.insert(r[2].clone());
    }
    for r in read("partner_churn.csv") {
        qs.entry(quarter(&r[0])).or_default().churned.insert(r[1].clone());
    }
    for r in read("market_size.csv") {
        qs.entry(quarter(&r[0])).or_default().market += r[1].parse::<f64>().expect("size");
    }
    let out = yardstick(
        &[
            "eval",
            "p",
            "--as-of",
            "2027-03-10T00:00:00Z",
            "--kpi",
            "customer_lifetime_value",
            "--kpi",
            "market_share_growth",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut checked = 0;
    let mut previous_share: Option<f64> = None;
    for (label, q) in &qs {
        let n = q.customers.len() as f64;
        let share = q.revenue / q.market;
        let clv = (q.revenue / n) * ((q.revenue - q.cost) / q.revenue) / (q.churned.len() as f64 / n);
        let growth = previous_share.map(|s| (share - s) / s);
        previous_share = Some(share);
        for (kpi, want) in [
            ("customer_lifetime_value", Some(clv)),
            ("market_share_growth", growth),
        ] {
            let row = v["evaluations"]
                .as_array()
                .expect("rows")
                .iter()
                .find(|r| r["kpi"] == kpi && r["period"] == label.as_str());
            let (Some(row), Some(want)) = (row, want) else {
                continue;
            };
            let got = row["value"].as_f64().expect("a value");
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                "{kpi} {label}: {got} vs {want}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} values compared");
}
