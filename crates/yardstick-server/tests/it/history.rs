//! Evaluation history, restatements, and broken definitions that keep the last good version.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_answers_as_reported_and_lists_restatements() {
    let dir = project_dir();
    for url in store_urls(dir.path()).await {
        let s = Server::start(dir.path(), &url).await;
        s.push(
            &s.admin,
            "text/csv",
            None,
            "closed_at,amount,rep\n2026-01-05,60,ann\n",
        )
        .await;
        s.settle().await;
        let before_late = chrono::Utc::now();
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Late data for an ended month.
        s.push(
            &s.admin,
            "text/csv",
            None,
            "closed_at,amount,rep\n2026-01-20,40,bob\n",
        )
        .await;
        s.settle().await;
        let (_, now) = s
            .get(
                "/api/v1/evaluations?kpi=revenue&from=2026-01&to=2026-01",
                &s.admin,
            )
            .await;
        assert_eq!(value_of(&now, "revenue", "2026-01"), Some(100.0));
        let t = before_late.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let (st, then) = s
            .get(
                &format!(
                    "/api/v1/evaluations?kpi=revenue&as_reported={}",
                    t.replace('+', "%2B")
                ),
                &s.admin,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{then}");
        assert_eq!(value_of(&then, "revenue", "2026-01"), Some(60.0), "{then}");
        let (_, r) = s.get("/api/v1/restatements?kpi=revenue", &s.admin).await;
        let r = r["restatements"].as_array().expect("list");
        // Reported at start without deals (no data), then 60, then 100.
        let changes: Vec<(Option<&str>, Option<f64>, Option<f64>)> = r
            .iter()
            .map(|x| (x["period"].as_str(), x["before"].as_f64(), x["after"].as_f64()))
            .collect();
        assert_eq!(
            changes,
            [
                (Some("2026-01"), None, Some(60.0)),
                (Some("2026-01"), Some(60.0), Some(100.0))
            ]
        );
        assert_eq!(
            (r[1]["before_status"].as_str(), r[1]["after_status"].as_str()),
            (Some("missed"), Some("met"))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_definition_keeps_the_last_good_version_until_fixed() {
    let dir = project_dir();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    let toml = dir.path().join("yardstick.toml");
    std::fs::write(
        &toml,
        PROJECT.replace("target = \">= 100\"", "target = \">== 100\""),
    )
    .expect("write");
    let mut degraded = Value::Null;
    for _ in 0..100 {
        degraded = s.get("/api/v1/health", "").await.1;
        if degraded["status"] == "degraded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(degraded["status"], "degraded", "{degraded}");
    let err = degraded["definition_errors"][0].as_str().expect("error");
    assert!(
        err.starts_with("yardstick.toml:") && err.contains("bad-target"),
        "{err}"
    );
    // Still served from the last good definitions.
    assert_eq!(s.get("/api/v1/kpis/revenue", &s.admin).await.0, StatusCode::OK);
    // A fix (with a new KPI) is picked up.
    std::fs::write(
        &toml,
        format!("{PROJECT}\n[kpi.more]\nmeasure = \"count(*)\"\nsource = \"deals\"\nevery = \"month\"\n"),
    )
    .expect("write");
    let mut ok = false;
    for _ in 0..100 {
        if s.get("/api/v1/health", "").await.1["status"] == "ok"
            && s.get("/api/v1/kpis/more", &s.admin).await.0 == StatusCode::OK
        {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "the fixed definitions were not picked up");
}
