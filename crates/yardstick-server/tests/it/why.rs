//! `why` over the API and on the dashboard: the demo's collapsed month is
//! explained by the partner and region that collapsed, party tokens split
//! by declared dimensions only, and the KPI page's "Why?" shows the cause
//! and focuses the breakdown on it.

use super::dashboard::Browser;
use super::*;

/// The demo at `today`, served, and the month in which CloudCo's EU
/// business collapsed: the one complete month without such an order.
pub(crate) async fn demo_with_collapse() -> (tempfile::TempDir, Server, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let today = chrono::Utc::now().date_naive();
    let files = yardstick_scaffold::demo(42, today);
    yardstick_scaffold::write_project(dir.path(), &files).expect("demo");
    let orders = &files
        .iter()
        .find(|(p, _)| p == "data/orders.csv")
        .expect("orders")
        .1;
    let mut months: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    let (region, partner) = yardstick_scaffold::COLLAPSE;
    for line in orders.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let n = months.entry(f[1][..7].to_string()).or_default();
        if f[5] == region && f[7] == partner {
            *n += 1;
        }
    }
    // Not the first or last (partial) months, where a zero means nothing.
    let inner: Vec<(&String, &usize)> = months.iter().skip(1).collect();
    let collapsed: Vec<&String> = inner[..inner.len() - 1]
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(m, _)| *m)
        .collect();
    assert_eq!(collapsed.len(), 1, "{months:?}");
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    s.settle().await;
    let month = collapsed[0].clone();
    (dir, s, month)
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

    // Bad parameters are the request's fault, by code.
    for (q, code) in [
        ("period=2026-13", "bad_period"),
        (&format!("period={month}&vs=yesterday") as &str, "bad_request"),
        (&format!("period={month}&depth=9"), "bad_request"),
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
            .until(
                "the causes",
                &format!(
                    "document.querySelector('#why-period')?.value === {month:?} && document.querySelector('#why .causes li .cause-head')?.innerText"
                ),
            )
            .await;
        let first = first.as_str().unwrap_or_default().to_string();
        assert!(first.contains("partner=CloudCo ∧ region=EU"), "{name}: {first}");
        assert!(first.contains("root cause"), "{name}: {first}");
        c.execute("document.querySelector('#why-heading').scrollIntoView()", vec![])
            .await
            .expect("scroll");
        b.shot(&format!("kpi-why-{name}")).await;
        // The cause's link focuses the breakdown: by region, within CloudCo.
        c.execute(
            "document.querySelector('#why a[data-cause=\"0\"]').click()",
            vec![],
        )
        .await
        .expect("click");
        let bars = b
            .until(
                "the focused breakdown",
                "(document.querySelector('#bars')?.innerText ?? '').includes('Within') && document.querySelector('#bars tr.focus td.label')?.innerText",
            )
            .await;
        assert_eq!(bars, json!("EU"), "{name}");
        b.shot(&format!("kpi-why-focus-{name}")).await;
        c.execute("document.querySelector('#unfocus').click()", vec![])
            .await
            .expect("unfocus");
    }
}
