//! The API over real HTTP (and once through `oneshot`), against SQLite and,
//! when `YARDSTICK_TEST_POSTGRES` is set, a real PostgreSQL server.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use yardstick_server::{AppState, ServeOptions};
use yardstick_store::{Role, Store, testing};

const PROJECT: &str = r#"
[project]
name = "Isolation"
timezone = "Europe/Berlin"
currency = "EUR"

[source.deals]
store = true
time = "closed_at"
columns = { closed_at = "timestamp", amount = "double", rep = "string" }

[source.incidents]
path = "data/incidents.csv"
start = "started_at"
end = "ended_at"

[kpi.revenue]
name = "Revenue"
objective = "Grow revenue"
owner = "sales"
measure = "sum(amount)"
source = "deals"
every = "month"
target = ">= 100"

[kpi.deals_by_rep]
objective = "Every rep closes"
owner = "sales"
measure = "count(*)"
source = "deals"
for_each = "rep"
every = "month"
target = ">= 1"
parties = ["CloudCo"]

[kpi.partner_deals]
objective = "Deals through the partner"
owner = "partners"
measure = "count(*)"
source = "deals"
filter = "rep = 'partner'"
every = "month"
target = ">= 1"

[kpi.uptime]
objective = "Keep the platform up"
owner = "sre"
availability = { down = "incidents" }
every = "month"
unit = "%"
target = ">= 99%"

[contract.hosting]
provider = "Us"
client = "Acme"
fee = { amount = 1000, every = "month" }

[[contract.hosting.clause]]
id = "uptime"
kpi = "uptime"
remedies = [{ credit = "10%" }]

[partnership.cloudco]
kind = "distribution"
partners = ["Us", "CloudCo"]
kpis = ["partner_deals"]
review_every = "quarter"

[scorecard.company]
weights = { revenue = 1, uptime = 1 }

[scorecard.partner_view]
weights = { partner_deals = 1, deals_by_rep = 1 }
"#;

const INCIDENTS: &str = "started_at,ended_at\n2026-01-10 10:00,2026-01-10 22:00\n";

fn project_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("yardstick.toml"), PROJECT).expect("write");
    std::fs::create_dir_all(dir.path().join("data")).expect("mkdir");
    std::fs::write(dir.path().join("data/incidents.csv"), INCIDENTS).expect("write");
    dir
}

async fn store_urls(dir: &Path) -> Vec<String> {
    let mut urls = vec![yardstick_store::default_url(dir).expect("url")];
    if let Some(admin) = testing::postgres_url() {
        urls.push(testing::fresh_postgres(&admin).await.expect("fresh database"));
    }
    urls
}

