//! Scheduled reviews on a moving clock: a pack is issued once its period
//! closed and its delay passed, once — not again on the next look nor
//! after a restart —, filed in its folder, announced to its webhook, and
//! lists what was restated since the pack before. A partner's pack holds
//! only what the partner may see, and only the partner sees it.

use super::alerts::{wait_for, webhook_receiver};
use super::*;
use yardstick_server::Clock;

fn instant(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&chrono::Utc)
}

/// Moves the clock to `t` and waits until the server evaluated at `t`.
async fn move_to(s: &Server, clock: &Clock, t: &str) {
    let t = instant(t);
    clock.set(t);
    for _ in 0..800 {
        if s.state.snapshot().evaluated_at == t {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no evaluation at {t}");
}

/// (review, period, party, format) of every issued pack.
async fn issued(s: &Server, token: &str) -> Vec<(String, String, Option<String>, String)> {
    let (st, v) = s.get("/api/v1/reviews/issued", token).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mut out: Vec<_> = v["packs"]
        .as_array()
        .expect("packs")
        .iter()
        .map(|p| {
            (
                p["review"].as_str().unwrap_or_default().to_string(),
                p["period"].as_str().unwrap_or_default().to_string(),
                p["party"].as_str().map(str::to_string),
                p["format"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn download(
    s: &Server,
    token: &str,
    review: &str,
    period: &str,
    format: &str,
) -> (StatusCode, Vec<u8>) {
    let (_, v) = s.get("/api/v1/reviews/issued", &s.admin).await;
    let id = v["packs"]
        .as_array()
        .expect("packs")
        .iter()
        .find(|p| p["review"] == review && p["period"] == period && p["format"] == format)
        .and_then(|p| p["id"].as_i64())
        .expect("issued");
    let res = s
        .http
        .get(format!("{}/api/v1/reviews/issued/{id}", s.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = res.status();
    (status, res.bytes().await.expect("body").to_vec())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_review_fires_once_when_its_quarter_closes() {
    let (hooks, got) = webhook_receiver().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let end = chrono::NaiveDate::from_ymd_opt(2026, 9, 30).expect("day");
    yardstick_scaffold::write_project(dir.path(), &yardstick_scaffold::demo(42, end)).expect("demo");
    let root = dir.path().join("yardstick.toml");
    let mut toml = std::fs::read_to_string(&root).expect("definitions");
    toml.push_str(&format!(
        r#"
[review.board]
name = "Quarterly board pack"
every = "quarter"
delay = "1h"
formats = ["pdf", "xlsx", "md"]
folder = "reviews"
webhook = "{hooks}/hook/board"

[review.cloudco]
every = "quarter"
delay = "1h"
formats = ["md"]
parties = ["CloudCo"]
"#
    ));
    std::fs::write(&root, toml).expect("write");
    let url = yardstick_store::default_url(dir.path()).expect("url");
    // 23:30 in Berlin on the last day of Q3: the last closed quarter is Q2.
    let clock = Clock::manual(instant("2026-09-30T21:30:00Z"));
    let s = Server::start_on(dir.path(), &url, clock.clone()).await;
    let q2: Vec<(String, String, Option<String>, String)> = [
        ("board", None, "md"),
        ("board", None, "pdf"),
        ("board", None, "xlsx"),
        ("cloudco", Some("CloudCo"), "md"),
    ]
    .iter()
    .map(|(r, p, f)| {
        (
            r.to_string(),
            "2026-Q2".to_string(),
            p.map(str::to_string),
            f.to_string(),
        )
    })
    .collect();
    assert_eq!(issued(&s, &s.admin).await, q2);
    // Signups of the summer arrive late, then one more August signup:
    // August (ended, reported with none) is restated twice after the Q2
    // pack was issued, July once.
    move_to(&s, &clock, "2026-09-30T21:35:00Z").await;
    let (st, v) = s
        .push_to(
            &s.admin,
            "signups",
            "text/csv",
            "at,plan\n2026-07-10T10:00:00Z,pro\n2026-08-03T10:00:00Z,team\n2026-08-20T10:00:00Z,pro\n2026-09-02T10:00:00Z,pro\n",
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    s.settle().await;
    move_to(&s, &clock, "2026-09-30T21:40:00Z").await;
    let (st, v) = s
        .push_to(
            &s.admin,
            "signups",
            "text/csv",
            "at,plan\n2026-08-25T10:00:00Z,team\n",
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    s.settle().await;
    // Half past midnight on 1 October: Q3 has closed, but its hour for
    // late data has not passed.
    move_to(&s, &clock, "2026-09-30T22:30:00Z").await;
    assert_eq!(issued(&s, &s.admin).await, q2);
    // Half past one: the Q3 pack is issued, once.
    move_to(&s, &clock, "2026-09-30T23:30:00Z").await;
    let both = issued(&s, &s.admin).await;
    assert_eq!(both.len(), 8, "{both:?}");
    assert!(both.contains(&("board".into(), "2026-Q3".into(), None, "pdf".into())));
    assert!(both.contains(&(
        "cloudco".into(),
        "2026-Q3".into(),
        Some("CloudCo".into()),
        "md".into()
    )));
    move_to(&s, &clock, "2026-09-30T23:35:00Z").await;
    assert_eq!(issued(&s, &s.admin).await, both);
    // Filed in the folder, as of the instant it was issued.
    for ext in ["pdf", "xlsx", "md"] {
        let file = dir.path().join(format!("reviews/board-2026-Q3.{ext}"));
        assert!(file.is_file(), "{}", file.display());
    }
    assert!(!dir.path().join("reviews/cloudco-2026-Q3-CloudCo.md").exists());
    let (st, md) = download(&s, &s.admin, "board", "2026-Q3", "md").await;
    assert_eq!(st, StatusCode::OK);
    let md = String::from_utf8(md).expect("utf-8");
    assert!(md.contains("Quarterly board pack, 2026-Q3"), "{md}");
    assert!(md.contains("Evaluated as of 2026-10-01 01:30 CEST"), "{md}");
    let restated: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("## Restated since the last pack"))
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("- "))
        .collect();
    assert_eq!(
        restated,
        [
            "- Trial signups 2026-07: 0 signups → 1 signups (restated 2026-09-30 23:35 CEST)",
            "- Trial signups 2026-08: 0 signups → 2 signups (restated 2026-09-30 23:35 CEST)",
            "- Trial signups 2026-08: 2 signups → 3 signups (restated 2026-09-30 23:40 CEST)"
        ],
        "{md}"
    );
    let filed = std::fs::read_to_string(dir.path().join("reviews/board-2026-Q3.md")).expect("filed");
    assert_eq!(filed, md);
    let (_, q2md) = download(&s, &s.admin, "board", "2026-Q2", "md").await;
    assert!(!String::from_utf8_lossy(&q2md).contains("Restated"));
    // One notice per pack to the board's webhook.
    let notices = wait_for(&got, 2).await;
    let periods: Vec<&str> = notices.iter().filter_map(|(_, b)| b["period"].as_str()).collect();
    assert_eq!(periods, ["2026-Q2", "2026-Q3"]);
    let q3 = &notices[1].1;
    assert_eq!(q3["review"], "board");
    assert_eq!(q3["as_of"], "2026-09-30T23:30:00Z");
    assert_eq!(q3["packs"].as_array().map(Vec::len), Some(3));
    // The partner's pack: its KPIs only, seen by the partner only.
    let cloudco = s.token("viewer", Some("CloudCo")).await;
    let theirs = issued(&s, &cloudco).await;
    assert_eq!(theirs.len(), 2);
    assert!(theirs.iter().all(|p| p.0 == "cloudco"));
    let (st, _) = download(&s, &cloudco, "board", "2026-Q3", "pdf").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, md) = download(&s, &cloudco, "cloudco", "2026-Q3", "md").await;
    assert_eq!(st, StatusCode::OK);
    let md = String::from_utf8(md).expect("utf-8");
    let def = std::fs::read_to_string(&root).expect("definitions");
    let partnership = def.split("[partnership.cloudco]").nth(1).expect("cloudco");
    let kpis_line = partnership
        .lines()
        .find(|l| l.starts_with("kpis"))
        .expect("kpis line");
    let project = yardstick_engine::load_dir(dir.path()).project;
    let mut shown = 0;
    for k in project.kpis.values() {
        let heading = format!("### {}\n", k.display_name());
        let listed = kpis_line.contains(&format!("\"{}\"", k.id.value));
        if md.contains(&heading) {
            assert!(listed, "{} is not CloudCo's:\n{md}", k.id.value);
            shown += 1;
        }
    }
    assert!(shown > 0, "{md}");
    // The dashboard's overview lists the issued packs, each format a link
    // to the document as issued.
    if let Some(b) = super::dashboard::Browser::start().await {
        b.login(&s.base, &s.admin).await;
        let line = b
            .until_text(
                "the issued packs",
                "document.querySelector('.issued-packs li[data-pack=\"board/2026-Q3\"]')?.textContent",
            )
            .await;
        assert!(
            line.starts_with("Quarterly board pack 2026-Q3: PDF · XLSX · MD"),
            "{line}"
        );
        let first = b
            .until_text(
                "the first pack line",
                "document.querySelector('.issued-packs li')?.dataset.pack",
            )
            .await;
        assert_eq!(first, "cloudco/2026-Q3", "newest first");
        let pdf = b
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch(document.querySelector('.issued-packs li[data-pack=\"board/2026-Q3\"] a').href)
                   .then((r) => r.arrayBuffer()).then((b) => done(String.fromCharCode(...new Uint8Array(b).slice(0, 5))));",
                vec![],
            )
            .await
            .expect("fetch the pack");
        assert_eq!(pdf, json!("%PDF-"));
        for (name, w, h) in [("desktop", 1400, 1000), ("phone", 390, 1400)] {
            b.client.set_window_size(w, h).await.expect("size");
            b.shot(&format!("overview-packs-{name}")).await;
        }
        b.close().await;
    }
    // A restart issues nothing again and announces nothing again.
    drop(s);
    let again = Server::start_on(dir.path(), &url, clock.clone()).await;
    assert_eq!(issued(&again, &again.admin).await, both);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(got.lock().expect("lock").len(), 2);
}
