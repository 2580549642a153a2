//! Pushing rows: validated, committed once, evaluated.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_are_validated_committed_once_and_evaluated() {
    let dir = project_dir();
    for url in store_urls(dir.path()).await {
        let s = Server::start(dir.path(), &url).await;
        let editor = s.token("editor", None).await;
        let viewer = s.token("viewer", None).await;

        // Health needs no token; everything else does.
        let (st, h) = s.get("/api/v1/health", "").await;
        assert_eq!((st, h["status"].as_str()), (StatusCode::OK, Some("ok")), "{h}");
        let (st, e) = s.get("/api/v1/kpis", "").await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("missing_token"))
        );
        assert!(e["message"].as_str().expect("message").contains("Bearer"));
        let (st, e) = s.get("/api/v1/kpis", "ys_nope").await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_token"))
        );

        // A viewer cannot push.
        let (st, e) = s.push(&viewer, "application/json", None, "[]").await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden"))
        );
        assert_eq!(
            e["message"],
            "this needs an editor token; yours is a viewer token"
        );

        // JSON, then CSV.
        let (st, r) = s
            .push(
                &editor,
                "application/json",
                Some("k1"),
                r#"[{"closed_at": "2026-01-05 10:00", "amount": 60, "rep": "ann"},
                    {"closed_at": "2026-01-31T23:30:00+01:00", "amount": 50, "rep": "partner"}]"#,
            )
            .await;
        assert_eq!(
            (st, r["rows"].as_i64(), r["replayed"].as_bool()),
            (StatusCode::CREATED, Some(2), Some(false)),
            "{r}"
        );
        let (st, r2) = s
            .push(
                &editor,
                "application/json; charset=utf-8",
                Some("k1"),
                r#"[{"closed_at": "2026-01-05 10:00", "amount": 60, "rep": "ann"},
                    {"closed_at": "2026-01-31T23:30:00+01:00", "amount": 50, "rep": "partner"}]"#,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{r2}");
        assert_eq!(
            (r2["batch"].clone(), r2["replayed"].as_bool()),
            (r["batch"].clone(), Some(true))
        );
        let (st, e) = s
            .push(
                &editor,
                "application/json",
                Some("k1"),
                r#"[{"closed_at": "2026-01-06", "amount": 1}]"#,
            )
            .await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("conflict")),
            "{e}"
        );
        let (st, _) = s
            .push(
                &editor,
                "text/csv",
                None,
                "closed_at,amount,rep\n2026-02-01 00:30,7,bob\n",
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);

        // A bad batch: every bad row listed, nothing stored.
        let (st, e) = s
            .push(
                &editor,
                "application/x-ndjson",
                None,
                "{\"closed_at\": \"2026-02-02\", \"amount\": 1}\n{\"closed_at\": \"soon\", \"amount\": \"x\"}\n{\"amount\": 2}\n",
            )
            .await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_rows")),
            "{e}"
        );
        let bad: Vec<(i64, String)> = e["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|x| {
                (
                    x["row"].as_i64().expect("row"),
                    x["column"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        assert_eq!(
            bad,
            [
                (2, "closed_at".into()),
                (2, "amount".into()),
                (3, "closed_at".into())
            ]
        );
        let (st, e) = s.push(&editor, "text/plain", None, "x").await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_media_type"))
        );

        // Evaluated: January = 60 + 50 (23:30 CET is still January), February = 7.
        s.settle().await;
        let (st, ev) = s
            .get("/api/v1/evaluations?kpi=revenue&from=2026-01&to=2026-02", &viewer)
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(value_of(&ev, "revenue", "2026-01"), Some(110.0), "{ev}");
        assert_eq!(value_of(&ev, "revenue", "2026-02"), Some(7.0));
        let periods: Vec<&str> = ev["evaluations"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["period"].as_str().expect("period"))
            .collect();
        assert_eq!(periods, ["2026-01", "2026-02"]);
        let (_, ev) = s
            .get("/api/v1/evaluations?kpi=deals_by_rep&entity=rep=ann", &viewer)
            .await;
        assert!(
            ev["evaluations"]
                .as_array()
                .expect("rows")
                .iter()
                .all(|r| r["entity"]["rep"] == "ann")
        );
        let (st, e) = s.get("/api/v1/evaluations?from=yesterday", &viewer).await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_time"))
        );

        // Every write is audited; the audit log is for admins.
        let (st, a) = s.get("/api/v1/audit", &s.admin).await;
        assert_eq!(st, StatusCode::OK);
        let pushes = a["audit"]
            .as_array()
            .expect("audit")
            .iter()
            .filter(|e| e["action"] == "push")
            .count();
        assert_eq!(pushes, 2);
        assert_eq!(s.get("/api/v1/audit", &editor).await.0, StatusCode::FORBIDDEN);
    }
}
