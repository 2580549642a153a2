//! `why` over the API and on the dashboard: the demo's collapsed month is
//! explained by the partner and region that collapsed, party tokens split
//! by declared dimensions only, and the KPI page's "Why?" shows the cause
//! and focuses the breakdown on it.

use super::dashboard::Browser;
use super::*;

/// The demo at `today`, served, and the month in which CloudCo's EU
/// business collapsed: the one complete month without such an order.
pub(crate) async fn demo_with_collapse() -> (tempfile::TempDir, Server, String) {
    let (dir, month) = demo_and_collapse();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    s.settle().await;
    (dir, s, month)
}

/// The demo as generated on a fixed day, and the month of the collapse.
/// The demo's noise follows the day it is generated on; on a few days (3
/// of 2026's 365, `scripts/bench_demo_story.py`) the rest of the region
/// fell too in the collapse month, or another segment moved as much, and
/// `why` then (rightly, by its criterion) names it. The tests pin a day,
/// so that they say the same every day.
fn demo_and_collapse() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).expect("a day");
    let files = yardstick_scaffold::demo(42, today);
    yardstick_scaffold::write_project(dir.path(), &files).expect("demo");
    let orders = &files
        .iter()
        .find(|(p, _)| p == "data/orders.csv")
        .expect("orders")
        .1;
    let collapsed = yardstick_scaffold::months_without_the_collapse(orders);
    assert_eq!(collapsed.len(), 1, "{collapsed:?}");
    let month = collapsed[0].clone();
    (dir, month)
}

/// The month label `months` after `YYYY-MM`.
fn shift(month: &str, months: i32) -> String {
    let (y, m): (i32, i32) = (
        month[..4].parse().expect("year"),
        month[5..7].parse().expect("month"),
    );
    let n = y * 12 + (m - 1) + months;
    format!("{}-{:02}", n.div_euclid(12), n.rem_euclid(12) + 1)
}

