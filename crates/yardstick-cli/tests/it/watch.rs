//! Stale sources, forecasts and alert rules from the command line.

use super::*;

#[test]
fn eval_reports_stale_sources_naming_their_owner() {
    let seed = seed_dir();
    // At the oracle's instant every source is fresh: the output is §7's object only.
    let out = yardstick(
        &["eval", "--as-of", "2026-10-01T12:00:00Z", "--format", "json"],
        &seed,
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v.get("stale").is_none(), "{:?}", v.get("stale"));
    // Four days later the orders (freshness 1d, newest row 2026-09-30T21:40Z) are stale.
    let out = yardstick(&["eval", "--as-of", "2026-10-05", "--format", "json"], &seed);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let stale = v["stale"].as_array().expect("stale list");
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(
        (&stale[0]["source"], &stale[0]["owner"], &stale[0]["newest"]),
        (
            &Value::from("orders"),
            &Value::from("sales-ops"),
            &Value::from("2026-09-30T21:40:00Z")
        )
    );
    // People reading a table get a warning on standard error.
    let out = yardstick(&["eval", "--as-of", "2026-10-05", "--kpi", "revenue"], &seed);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: source `orders` is stale") && err.contains("owner: sales-ops"),
        "{err}"
    );
}

#[test]
fn check_lists_stale_data_apart_from_diagnostics() {
    let seed = seed_dir();
    let out = yardstick(
        &["check", ".", "--as-of", "2026-10-05", "--format", "json"],
        &seed,
    );
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["warnings"], 0, "stale data is not a definition warning");
    let stale = v["stale"].as_array().expect("stale list");
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(
        (&stale[0]["source"], &stale[0]["owner"]),
        (&Value::from("orders"), &Value::from("sales-ops"))
    );
    let out = yardstick(
        &[
            "check",
            ".",
            "--as-of",
            "2026-10-01T12:00:00Z",
            "--format",
            "json",
        ],
        &seed,
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v.get("stale").is_none(), "{v}");
    let out = yardstick(&["check", ".", "--as-of", "2026-10-05"], &seed);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("stale data: source `orders` is stale"), "{text}");
}

#[test]
fn forecast_gives_every_entity_its_next_periods() {
    let seed = seed_dir();
    let out = yardstick(
        &[
            "forecast",
            "conversion_rate",
            "--horizon",
            "2",
            "--as-of",
            "2026-10-01",
            "--format",
            "json",
        ],
        &seed,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let fc = v["forecasts"].as_array().expect("forecasts");
    assert!(fc.len() >= 2, "one per salesperson: {v}");
    for f in fc {
        assert!(f["entity"]["salesperson"].is_string(), "{f}");
        assert!(f["model"].is_string());
        let points = f["points"].as_array().expect("points");
        let periods: Vec<&str> = points.iter().filter_map(|p| p["period"].as_str()).collect();
        // The last complete month before 2026-10-01 is September.
        assert_eq!(periods, ["2026-10", "2026-11"], "{f}");
        for p in points {
            assert!(p["value"].is_number(), "{p}");
        }
    }
    // One entity only.
    let name = fc[0]["entity"]["salesperson"].as_str().expect("name").to_string();
    let out = yardstick(
        &[
            "forecast",
            "conversion_rate",
            "--entity",
            &format!("salesperson={name}"),
            "--as-of",
            "2026-10-01",
            "--format",
            "json",
        ],
        &seed,
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["forecasts"].as_array().map(Vec::len), Some(1));
    // Mistakes are said before any data is read.
    let out = yardstick(&["forecast", "revenu"], &seed);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no KPI `revenu`") && err.contains("did you mean `revenue`"),
        "{err}"
    );
    let out = yardstick(&["forecast", "revenue", "--entity", "region=north"], &seed);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not evaluated per `region`"));
}

#[test]
fn alerts_lists_rules_firing_and_ok() {
    let tmp = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(seed_dir()).expect("seed") {
        let entry = entry.expect("entry");
        let to = tmp.path().join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&to).expect("mkdir");
            for f in std::fs::read_dir(entry.path()).expect("dir") {
                let f = f.expect("file");
                std::fs::copy(f.path(), to.join(f.file_name())).expect("copy");
            }
        } else {
            std::fs::copy(entry.path(), &to).expect("copy");
        }
    }
    let mut toml = std::fs::read_to_string(tmp.path().join("yardstick.toml")).expect("read");
    toml.push_str(
        r#"
[alert.orders_stale]
source = "orders"
when = "stale"

[alert.revenue_missed]
kpi = "revenue"
when = "status"
statuses = ["missed", "warning"]
"#,
    );
    std::fs::write(tmp.path().join("yardstick.toml"), toml).expect("write");
    let out = yardstick(
        &["alerts", ".", "--as-of", "2026-10-05", "--format", "json"],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let alerts = v["alerts"].as_array().expect("alerts");
    let stale = alerts
        .iter()
        .find(|a| a["alert"] == "orders_stale")
        .expect("stale rule");
    assert_eq!(stale["state"], "firing", "{v}");
    assert!(stale["summary"].as_str().is_some_and(|s| s.contains("sales-ops")));
    assert!(alerts.iter().any(|a| a["alert"] == "revenue_missed"), "{v}");
    // Fresh at the oracle's instant.
    let out = yardstick(
        &[
            "alerts",
            ".",
            "--as-of",
            "2026-10-01T12:00:00Z",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let stale = v["alerts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["alert"] == "orders_stale").cloned());
    assert_eq!(stale.map(|s| s["state"].clone()), Some(Value::from("ok")));
    // A misspelt rule is a located error.
    let toml = std::fs::read_to_string(tmp.path().join("yardstick.toml")).expect("read");
    std::fs::write(
        tmp.path().join("yardstick.toml"),
        toml.replace("when = \"stale\"", "when = \"stael\""),
    )
    .expect("write");
    let (code, json) = check_json(tmp.path());
    assert_eq!(code, 1);
    assert!(json.to_string().contains("stael"), "{json}");
}