struct Server {
    base: String,
    admin: String,
    state: AppState,
    http: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    async fn start(dir: &Path, url: &str) -> Server {
        let store = Store::open(url).await.expect("store opens");
        let (_, admin) = store
            .create_token(Role::Admin, None, "test")
            .await
            .expect("token");
        let state = AppState::start(dir, store).await.expect("starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let s2 = state.clone();
        tokio::spawn(async move {
            let _ = yardstick_server::serve(s2, listener, &ServeOptions::default()).await;
        });
        Server {
            base: format!("http://{addr}"),
            admin,
            state,
            http: reqwest::Client::new(),
            _dir: None,
        }
    }

    async fn token(&self, role: &str, party: Option<&str>) -> String {
        let (s, v) = self
            .call(
                "POST",
                "/api/v1/tokens",
                &self.admin,
                Some(json!({"role": role, "party": party})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["token"].as_str().expect("secret").to_string()
    }

    async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method.parse().expect("method"), format!("{}{path}", self.base));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call("GET", path, token, None).await
    }

    async fn push_to(&self, token: &str, source: &str, ct: &str, body: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .post(format!("{}/api/v1/sources/{source}/rows", self.base))
            .bearer_auth(token)
            .header("content-type", ct)
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = res.status();
        (status, res.json().await.expect("json"))
    }

    async fn push(&self, token: &str, ct: &str, key: Option<&str>, body: &str) -> (StatusCode, Value) {
        let mut req = self
            .http
            .post(format!("{}/api/v1/sources/deals/rows", self.base))
            .bearer_auth(token)
            .header("content-type", ct)
            .body(body.to_string());
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        (status, res.json().await.expect("json"))
    }

    /// Waits until every pushed row is evaluated.
    async fn settle(&self) {
        let seq = self.state.store().latest_seq().await.expect("seq");
        assert!(
            self.state.wait_for_batch(seq, Duration::from_secs(20)).await,
            "batch {seq} not evaluated"
        );
    }
}

fn value_of(evals: &Value, kpi: &str, period: &str) -> Option<f64> {
    evals["evaluations"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["kpi"] == kpi && r["period"] == period && r["entity"].is_null())
        .and_then(|r| r["value"].as_f64())
}

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
            (StatusCode::BAD_REQUEST, Some("bad_request"))
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
                assert_eq!(
                    (st, e["code"].as_str()),
                    (StatusCode::NOT_FOUND, Some("not_found")),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_metrics_and_tokens() {
    let dir = project_dir();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    let (st, doc) = s.get("/api/v1/openapi.json", &s.admin).await;
    assert_eq!(st, StatusCode::OK);
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    for p in [
        "/api/v1/health",
        "/api/v1/evaluations",
        "/api/v1/sources/{id}/rows",
        "/metrics",
        "/api/v1/contracts/{id}/clauses",
        "/api/v1/events",
        "/api/v1/kpis/{id}/explain",
        "/api/v1/kpis/{id}/breakdown",
        "/api/v1/kpis/{id}/forecast",
        "/api/v1/alerts",
    ] {
        assert!(
            doc["paths"].get(p).is_some(),
            "{p} missing from the OpenAPI document"
        );
    }
    let (st, m) = s.get("/metrics", &s.admin).await;
    assert_eq!(st, StatusCode::OK);
    let m = m.as_str().expect("text");
    assert!(m.contains("# TYPE yardstick_kpi_value gauge"));
    assert!(
        m.contains("yardstick_kpi_target{kpi=\"uptime\",op=\">=\"} 0.99"),
        "{m}"
    );
    // The latest complete month has no incident (January's is long past).
    let uptime = m
        .lines()
        .find(|l| l.starts_with("yardstick_kpi_value{kpi=\"uptime\","))
        .expect("an uptime value");
    assert!(uptime.ends_with(" 1") && !uptime.contains("2026-01"), "{uptime}");
    assert!(m.contains("yardstick_kpi_status{kpi=\"uptime\","), "{m}");
    assert!(m.lines().any(|l| l.starts_with("yardstick_kpi_status{kpi=\"uptime\",") && l.contains("status=\"met\"} 1")), "{m}");

    // Tokens: created by an admin, listed without secrets, revoked.
    let (st, t) = s
        .call(
            "POST",
            "/api/v1/tokens",
            &s.admin,
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let secret = t["token"].as_str().expect("secret").to_string();
    assert_eq!(s.get("/api/v1/kpis", &secret).await.0, StatusCode::OK);
    let (_, list) = s.get("/api/v1/tokens", &s.admin).await;
    assert!(!list.to_string().contains(&secret));
    let (st, e) = s
        .call("POST", "/api/v1/tokens", &s.admin, Some(json!({"role": "boss"})))
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    let id = t["id"].as_str().expect("id");
    assert_eq!(
        s.call("DELETE", &format!("/api/v1/tokens/{id}"), &s.admin, None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(s.get("/api/v1/kpis", &secret).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(s.get("/api/v1/nowhere", &s.admin).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_answers_without_a_socket() {
    use tower::ServiceExt;
    let dir = project_dir();
    let store = Store::open(&yardstick_store::default_url(dir.path()).expect("url"))
        .await
        .expect("store");
    let state = AppState::start(dir.path(), store).await.expect("starts");
    // A body over the limit is refused before it is read, in our JSON.
    let res = yardstick_server::api::app_with(state.clone(), Duration::from_secs(5), 100)
        .oneshot(
            axum::http::Request::post("/api/v1/sources/deals/rows")
                .header("content-type", "text/csv")
                .header("content-length", "1000")
                .body(axum::body::Body::from(vec![b'x'; 1000]))
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(res.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
    let body = axum::body::to_bytes(res.into_body(), 10_000).await.expect("body");
    let v: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(v["code"], "payload_too_large");
    let res = yardstick_server::app(state)
        .oneshot(
            axum::http::Request::get("/api/v1/health")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(res.status(), axum::http::StatusCode::OK);
}

// ------------------------------------------------------------------ dashboard

/// A headless Chromium driven through chromedriver (WebDriver), or `None`
/// after saying loudly that the browser tests are skipped.
struct Browser {
    client: fantoccini::Client,
    driver: std::process::Child,
}

impl Browser {
    async fn start() -> Option<Browser> {
        let (chromium, driver) = ("/usr/bin/chromium", "/usr/bin/chromedriver");
        if !Path::new(chromium).exists() || !Path::new(driver).exists() {
            eprintln!(
                "\n!!! SKIPPED: the dashboard tests need {chromium} and {driver} (apt-get install chromium chromium-driver) !!!\n"
            );
            return None;
        }
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("addr").port()
        };
        let child = std::process::Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("profile dir").keep();
        let caps: serde_json::Map<String, Value> = serde_json::from_value(json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                         format!("--user-data-dir={}", profile.display())]
            }
        }))
        .expect("capabilities");
        let mut last = None;
        for _ in 0..50 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match fantoccini::ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    return Some(Browser {
                        client,
                        driver: child,
                    });
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cannot start a browser session: {last:?}");
    }

    async fn shot(&self, name: &str) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Waits until `script` (a JS expression) is truthy.
    async fn until(&self, what: &str, script: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..150 {
            last = self
                .client
                .execute(&format!("return {script};"), vec![])
                .await
                .expect("script runs");
            if last.as_bool() != Some(false) && !last.is_null() && last != json!("") && last != json!(0) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for {what}: last {last}");
    }

    async fn close(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The seed example plus a stored source, so a push can change the page.
fn seed_with_store() -> tempfile::TempDir {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/examples/seed-kpis");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("data")).expect("mkdir");
    for e in std::fs::read_dir(seed.join("data")).expect("seed data") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), dir.path().join("data").join(e.file_name())).expect("copy");
    }
    let mut toml = std::fs::read_to_string(seed.join("yardstick.toml")).expect("seed");
    toml.push_str(
        r#"
[source.signups]
store = true
time = "at"
columns = { at = "timestamp", plan = "string" }

[kpi.signups]
name = "Signups"
objective = "Grow the user base"
owner = "growth"
measure = "count(*)"
source = "signups"
every = "month"
target = ">= 3"

[scorecard.board]
name = "Board"
weights = { company = 2, signups = 1 }
"#,
    );
    std::fs::write(dir.path().join("yardstick.toml"), toml).expect("write");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_logs_in_lists_kpis_charts_targets_and_updates_live() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = seed_with_store();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    let c = &browser.client;

    // Without a session the dashboard asks for a token.
    c.goto(&format!("{}/", s.base)).await.expect("open");
    browser
        .until("the login form", "document.querySelector('#login-form') !== null")
        .await;

    // The one-time link `serve` prints logs in (and works once).
    let code = s.state.new_login_code().expect("code");
    c.goto(&format!("{}/login?token={code}", s.base))
        .await
        .expect("login");
    browser
        .until("the overview", "document.querySelectorAll('tr[data-kpi]').length")
        .await;
    let project = yardstick_engine::load_dir(dir.path()).project;
    let listed: Vec<String> = serde_json::from_value(
        c.execute(
            "return [...new Set([...document.querySelectorAll('tr[data-kpi]')].map(r => r.dataset.kpi))];",
            vec![],
        )
        .await
        .expect("ids"),
    )
    .expect("strings");
    for k in project.kpis.keys() {
        assert!(
            listed.contains(k),
            "KPI {k} missing from the overview: {listed:?}"
        );
    }
    // Status is always a word (and an icon), never colour alone.
    let statuses: Vec<String> = serde_json::from_value(
        c.execute(
            "return [...document.querySelectorAll('.status')].map(e => e.textContent.trim());",
            vec![],
        )
        .await
        .expect("statuses"),
    )
    .expect("strings");
    assert!(!statuses.is_empty());
    for st in &statuses {
        assert!(
            ["met", "warning", "missed", "no data", "no target"]
                .iter()
                .any(|w| st.contains(w)),
            "a status without its word: {st:?}"
        );
    }
    let uptime_status = browser
        .until(
            "uptime's status",
            "document.querySelector('tr[data-kpi=uptime] .status')?.textContent",
        )
        .await;
    assert!(
        uptime_status
            .as_str()
            .is_some_and(|t| t.contains("met") || t.contains("missed")),
        "{uptime_status}"
    );
    assert!(c.find(fantoccini::Locator::Css("h1")).await.is_ok(), "a heading");
    // A scorecard weighing another lists it with its score.
    let sub = browser
        .until(
            "the nested scorecard",
            "document.querySelector('[data-scorecard=board] li[data-subscorecard=company]')?.textContent",
        )
        .await;
    assert!(
        sub.as_str()
            .is_some_and(|t| t.contains("score") && t.contains("weight 2")),
        "{sub}"
    );
    browser.shot("overview").await;

    // A KPI page: the chart draws a target line.
    c.goto(&format!("{}/#/kpi/uptime", s.base))
        .await
        .expect("kpi page");
    let legend = browser
        .until(
            "the chart legend",
            "document.querySelector('#chart .u-legend')?.textContent",
        )
        .await;
    let legend = legend.as_str().expect("text");
    assert!(legend.contains("value") && legend.contains("target"), "{legend}");
    // The month in progress is projected, and the next months forecast.
    let projection = browser
        .until(
            "the projection",
            "document.querySelector('#projection')?.textContent",
        )
        .await;
    let projection = projection.as_str().expect("text");
    assert!(
        projection.contains("Projected")
            && ["on track", "at risk", "off track"]
                .iter()
                .any(|w| projection.contains(w)),
        "{projection}"
    );
    let forecast = browser
        .until(
            "the forecast table",
            "document.querySelector('#forecast table') ? document.querySelector('#forecast').textContent : null",
        )
        .await;
    assert!(
        forecast
            .as_str()
            .is_some_and(|t| t.contains("80% range") && t.contains("Model")),
        "{forecast}"
    );
    browser.shot("kpi-uptime").await;
    // A KPI with a warning threshold shows the warning band's edge in the legend.
    c.goto(&format!("{}/#/kpi/new_clients", s.base))
        .await
        .expect("kpi page");
    // Wait for this page's chart, not the previous page's (the hash changes first).
    let legend = browser
        .until(
            "the new_clients chart legend",
            "document.querySelector('h1')?.textContent === 'New clients closed' \
             && document.querySelector('#chart .u-legend')?.textContent.includes('warning') \
             && document.querySelector('#chart .u-legend').textContent",
        )
        .await;
    assert!(legend.as_str().is_some_and(|l| l.contains("warning")), "{legend}");
    browser.shot("kpi-new-clients").await;

    // Contracts and partnership pages render their headings.
    c.goto(&format!("{}/#/contracts", s.base))
        .await
        .expect("contracts");
    browser
        .until(
            "the compliance grid",
            "document.querySelector('table.grid td[title]') !== null",
        )
        .await;
    browser.shot("contracts").await;

    // Live: rows pushed through the API show up without a reload.
    c.goto(&format!("{}/#/", s.base)).await.expect("overview");
    browser
        .until(
            "the signups row",
            "document.querySelector('tr[data-kpi=signups] .value')?.textContent",
        )
        .await;
    c.execute("window.__sameDocument = true; return true;", vec![])
        .await
        .expect("mark");
    let last_month = {
        use chrono::{Datelike, Months};
        let first = chrono::Utc::now().date_naive().with_day(1).expect("day 1");
        first.checked_sub_months(Months::new(1)).expect("month before")
    };
    let body = format!(
        "at,plan\n{d}T10:00:00Z,pro\n{d}T11:00:00Z,free\n{d}T12:00:00Z,pro\n{d}T13:00:00Z,pro\n",
        d = last_month.format("%Y-%m-15")
    );
    let (st, r) = s.push_to(&s.admin, "signups", "text/csv", &body).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let shown = browser
        .until(
            "the pushed value on the open page",
            "(document.querySelector('tr[data-kpi=signups] .value')?.textContent.trim() === '4') && window.__sameDocument === true",
        )
        .await;
    assert_eq!(shown, json!(true));
    browser.shot("overview-after-push").await;

    // A party's token, pasted on the login page, shows that party's share only.
    let acme = s.token("viewer", Some("Acme Corp")).await;
    c.execute("document.querySelector('#logout').click(); return true;", vec![])
        .await
        .expect("logout");
    browser
        .until("the login form", "document.querySelector('#login-form') !== null")
        .await;
    c.find(fantoccini::Locator::Css("#token"))
        .await
        .expect("field")
        .send_keys(&acme)
        .await
        .expect("type");
    c.find(fantoccini::Locator::Css("#login-form button"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    browser
        .until(
            "the party's overview",
            "document.querySelectorAll('tr[data-kpi]').length",
        )
        .await;
    let mut shared: Vec<String> = serde_json::from_value(
        c.execute(
            "return [...new Set([...document.querySelectorAll('tr[data-kpi]')].map(r => r.dataset.kpi))];",
            vec![],
        )
        .await
        .expect("ids"),
    )
    .expect("strings");
    shared.sort();
    assert_eq!(shared, ["first_response_24h", "uptime"]);
    let who = browser
        .until("the party name", "document.querySelector('#who').textContent")
        .await;
    assert!(who.as_str().is_some_and(|w| w.contains("Acme Corp")), "{who}");

    // A phone's width: the page does not scroll sideways (wide tables scroll in their box).
    c.set_window_size(390, 844).await.expect("resize");
    c.goto(&format!("{}/#/kpi/uptime", s.base))
        .await
        .expect("kpi page");
    browser
        .until(
            "the uptime chart",
            "document.querySelector('h1')?.textContent === 'Platform uptime' \
             && document.querySelector('#chart .u-legend') !== null",
        )
        .await;
    let fits = c
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
            vec![],
        )
        .await
        .expect("width");
    browser.shot("kpi-uptime-phone").await;
    assert_eq!(fits, json!(true), "the KPI page is wider than a phone");
    browser.close().await;
}

/// Notices received by a test webhook: (path, body).
type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>;

/// A webhook receiver on a free port: every POST is kept.
async fn webhook_receiver() -> (String, Received) {
    use axum::extract::{Path as AxPath, State};
    let got: Received = Received::default();
    let app = axum::Router::new()
        .route(
            "/hook/{name}",
            axum::routing::post(
                |State(got): State<Received>,
                 AxPath(name): AxPath<String>,
                 axum::Json(body): axum::Json<Value>| async move {
                    got.lock().expect("lock").push((name, body));
                    "ok"
                },
            ),
        )
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), got)
}

async fn wait_for(got: &Received, n: usize) -> Vec<(String, Value)> {
    for _ in 0..200 {
        let now = got.lock().expect("lock").clone();
        if now.len() >= n {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    got.lock().expect("lock").clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_fires_once_and_sends_a_resolved_notice() {
    let (hooks, got) = webhook_receiver().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let project = format!(
        r#"
[project]
name = "Alerts"
timezone = "Europe/Berlin"

[source.heartbeats]
store = true
time = "at"
columns = {{ at = "timestamp", host = "string" }}
freshness = "1h"
owner = "sre"

[kpi.beats]
name = "Heartbeats"
measure = "count(*)"
source = "heartbeats"
every = "day"
owner = "sre"

[alert.heartbeats_stale]
name = "Heartbeats stopped"
source = "heartbeats"
when = "stale"
webhook = "{hooks}/hook/json"

[alert.heartbeats_stale_slack]
source = "heartbeats"
when = "stale"
webhook = "{hooks}/hook/slack"
payload = "slack"
"#
    );
    std::fs::write(dir.path().join("yardstick.toml"), project).expect("write");
    for url in store_urls(dir.path()).await {
        got.lock().expect("lock").clear();
        let s = Server::start(dir.path(), &url).await;

        // No heartbeat yet: stale, one notice per alert.
        let first = wait_for(&got, 2).await;
        assert_eq!(first.len(), 2, "{first:?}");
        let json_hook = first.iter().find(|(p, _)| p == "json").expect("json notice");
        assert_eq!(json_hook.1["kind"], "firing", "{json_hook:?}");
        assert_eq!(json_hook.1["alert"], "heartbeats_stale");
        assert_eq!(json_hook.1["name"], "Heartbeats stopped");
        assert_eq!(json_hook.1["project"], "Alerts");
        assert!(
            json_hook.1["summary"]
                .as_str()
                .is_some_and(|m| m.contains("heartbeats"))
        );
        let (st, listed) = s.get("/api/v1/alerts", &s.admin).await;
        assert_eq!(st, StatusCode::OK, "{listed}");
        let rule = listed["alerts"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["alert"] == "heartbeats_stale").cloned())
            .expect("rule listed");
        assert_eq!(rule["firing"].as_array().map(Vec::len), Some(1), "{listed}");
        let slack = first.iter().find(|(p, _)| p == "slack").expect("slack notice");
        assert!(
            slack.1["text"]
                .as_str()
                .is_some_and(|t| t.contains(":rotating_light:")),
            "{slack:?}"
        );

        // A heartbeat from two hours ago: still stale — re-evaluated, not re-sent.
        let old = (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc3339();
        let (st, v) = s
            .push_to(
                &s.admin,
                "heartbeats",
                "application/json",
                &format!(r#"[{{"at": "{old}", "host": "a"}}]"#),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        s.settle().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(got.lock().expect("lock").len(), 2, "deduplicated");
        assert_eq!(s.state.store().alerts_firing().await.expect("state").len(), 2);

        // A fresh heartbeat: resolved, once per alert.
        let fresh = chrono::Utc::now().to_rfc3339();
        let (st, v) = s
            .push_to(
                &s.admin,
                "heartbeats",
                "application/json",
                &format!(r#"[{{"at": "{fresh}", "host": "a"}}]"#),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        s.settle().await;
        let all = wait_for(&got, 4).await;
        assert_eq!(all.len(), 4, "{all:?}");
        let resolved = all[2..].iter().find(|(p, _)| p == "json").expect("json resolved");
        assert_eq!(resolved.1["kind"], "resolved", "{resolved:?}");
        assert_eq!(resolved.1["since"], json_hook.1["since"]);
        let slack = all[2..]
            .iter()
            .find(|(p, _)| p == "slack")
            .expect("slack resolved");
        assert!(
            slack.1["text"].as_str().is_some_and(|t| t.contains("resolved")),
            "{slack:?}"
        );
        assert!(s.state.store().alerts_firing().await.expect("state").is_empty());
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(got.lock().expect("lock").len(), 4, "nothing more");
        std::fs::remove_dir_all(dir.path().join(".yardstick")).ok();
    }
}

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
    let snap = server.state.snapshot();
    for kpis in [Vec::new(), vec!["trial_signups".to_string()]] {
        let opts = yardstick_engine::eval::EvalOptions {
            as_of,
            from: None,
            to: None,
            kpis: kpis.clone(),
            by: None,
            projections: true,
        };
        let (ev, d) = yardstick_engine::evaluate_dir_with(&snap.project, dir.path(), &snap.stored, &opts)
            .await
            .expect("evaluates");
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