/// Actions over the API, on every store back-end: recorded against the
/// collapse with its cause, judged before and after, closed once.
#[tokio::test(flavor = "multi_thread")]
async fn an_action_on_the_collapse_shows_its_segment_before_and_after() {
    let (dir, month) = demo_and_collapse();
    for url in store_urls(dir.path()).await {
        let s = Server::start(dir.path(), &url).await;
        s.settle().await;
        let (next, before) = (shift(&month, 1), shift(&month, -1));
        let body = json!({"kpi": "revenue", "period": month, "title": "Call CloudCo's EU desk",
            "owner": "partner-manager", "due": "2030-01-31",
            "cause": {"partner": "CloudCo", "region": "EU"}});
        let (st, a) = s
            .call("POST", "/api/v1/actions", &s.admin, Some(body.clone()))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{url}: {a}");
        assert_eq!(a["judge_from"], json!(next));
        let e = &a["effect"];
        assert_eq!(e["before_miss"]["period"], json!(before));
        assert_eq!(e["miss"]["segment"], json!(0.0), "{a}");
        assert!(
            e["before_miss"]["segment"].as_f64().is_some_and(|v| v > 0.0),
            "{a}"
        );
        // CloudCo's EU business came back the month after: by hand from
        // the why of that month, within the segment.
        let (_, w) = s
            .get(
                &format!(
                    "/api/v1/kpis/revenue/why?period={next}&dimensions=region&depth=1&within=partner=CloudCo"
                ),
                &s.admin,
            )
            .await;
        let eu = w["causes"]
            .as_array()
            .expect("causes")
            .iter()
            .find(|c| c["elements"] == json!({"region": "EU"}))
            .expect("EU")
            .clone();
        assert_eq!(e["after"][0]["segment"], eu["value"], "{a}");
        assert_eq!(e["segment"], json!("recovered"), "{a}");
        assert!(
            ["recovered", "not_recovered"].contains(&e["kpi"].as_str().unwrap_or_default()),
            "{a}"
        );

        // Listed with it; a party does not see actions on our revenue.
        let (_, list) = s.get("/api/v1/actions?kpi=revenue", &s.admin).await;
        assert_eq!(list["actions"].as_array().map(Vec::len), Some(1), "{list}");
        let party = s.token("editor", Some("CloudCo")).await;
        let (_, theirs) = s.get("/api/v1/actions", &party).await;
        assert_eq!(theirs["actions"], json!([]));
        let id = a["id"].as_i64().expect("id");
        let (st, _) = s
            .call(
                "POST",
                &format!("/api/v1/actions/{id}/close"),
                &party,
                Some(json!({"outcome": "x"})),
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // What is wrong is said, by code, and nothing is stored.
        let viewer = s.token("viewer", None).await;
        let mut nobody = body.clone();
        nobody["cause"] = json!({"partner": "Nobody"});
        let mut late = body.clone();
        late["due"] = json!("soon");
        let mut ghost = body.clone();
        ghost["kpi"] = json!("ghost");
        for (who, b, status, code) in [
            (&viewer, &body, StatusCode::FORBIDDEN, "forbidden"),
            (&s.admin, &nobody, StatusCode::BAD_REQUEST, "unanswerable"),
            (&s.admin, &late, StatusCode::BAD_REQUEST, "bad_request"),
            (&s.admin, &ghost, StatusCode::NOT_FOUND, "unknown_kpi"),
        ] {
            let (st, e) = s.call("POST", "/api/v1/actions", who, Some(b.clone())).await;
            assert_eq!((st, e["code"].as_str()), (status, Some(code)), "{b}: {e}");
        }
        let (_, list) = s.get("/api/v1/actions", &s.admin).await;
        assert_eq!(list["actions"].as_array().map(Vec::len), Some(1));

        // Closed once, with the audit log saying who.
        let (st, c) = s
            .call(
                "POST",
                &format!("/api/v1/actions/{id}/close"),
                &s.admin,
                Some(json!({"outcome": "orders back"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{c}");
        assert_eq!(c["outcome"], json!("orders back"));
        let (st, c) = s
            .call(
                "POST",
                &format!("/api/v1/actions/{id}/close"),
                &s.admin,
                Some(json!({"outcome": "again"})),
            )
            .await;
        assert_eq!((st, c["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")));
        let (st, c) = s
            .call(
                "POST",
                "/api/v1/actions/999/close",
                &s.admin,
                Some(json!({"outcome": "?"})),
            )
            .await;
        assert_eq!(
            (st, c["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("unknown_action"))
        );
        let (_, audit) = s.get("/api/v1/audit", &s.admin).await;
        let actions: Vec<&str> = audit["audit"]
            .as_array()
            .expect("entries")
            .iter()
            .filter_map(|e| e["action"].as_str())
            .filter(|a| a.starts_with("action."))
            .collect();
        assert_eq!(actions, ["action.close", "action.open"], "{audit}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn why_names_the_collapse_and_keeps_parties_to_declared_dimensions() {
    let (_dir, s, month) = demo_with_collapse().await;
    let (st, v) = s
        .get(&format!("/api/v1/kpis/revenue/why?period={month}"), &s.admin)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let first = &v["causes"][0];
    assert_eq!(
        first["elements"],
        json!({"partner": "CloudCo", "region": "EU"}),
        "{v}"
    );
    assert_eq!(first["root"], json!(true));
    assert_eq!(first["value"], json!(0.0));
    assert!(v["gap"].as_f64().is_some_and(|g| g < 0.0), "{v}");
    // The revenue missed its target that month.
    let (_, evs) = s.get("/api/v1/evaluations?kpi=revenue", &s.admin).await;
    let row = evs["evaluations"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["period"] == json!(month))
        .cloned()
        .expect("the month");
    assert!(
        row["status"] == json!("missed") || row["status"] == json!("warning"),
        "{row}"
    );
    // A breached clause names its top cause: the support backlog was the
    // EU team's.
    let (_, clauses) = s.get("/api/v1/contracts/hosting/clauses", &s.admin).await;
    let named: Vec<&Value> = clauses["clauses"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["clause"] == json!("first_response") && r["breached"] == json!(true))
        .collect();
    assert!(!named.is_empty(), "{clauses}");
    for r in named {
        assert_eq!(r["top_cause"]["elements"], json!({"team": "support-eu"}), "{r}");
        assert!(
            r["explanation"]
                .as_str()
                .is_some_and(|e| e.contains("Top cause against") && e.contains("team=support-eu")),
            "{r}"
        );
    }
    // Looking inside the partner: the EU is where it went (the largest
    // contribution; which region is *unusual* is another question, since
    // most of CloudCo's business was there and all of it fell).
    let (st, inside) = s
        .get(
            &format!(
                "/api/v1/kpis/revenue/why?period={month}&dimensions=region&depth=1&within=partner=CloudCo"
            ),
            &s.admin,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{inside}");
    let causes = inside["causes"].as_array().expect("causes");
    let largest = causes
        .iter()
        .min_by(|a, b| {
            a["contribution"]
                .as_f64()
                .unwrap_or(0.0)
                .total_cmp(&b["contribution"].as_f64().unwrap_or(0.0))
        })
        .expect("a cause");
    assert_eq!(largest["elements"], json!({"region": "EU"}), "{inside}");
    assert_eq!(largest["value"], json!(0.0), "{inside}");

    // Every unusual segment: the collapse moved most unusually of all.
    let (st, unusual) = s
        .get(
            &format!("/api/v1/kpis/revenue/why?period={month}&roots=unusual"),
            &s.admin,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{unusual}");
    assert_eq!(unusual["mode"], json!("unusual"), "{unusual}");
    assert_eq!(v["mode"], json!("explain"), "{v}");
    assert_eq!(
        unusual["causes"][0]["elements"],
        json!({"partner": "CloudCo", "region": "EU"}),
        "{unusual}"
    );
    assert_eq!(unusual["causes"][0]["root"], json!(true), "{unusual}");

    // Bad parameters are the request's fault, by code.
    for (q, code) in [
        ("period=2026-13", "bad_period"),
        (&format!("period={month}&vs=yesterday") as &str, "bad_request"),
        (&format!("period={month}&depth=9"), "bad_request"),
        (&format!("period={month}&roots=sometimes"), "bad_request"),
        (&format!("period={month}&dimensions=nope"), "unanswerable"),
    ] {
        let (st, e) = s.get(&format!("/api/v1/kpis/revenue/why?{q}"), &s.admin).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}: {e}");
        assert_eq!(e["code"], json!(code), "{q}: {e}");
    }
    // A form that cannot be split says so.
    let (st, e) = s
        .get(&format!("/api/v1/kpis/new_clients/why?period={month}"), &s.admin)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot be split")),
        "{e}"
    );

    // CloudCo's token: not our revenue; its partnership's KPI by declared
    // dimensions only.
    let party = s.token("viewer", Some("CloudCo")).await;
    let (st, _) = s
        .get(&format!("/api/v1/kpis/revenue/why?period={month}"), &party)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let quarter = format!(
        "{}-Q{}",
        &month[..4],
        (month[5..7].parse::<u32>().unwrap_or(1) - 1) / 3 + 1
    );
    let (st, v) = s
        .get(
            &format!("/api/v1/kpis/partner_revenue/why?period={quarter}"),
            &party,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["dimensions"], json!(["region"]));
    let (st, e) = s
        .get(
            &format!("/api/v1/kpis/partner_revenue/why?period={quarter}&dimensions=customer_id"),
            &party,
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["code"], json!("bad_dimension"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_kpi_page_shows_why_the_month_missed() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let (_dir, s, month) = demo_with_collapse().await;
    b.login(&s.base, &s.admin).await;
    let c = &b.client;
    for (name, w, h) in [("desktop", 1400, 1800), ("phone", 390, 2600)] {
        c.set_window_size(w, h).await.expect("size");
        c.goto(&format!("{}/#/kpi/revenue", s.base)).await.expect("open");
        b.until(
            "the why section",
            "document.querySelector('#why-period') !== null",
        )
        .await;
        // The month is among the periods to ask about, and chosen.
        c.execute(
            &format!(
                "const s = document.querySelector('#why-period'); s.value = {month:?}; s.dispatchEvent(new Event('change'));"
            ),
            vec![],
        )
        .await
        .expect("choose");
        let first = b
            .until_text(
                "the causes",
                &format!(
                    "document.querySelector('#why-period')?.value === {month:?} && document.querySelector('#why .causes li .cause-head')?.innerText"
                ),
            )
            .await;
        assert!(first.contains("partner=CloudCo ∧ region=EU"), "{name}: {first}");
        assert!(first.contains("root cause"), "{name}: {first}");
        c.execute("document.querySelector('#why-heading').scrollIntoView()", vec![])
            .await
            .expect("scroll");
        b.shot(&format!("kpi-why-{name}")).await;
        // The cause's link focuses the breakdown: by region, within CloudCo.
        b.click("the cause's link", "#why a[data-cause=\"0\"]").await;
        let bars = b
            .until(
                "the focused breakdown",
                "(document.querySelector('#bars')?.innerText ?? '').includes('Within') && document.querySelector('#bars tr.focus td.label')?.innerText",
            )
            .await;
        assert_eq!(bars, json!("EU"), "{name}");
        b.shot(&format!("kpi-why-focus-{name}")).await;
        b.click("the unfocus link", "#unfocus").await;
    }
    // Every segment that moved unusually: the collapse still first. The
    // answer to the earlier choice (the few that explain) is held back until
    // after the later one's: the page must still show the later choice.
    c.set_window_size(1400, 1800).await.expect("size");
    b.until(
        "the page without focus",
        "document.querySelector('#focus') === null && document.querySelector('#why .causes') !== null",
    )
    .await;
    c.execute(
        "const real = window.fetch;
         window.fetch = (url, o) => String(url).includes('roots=explain')
           ? new Promise((ok) => setTimeout(ok, 2500)).then(() => real(url, o))
           : real(url, o);
         window.__rendered = document.body.dataset.rendered;
         const s = document.querySelector('#why-roots'); s.value = 'explain'; s.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .expect("hold back the explaining answer");
    b.until(
        "the page rendered again",
        "document.body.dataset.rendered !== window.__rendered && document.querySelector('#why-roots')?.value === 'explain'",
    )
    .await;
    c.execute(
        "const s = document.querySelector('#why-roots'); s.value = 'unusual'; s.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .expect("choose roots");
    let first = b
        .until_text(
            "the unusual causes",
            "document.querySelector('#why-roots')?.value === 'unusual' && (document.querySelector('#why > p.muted.small')?.innerText ?? '').includes('however little of the gap') && document.querySelector('#why .causes li .cause-head')?.innerText",
        )
        .await;
    // The held-back answer has arrived by now; it must not have replaced it.
    tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    let shown = c
        .execute(
            "return document.querySelector('#why > p.muted.small')?.innerText ?? ''",
            vec![],
        )
        .await
        .expect("criterion");
    assert!(
        shown
            .as_str()
            .unwrap_or_default()
            .contains("however little of the gap"),
        "an earlier choice's answer replaced the later one: {shown}"
    );
    assert!(first.contains("partner=CloudCo ∧ region=EU"), "{first}");
    c.execute("document.querySelector('#why-heading').scrollIntoView()", vec![])
        .await
        .expect("scroll");
    b.shot("kpi-why-unusual-desktop").await;

    // Acting on the cause: the form is filled with it, and the recorded
    // action shows the segment before and after.
    b.click("the cause's act button", "#why button[data-act=\"0\"]")
        .await;
    let cause = b
        .until(
            "the prefilled form",
            "document.querySelector('#action-form input[name=cause]')?.value",
        )
        .await;
    assert_eq!(cause, json!("partner=CloudCo, region=EU"));
    c.execute(
        "const f = document.querySelector('#action-form');
         f.title.value = 'Call CloudCo about the EU orders'; f.owner.value = 'partner-manager';
         f.due.value = '2030-01-31'; f.requestSubmit();",
        vec![],
    )
    .await
    .expect("submit");
    let listed = b
        .until_text(
            "the action",
            "document.querySelector('#actions li.action')?.innerText",
        )
        .await;
    assert!(listed.contains("Call CloudCo about the EU orders"), "{listed}");
    assert!(listed.contains("partner=CloudCo ∧ region=EU"), "{listed}");
    assert!(listed.contains("recovered"), "{listed}");
    c.execute(
        "document.querySelector('#actions-heading').scrollIntoView()",
        vec![],
    )
    .await
    .expect("scroll");
    b.shot("kpi-actions-desktop").await;
    c.set_window_size(390, 2600).await.expect("size");
    b.shot("kpi-actions-phone").await;
}
