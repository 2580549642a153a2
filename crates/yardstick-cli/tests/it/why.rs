//! `yardstick why` and `yardstick action` on the demo: the collapsed month
//! is explained by the partner and region that collapsed, and an action on
//! it is recorded, judged before and after, and closed once — in the
//! project's SQLite store and in PostgreSQL when one is configured.

use serde_json::{Value, json};

use super::yardstick;

fn json_of(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn why_names_the_collapse_and_actions_judge_it_on_every_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = yardstick(&["demo", ".", "--no-serve", "--end", "2026-12-02"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let at = ["--as-of", "2026-12-02T00:00:00Z"];
    // The demo at this end collapses CloudCo's EU business in 2026-04.
    let w = json_of(&yardstick(
        &["why", "revenue", "2026-04", "--format", "json", at[0], at[1]],
        dir.path(),
    ));
    assert_eq!(
        w["causes"][0]["elements"],
        json!({"partner": "CloudCo", "region": "EU"}),
        "{w}"
    );
    assert_eq!(w["causes"][0]["root"], json!(true));
    assert_eq!(w["causes"][0]["value"], json!(0.0));
    // eval says the same value, and that the month missed its target.
    let ev = json_of(&yardstick(
        &["eval", "--kpi", "revenue", "--format", "json", at[0], at[1]],
        dir.path(),
    ));
    let row = ev["evaluations"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["period"] == json!("2026-04"))
        .cloned()
        .expect("2026-04");
    assert!((row["value"].as_f64().unwrap_or_default() - w["value"].as_f64().unwrap_or(-1.0)).abs() < 1e-6);
    assert_ne!(row["status"], json!("met"));
    // Against the baseline, the reference is eval's baseline; against a
    // forecast, a value from the months before; each adds up to its gap.
    for vs in ["target", "baseline", "forecast", "year_ago"] {
        let x = json_of(&yardstick(
            &[
                "why", "revenue", "2026-04", "--vs", vs, "--format", "json", "--depth", "1", "--top", "100",
                at[0], at[1],
            ],
            dir.path(),
        ));
        match vs {
            "target" => assert_eq!(
                x["reference"].as_f64().map(|r| (r - 60_000.0).abs() < 1e-6),
                Some(true),
                "{x}"
            ),
            "baseline" => {
                let b = row["baseline"].as_f64().expect("baseline");
                assert!(
                    (x["reference"].as_f64().unwrap_or_default() - b).abs() < 1e-6,
                    "{x}"
                );
            }
            _ => assert!(x["reference"].is_number(), "{vs}: {x}"),
        }
        let regions: f64 = x["causes"]
            .as_array()
            .expect("causes")
            .iter()
            .filter(|c| c["elements"].get("region").is_some())
            .map(|c| c["contribution"].as_f64().unwrap_or_default())
            .sum();
        assert!(
            (regions - x["gap"].as_f64().unwrap_or_default()).abs() < 1e-6,
            "{vs}: {regions} vs {x}"
        );
    }
    // A form that cannot be split says so, exit 1 (the project's problem).
    let out = yardstick(&["why", "new_clients", "2026-04", at[0], at[1]], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be split"));

    let mut stores: Vec<Option<String>> = vec![None];
    if let Some(admin) = yardstick_store::testing::postgres_url() {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        stores.push(Some(
            rt.block_on(yardstick_store::testing::fresh_postgres(&admin))
                .expect("database"),
        ));
    }
    for db in stores {
        let with_db = |args: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = args.iter().map(ToString::to_string).collect();
            if let Some(url) = &db {
                v.push("--db".into());
                v.push(url.clone());
            }
            v
        };
        let run = |args: &[&str]| {
            let a = with_db(args);
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            yardstick(&refs, dir.path())
        };
        let added = json_of(&run(&[
            "action",
            "add",
            "revenue",
            "2026-04",
            "--cause",
            "partner=CloudCo,region=EU",
            "--title",
            "Call CloudCo's EU desk",
            "--owner",
            "partner-manager",
            "--due",
            "2026-05-15",
            "--judge",
            "2026-05..2026-06",
            "--format",
            "json",
        ]));
        let a = &added[0];
        assert_eq!(
            a["cause"],
            json!({"partner": "CloudCo", "region": "EU"}),
            "{db:?}: {added}"
        );
        let e = &a["effect"];
        assert_eq!(e["miss"]["segment"], json!(0.0));
        assert!(e["before_miss"]["segment"].as_f64().is_some_and(|v| v > 0.0));
        assert_eq!(e["after"].as_array().map(Vec::len), Some(2));
        assert_eq!(e["segment"], json!("recovered"), "{added}");
        // A cause with no rows is refused and nothing is stored.
        let out = run(&[
            "action",
            "add",
            "revenue",
            "2026-04",
            "--cause",
            "partner=Nobody",
            "--title",
            "x",
            "--owner",
            "y",
            "--due",
            "2026-05-01",
        ]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listed = json_of(&run(&["action", "list", "--format", "json", at[0], at[1]]));
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
        let id = a["id"].as_i64().expect("id").to_string();
        let text = run(&["action", "list", at[0], at[1]]);
        let text = String::from_utf8_lossy(&text.stdout).to_string();
        assert!(
            text.contains("partner=CloudCo ∧ region=EU: 2026-03") && text.contains("recovered"),
            "{text}"
        );
        let closed = json_of(&run(&[
            "action",
            "close",
            &id,
            "--outcome",
            "orders back",
            "--format",
            "json",
        ]));
        assert_eq!(closed["outcome"], json!("orders back"));
        let again = run(&["action", "close", &id, "--outcome", "again"]);
        assert_eq!(again.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&again.stderr).contains("closed already"));
    }
}

/// The month of the demo without CloudCo's EU orders (the collapse).
fn collapsed_month(dir: &std::path::Path) -> String {
    let orders = std::fs::read_to_string(dir.join("data/orders.csv")).expect("orders");
    let empty = yardstick_scaffold::months_without_the_collapse(&orders);
    assert_eq!(empty.len(), 1, "{empty:?}");
    empty[0].clone()
}

#[test]
fn the_demo_story_holds_where_the_collapse_is_near_half_of_revenue() {
    // On these days CloudCo's EU business was near half of the month
    // before's revenue and a few other leaves fell part of the way: the
    // leaves' median lies among them, and read against that median as
    // normal, the causes named were segments that rose (each day fails so).
    for end in ["2026-02-03", "2026-05-01", "2026-10-01", "2026-11-05"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = yardstick(&["demo", ".", "--no-serve", "--end", end], dir.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let month = collapsed_month(dir.path());
        let at = format!("{end}T00:00:00Z");
        let w = json_of(&yardstick(
            &["why", "revenue", &month, "--format", "json", "--as-of", &at],
            dir.path(),
        ));
        assert_eq!(
            w["causes"][0]["elements"],
            json!({"partner": "CloudCo", "region": "EU"}),
            "{end}: {w}"
        );
        assert_eq!(w["causes"][0]["root"], json!(true), "{end}: {w}");
        assert!(w["value"].as_f64().is_some_and(|v| v < 60_000.0), "{end}: {w}");
    }
}

#[test]
fn the_demo_story_holds_where_new_customers_make_up_the_rest_of_the_region() {
    // On this day the rest of the EU's old leaves (a direct enterprise
    // order) emptied while a new one (Bytewise pro) sold nearly as much:
    // the rest of the EU fell 6% taken whole. Read as having fallen with
    // the collapse, `region=EU` was named (it fails so without the rule
    // that a rest taken whole must move half as far as its old leaves).
    let end = "2026-03-05";
    let dir = tempfile::tempdir().expect("temp dir");
    let out = yardstick(&["demo", ".", "--no-serve", "--end", end], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let month = collapsed_month(dir.path());
    let w = json_of(&yardstick(
        &[
            "why",
            "revenue",
            &month,
            "--format",
            "json",
            "--as-of",
            "2026-03-05T00:00:00Z",
        ],
        dir.path(),
    ));
    assert_eq!(
        w["causes"][0]["elements"],
        json!({"partner": "CloudCo", "region": "EU"}),
        "{w}"
    );
}
