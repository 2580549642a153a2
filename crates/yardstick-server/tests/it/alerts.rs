//! Alert rules delivered to a webhook.

use super::*;

/// Notices received by a test webhook: (path, body).
pub(crate) type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>;

/// A webhook receiver on a free port: every POST is kept.
pub(crate) async fn webhook_receiver() -> (String, Received) {
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

pub(crate) async fn wait_for(got: &Received, n: usize) -> Vec<(String, Value)> {
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
