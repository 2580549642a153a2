//! The API and a CLI evaluation agree at one instant.

use super::*;

/// The demo with signups pushed over the last months: the API's rows at
/// the snapshot's instant equal the engine's at that instant, every field,
/// whether all KPIs or one are evaluated (the CLI's `eval --kpi` path).
#[tokio::test(flavor = "multi_thread")]
async fn the_api_and_a_cli_evaluation_agree_at_one_instant() {
    let dir = tempfile::tempdir().expect("temp dir");
    let today = chrono::Utc::now().date_naive();
    yardstick_scaffold::write_project(dir.path(), &yardstick_scaffold::demo(7, today)).expect("demo");
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let server = Server::start(dir.path(), &url).await;
    // Signups over the last five months, and some this month.
    let mut csv = String::from("at,plan\n");
    for days_ago in (0..150).step_by(2) {
        let at = chrono::Utc::now() - chrono::Duration::days(days_ago) - chrono::Duration::minutes(5);
        let plan = if days_ago % 3 == 0 { "pro" } else { "team" };
        csv.push_str(&format!(
            "{},{plan}\n",
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    let (s, v) = server.push_to(&server.admin, "signups", "text/csv", &csv).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    server.settle().await;
    let (s, api) = server.get("/api/v1/evaluations", &server.admin).await;
    assert_eq!(s, StatusCode::OK, "{api}");
    let as_of = chrono::DateTime::parse_from_rfc3339(api["as_of"].as_str().expect("as_of"))
        .expect("instant")
        .with_timezone(&chrono::Utc);
    // The CLI's way in: the workspace, opened on the same folder and store.
    let ws = yardstick_workspace::Workspace::open(dir.path(), Some(&url))
        .await
        .expect("opens");
    for kpis in [Vec::new(), vec!["trial_signups".to_string()]] {
        let opts = yardstick_engine::eval::EvalOptions {
            as_of,
            from: None,
            to: None,
            kpis: kpis.clone(),
            by: None,
            projections: true,
        };
        let (ev, d) = ws.evaluate(&opts).await.expect("evaluates");
        assert!(!d.has_errors(), "{d:?}");
        let engine = serde_json::to_value(&ev.evaluations).expect("json");
        let engine = engine.as_array().expect("rows");
        let api_rows: Vec<&Value> = api["evaluations"]
            .as_array()
            .expect("rows")
            .iter()
            .filter(|r| kpis.is_empty() || kpis.iter().any(|k| r["kpi"] == json!(k)))
            .collect();
        assert_eq!(api_rows.len(), engine.len(), "selection {kpis:?}");
        for (a, e) in api_rows.iter().zip(engine) {
            assert!(same(a, e), "selection {kpis:?}:\n{a}\n{e}");
        }
        let open = engine
            .iter()
            .find(|r| r["kpi"] == "trial_signups" && r["complete"] == false)
            .expect("the month in progress");
        assert!(
            open["projection"]["low"].is_number(),
            "a range from history: {open}"
        );
    }
}

/// Equal JSON, numbers to 1e-12 (JSON text parsed back may differ in the
/// last bit).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
