//! Alert delivery: the firing set compared with the one remembered in the
//! store, each change announced once to the log and the alert's webhook
//! (Yardstick's JSON or a Slack-compatible `{"text"}`), and remembered only
//! once delivered — a failed delivery is tried again at the next look.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use yardstick_core::Project;
use yardstick_core::model::{AlertPayload, AlertTarget};
use yardstick_engine::alerts::{Firing, Notice, NoticeKind, Remembered, transitions};
use yardstick_store::{AlertFiring, Store};

/// The JSON body of a webhook call (`payload = "json"`).
#[derive(Debug, Serialize)]
struct JsonNotice<'a> {
    project: &'a str,
    #[serde(flatten)]
    notice: &'a Notice,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a str>,
}

/// An HTTP client for webhooks: short timeouts, no redirects to elsewhere.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// Compares `now` with the store's firing set and delivers the changes;
/// returns the notices delivered.
pub async fn deliver_changes(
    project: &Project,
    store: &Store,
    now: &[Firing],
    at: DateTime<Utc>,
    client: &reqwest::Client,
) -> Result<Vec<Notice>, String> {
    let remembered: Vec<Remembered> = store
        .alerts_firing()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|a| Remembered {
            alert: a.alert,
            instance: a.instance,
            subject: a.subject,
            summary: a.summary,
            since: a.since,
        })
        .collect();
    let mut delivered = Vec::new();
    for notice in transitions(&remembered, now, at) {
        let owner = now
            .iter()
            .find(|f| f.alert == notice.alert && f.instance == notice.instance)
            .and_then(|f| f.owner.as_deref());
        match send(project, &notice, owner, client).await {
            Ok(()) => {
                let stored = match notice.kind {
                    NoticeKind::Firing => {
                        store
                            .alert_fired(&AlertFiring {
                                alert: notice.alert.clone(),
                                instance: notice.instance.clone(),
                                subject: notice.subject.clone(),
                                summary: notice.summary.clone(),
                                since: notice.since.clone(),
                            })
                            .await
                    }
                    NoticeKind::Resolved => store.alert_resolved(&notice.alert, &notice.instance).await,
                };
                if let Err(e) = stored {
                    tracing::error!(error = %e, alert = %notice.alert, "cannot remember the alert's state");
                }
                delivered.push(notice);
            }
            Err(e) => {
                tracing::warn!(alert = %notice.alert, error = %e, "alert notice not delivered; trying again at the next evaluation");
            }
        }
    }
    Ok(delivered)
}

/// Logs a notice and posts it to the alert's webhook, if it has one.
async fn send(
    project: &Project,
    n: &Notice,
    owner: Option<&str>,
    client: &reqwest::Client,
) -> Result<(), String> {
    let alert = project.alerts.get(&n.alert);
    match n.kind {
        NoticeKind::Firing => {
            tracing::warn!(alert = %n.alert, subject = %n.subject, instance = %n.instance, "alert firing: {}", n.summary)
        }
        NoticeKind::Resolved => {
            tracing::info!(alert = %n.alert, subject = %n.subject, instance = %n.instance, "alert resolved: {}", n.summary)
        }
    }
    // An alert removed from the definitions resolves in the log only.
    let Some(alert) = alert else { return Ok(()) };
    let Some(url) = webhook_url(alert.webhook.as_ref())? else {
        return Ok(());
    };
    let body = match alert.payload {
        AlertPayload::Json => serde_json::to_value(JsonNotice {
            project: &project.settings.name,
            notice: n,
            name: alert.name.as_deref(),
            owner,
        })
        .map_err(|e| e.to_string())?,
        AlertPayload::Slack => {
            let icon = match n.kind {
                NoticeKind::Firing => ":rotating_light:",
                NoticeKind::Resolved => ":white_check_mark:",
            };
            let title = alert.name.as_deref().unwrap_or(&n.alert);
            let owner = owner.map(|o| format!(" (owner: {o})")).unwrap_or_default();
            serde_json::json!({
                "text": format!("{icon} *{title}* — {}{owner}\n{} · {}", n.summary, project.settings.name, n.subject)
            })
        }
    };
    post(client, &url, &body).await
}

/// The URL a webhook target names (`None`: no webhook); an unset
/// `webhook_env` is an error naming the variable, never a URL.
pub(crate) fn webhook_url(target: Option<&AlertTarget>) -> Result<Option<String>, String> {
    match target {
        None => Ok(None),
        Some(AlertTarget::Url(u)) => Ok(Some(u.value.clone())),
        Some(AlertTarget::Env(var)) => std::env::var(&var.value)
            .map(Some)
            .map_err(|_| format!("environment variable {} (webhook_env) is not set", var.value)),
    }
}

/// Posts `body` as JSON, three tries; the error never shows the URL
/// (webhook URLs are secrets).
pub(crate) async fn post(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> Result<(), String> {
    let mut last_error = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
        }
        match client.post(url).json(body).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last_error = format!("webhook answered {}", r.status()),
            Err(e) => last_error = format!("webhook unreachable: {}", e.without_url()),
        }
    }
    Err(last_error)
}
