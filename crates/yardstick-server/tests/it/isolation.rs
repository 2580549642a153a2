//! Party tokens see only what is shared with their party, on every route.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_sees_only_what_is_shared_with_it_on_every_route() {
    let dir = project_dir();
    for url in store_urls(dir.path()).await {
        let s = Server::start(dir.path(), &url).await;
        let cloudco = s.token("viewer", Some("CloudCo")).await;
        let acme = s.token("viewer", Some("Acme")).await;
        let (st, _) = s
            .push(
                &s.admin,
                "text/csv",
                None,
                "closed_at,amount,rep\n2026-01-05,60,partner\n2026-01-06,10,ann\n",
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        s.settle().await;

        let ids = |v: &Value, key: &str| -> Vec<String> {
            let mut out: Vec<String> = v[key]
                .as_array()
                .expect("list")
                .iter()
                .map(|x| x["id"].as_str().expect("id").to_string())
                .collect();
            out.sort();
            out
        };
        // CloudCo: its partnership's KPI and the KPI shared by name.
        let (_, kpis) = s.get("/api/v1/kpis", &cloudco).await;
        let mut k: Vec<&str> = kpis
            .as_array()
            .expect("kpis")
            .iter()
            .map(|x| x["id"].as_str().expect("id"))
            .collect();
        k.sort();
        assert_eq!(k, ["deals_by_rep", "partner_deals"]);
        assert_eq!(
            ids(&s.get("/api/v1/partnerships", &cloudco).await.1, "partnerships"),
            ["cloudco"]
        );
        assert!(ids(&s.get("/api/v1/contracts", &cloudco).await.1, "contracts").is_empty());
        assert_eq!(
            ids(&s.get("/api/v1/scorecards", &cloudco).await.1, "scorecards"),
            ["partner_view"]
        );
        let (_, ev) = s.get("/api/v1/evaluations", &cloudco).await;
        let seen: std::collections::BTreeSet<&str> = ev["evaluations"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["kpi"].as_str().expect("kpi"))
            .collect();
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            ["deals_by_rep", "partner_deals"]
        );
        let (_, m) = s.get("/metrics", &cloudco).await;
        let m = m.as_str().expect("text");
        assert!(
            m.contains("kpi=\"partner_deals\"")
                && !m.contains("kpi=\"revenue\"")
                && !m.contains("kpi=\"uptime\""),
            "{m}"
        );

        // Everything else answers 404, exactly like an id that does not exist.
        for path in [
            "/api/v1/kpis/revenue",
            "/api/v1/kpis/uptime",
            "/api/v1/evaluations?kpi=revenue",
            "/api/v1/evaluations?kpi=partner_deals,uptime",
            "/api/v1/restatements?kpi=revenue",
            "/api/v1/evaluations?kpi=revenue&as_reported=2030-01-01",
            "/api/v1/contracts/hosting/clauses",
            "/api/v1/scorecards/company",
            "/api/v1/kpis/no_such_kpi",
            "/api/v1/kpis/revenue/forecast",
        ] {
            let (st, e) = s.get(path, &cloudco).await;
            // Restatements filter rather than fail; the others are 404.
            if path.starts_with("/api/v1/restatements") {
                assert_eq!(st, StatusCode::OK, "{path}");
                assert!(e["restatements"].as_array().expect("list").is_empty());
            } else {
                // The code names the kind of id, as for one that does not exist.
                assert_eq!(st, StatusCode::NOT_FOUND, "{path}: {e}");
                assert!(
                    e["code"].as_str().is_some_and(|c| c.starts_with("unknown_")),
                    "{path}: {e}"
                );
            }
        }
        let (_, missing) = s.get("/api/v1/kpis/no_such_kpi", &cloudco).await;
        let (_, hidden) = s.get("/api/v1/kpis/revenue", &cloudco).await;
        assert_eq!(
            missing["message"].as_str().map(|m| m.replace("no_such_kpi", "X")),
            hidden["message"].as_str().map(|m| m.replace("revenue", "X"))
        );
        // Forecasts of shared KPIs: one per rep, periods after the last complete one.
        let (st, fc) = s
            .get("/api/v1/kpis/deals_by_rep/forecast?horizon=2", &cloudco)
            .await;
        assert_eq!(st, StatusCode::OK, "{fc}");
        let list = fc["forecasts"].as_array().expect("forecasts");
        assert_eq!(list.len(), 2, "{fc}");
        assert!(
            list.iter()
                .all(|f| f["points"].as_array().map(Vec::len) == Some(2)),
            "{fc}"
        );
        let (st, e) = s
            .get("/api/v1/kpis/deals_by_rep/forecast?horizon=0", &cloudco)
            .await;
        assert_eq!(
            (st, e["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_request")),
            "{e}"
        );
        // Party tokens neither push nor manage tokens.
        assert_eq!(s.get("/api/v1/tokens", &cloudco).await.0, StatusCode::FORBIDDEN);

        // Acme, the client of the hosting contract: the contract and its KPI.
        assert_eq!(
            ids(&s.get("/api/v1/contracts", &acme).await.1, "contracts"),
            ["hosting"]
        );
        let (st, c) = s
            .get("/api/v1/contracts/hosting/clauses?from=2026-01&to=2026-01", &acme)
            .await;
        assert_eq!(st, StatusCode::OK, "{c}");
        let rows = c["clauses"].as_array().expect("clauses");
        assert_eq!(rows.len(), 1, "{c}");
        // 12 h down in January (744 h): 98.39%, below 99%: 10% of EUR 1000.
        assert_eq!(rows[0]["credit_amount"].as_f64(), Some(100.0), "{c}");
        assert_eq!(s.get("/api/v1/kpis/uptime", &acme).await.0, StatusCode::OK);
        assert_eq!(
            s.get("/api/v1/partnerships/cloudco", &acme).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            s.get("/api/v1/kpis/deals_by_rep", &acme).await.0,
            StatusCode::NOT_FOUND
        );
        // The organisation sees everything.
        assert_eq!(
            s.get("/api/v1/partnerships/cloudco", &s.admin).await.0,
            StatusCode::OK
        );
        assert_eq!(
            s.get("/api/v1/scorecards/company", &s.admin).await.0,
            StatusCode::OK
        );
    }
}
