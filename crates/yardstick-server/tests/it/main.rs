//! The API over real HTTP (and once through `oneshot`), against SQLite and,
//! when `YARDSTICK_TEST_POSTGRES` is set, a real PostgreSQL server.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use yardstick_server::{AppState, ServeOptions};
use yardstick_store::{Role, Store, testing};

mod agreement;
mod agreements;
mod alerts;
mod dashboard;
mod database;
mod history;
mod isolation;
mod openapi;
mod pages;
mod push;
mod reconciliations;
mod schedule;
mod why;
mod why_fleet;

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
start = "2026-01-01"

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
        Self::start_on(dir, url, yardstick_server::Clock::system()).await
    }

    /// A server whose "now" is `clock`.
    async fn start_on(dir: &Path, url: &str, clock: yardstick_server::Clock) -> Server {
        let store = Store::open(url).await.expect("store opens");
        let (_, admin) = store
            .create_token(Role::Admin, None, "test")
            .await
            .expect("token");
        let state = AppState::start_with_clock(dir, store, clock)
            .await
            .expect("starts");
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
