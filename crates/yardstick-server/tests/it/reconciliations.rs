//! Reconciliations over the API: a partner pushes its own report into the
//! source it submits (and into no other), sees its reconciliations (and no
//! others), and records resolutions that the audit log keeps.

use super::*;

const PROJECT: &str = r#"
[project]
name = "Reconcile"
timezone = "UTC"
currency = "EUR"

[source.deals]
store = true
time = "closed_at"
columns = { id = "int", closed_at = "timestamp", amount = "double" }
owner = "sales-ops"

[source.cloudco_report]
store = true
time = "booked_at"
columns = { ref = "int", booked_at = "timestamp", net = "double" }
submitted_by = "CloudCo"

[kpi.revenue]
objective = "Agree on revenue"
owner = "sales"
measure = "sum(amount)"
source = "deals"
every = "month"
target = ">= 1"

[reconcile.cloudco]
left = "deals"
right = "cloudco_report"
keys = { id = "ref" }
compare = { amount = { right = "net", abs = 0.01 } }
kpis = ["revenue"]
tolerance = "1%"
"#;

async fn post(s: &Server, token: &str, body: Value) -> (StatusCode, Value) {
    s.call(
        "POST",
        "/api/v1/reconciliations/cloudco/resolutions",
        token,
        Some(body),
    )
    .await
}

async fn until(s: &Server, path: &str, token: &str, ok: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let (st, v) = s.get(path, token).await;
        if st == StatusCode::OK && ok(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never became as expected: {:?}", s.get(path, token).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_pushes_its_report_sees_its_reconciliation_and_disputes_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("yardstick.toml"), PROJECT).expect("write");
    for url in store_urls(dir.path()).await {
        let s = Server::start(dir.path(), &url).await;
        let cloudco = s.token("editor", Some("CloudCo")).await;
        let cloudco_viewer = s.token("viewer", Some("CloudCo")).await;
        let acme = s.token("editor", Some("Acme")).await;
        let ours = "id,closed_at,amount\n1,2026-01-05T10:00:00Z,100\n2,2026-01-06T10:00:00Z,250\n3,2026-01-07T10:00:00Z,40\n";
        let (st, v) = s.push_to(&s.admin, "deals", "text/csv", ours).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        // CloudCo pushes its report: deal 3 missing, deal 2 at 200.
        let theirs = "ref,booked_at,net\n1,2026-01-05T10:00:00Z,100\n2,2026-01-06T11:00:00Z,200\n";
        let (st, v) = s.push_to(&cloudco, "cloudco_report", "text/csv", theirs).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        // ... and into no other source; a viewer token pushes nowhere.
        let (st, v) = s.push_to(&cloudco, "deals", "text/csv", ours).await;
        assert_eq!(
            (st, v["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("unknown_source")),
            "{v}"
        );
        let (st, _) = s.push_to(&acme, "cloudco_report", "text/csv", theirs).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = s
            .push_to(&cloudco_viewer, "cloudco_report", "text/csv", theirs)
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        s.settle().await;

        // CloudCo sees its reconciliation; Acme sees none.
        let (_, list) = s.get("/api/v1/reconciliations", &cloudco).await;
        let ids: Vec<&str> = list["reconciliations"]
            .as_array()
            .expect("list")
            .iter()
            .map(|r| r["id"].as_str().expect("id"))
            .collect();
        assert_eq!(ids, ["cloudco"], "{list}");
        let (_, list) = s.get("/api/v1/reconciliations", &acme).await;
        assert_eq!(list["reconciliations"], json!([]));
        let (st, e) = s.get("/api/v1/reconciliations/cloudco", &acme).await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("unknown_reconciliation"))
        );

        let v = until(
            &s,
            "/api/v1/reconciliations/cloudco?period=2026-01",
            &cloudco,
            |v| v["periods"][0]["only_left"] == 1,
        )
        .await;
        let p = &v["periods"][0];
        assert_eq!(p["matched"], 1, "{p}");
        assert_eq!(p["mismatched"]["amount"], 1);
        assert_eq!(p["standing"], "disputed", "outside the 1% tolerance");
        let k = &p["kpis"][0];
        assert_eq!(
            (k["left"].as_f64(), k["right"].as_f64()),
            (Some(390.0), Some(300.0))
        );
        let bridge: Vec<(String, f64)> = k["bridge"]
            .as_array()
            .expect("bridge")
            .iter()
            .map(|b| {
                (
                    b["cause"].as_str().expect("cause").to_string(),
                    b["amount"].as_f64().expect("amount"),
                )
            })
            .collect();
        assert_eq!(
            bridge,
            [("only_left".to_string(), 40.0), ("value".to_string(), 50.0)]
        );
        // No owner declared: the submitting party is who fixes that side.
        assert_eq!(p["right"]["owner"], "CloudCo");
        assert_eq!(p["examples"].as_array().map(Vec::len), Some(2));

        // Resolutions: a dispute needs a comment, an acceptance a side.
        let (st, e) = post(&s, &cloudco, json!({"period": "2026-01", "state": "disputed"})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
        let (st, e) = post(
            &s,
            &cloudco,
            json!({"period": "2026-01", "state": "disputed", "comment": "  "}),
        )
        .await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_request")),
            "{e}"
        );
        let (st, e) = post(
            &s,
            &cloudco,
            json!({"period": "January", "state": "disputed", "comment": "x"}),
        )
        .await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_period")),
            "{e}"
        );
        let (st, e) = post(&s, &cloudco, json!({"period": "2026-01", "state": "accepted"})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
        let (st, e) = post(
            &s,
            &cloudco,
            json!({"period": "1999-01", "state": "disputed", "comment": "x"}),
        )
        .await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("unknown_period")),
            "{e}"
        );
        let (st, _) = post(
            &s,
            &cloudco_viewer,
            json!({"period": "2026-01", "state": "disputed", "comment": "x"}),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = post(
            &s,
            &acme,
            json!({"period": "2026-01", "state": "disputed", "comment": "x"}),
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, r) = post(
            &s,
            &cloudco,
            json!({"period": "2026-01", "state": "disputed", "comment": "deal 2 was discounted to 200"}),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{r}");
        let v = until(
            &s,
            "/api/v1/reconciliations/cloudco?period=2026-01",
            &cloudco,
            |v| !v["periods"][0]["resolution"].is_null(),
        )
        .await;
        assert_eq!(
            v["periods"][0]["resolution"]["comment"],
            "deal 2 was discounted to 200"
        );
        assert_eq!(v["periods"][0]["standing"], "disputed");
        // We accept their numbers: the period is agreed.
        let (st, _) = post(
            &s,
            &s.admin,
            json!({"period": "2026-01", "state": "accepted", "side": "right", "comment": "credit note issued"}),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED);
        let v = until(
            &s,
            "/api/v1/reconciliations/cloudco?period=2026-01",
            &cloudco,
            |v| v["periods"][0]["standing"] == "agreed",
        )
        .await;
        assert_eq!(v["periods"][0]["resolutions"].as_array().map(Vec::len), Some(2));

        // The audit log names the party behind the push and the dispute.
        let (_, log) = s.get("/api/v1/audit", &s.admin).await;
        let entries = log["audit"].as_array().expect("entries");
        let by_cloudco: Vec<&str> = entries
            .iter()
            .filter(|e| e["actor"].as_str().is_some_and(|a| a.ends_with("party:CloudCo")))
            .map(|e| e["action"].as_str().expect("action"))
            .collect();
        assert_eq!(by_cloudco, ["resolve", "push"], "{log}");
    }
}
