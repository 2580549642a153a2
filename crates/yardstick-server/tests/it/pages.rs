//! Every page of the dashboard on the demo project, at desktop (1400 px)
//! and phone (390 px) width, in a real headless Chromium: what a new user
//! sees in the first hour. Screenshots go to `target/screenshots/`.

use super::dashboard::Browser;
use super::*;

/// The demo (as `yardstick demo` writes it), its signups and CloudCo's
/// report pushed.
async fn demo_server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().expect("temp dir");
    let today = chrono::Utc::now().date_naive();
    let files = yardstick_scaffold::demo(42, today);
    yardstick_scaffold::write_project(dir.path(), &files).expect("demo");
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    let csv = yardstick_scaffold::demo_signups(42, today);
    let (st, v) = s.push_to(&s.admin, "signups", "text/csv", &csv).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let report = yardstick_scaffold::demo_partner_report(42, &files);
    let (st, v) = s.push_to(&s.admin, "cloudco_report", "text/csv", &report).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    s.settle().await;
    (dir, s)
}

const WIDTHS: [(&str, u32, u32); 2] = [("desktop", 1400, 1800), ("phone", 390, 2400)];

impl Browser {
    /// Opens `hash` and waits until the page has rendered.
    async fn page(&self, base: &str, hash: &str, ready: &str) {
        self.client
            .execute("document.body.dataset.rendered = '';", vec![])
            .await
            .expect("reset");
        self.client.goto(&format!("{base}/{hash}")).await.expect("open");
        self.until(hash, &format!("document.body.dataset.rendered && ({ready})"))
            .await;
    }

    async fn text(&self, css: &str) -> String {
        let v = self
            .client
            .execute(
                &format!("return document.querySelector({css:?})?.innerText ?? '';"),
                vec![],
            )
            .await
            .expect("script");
        v.as_str().unwrap_or_default().to_string()
    }

    async fn texts(&self, css: &str) -> Vec<String> {
        let v = self
            .client
            .execute(
                &format!("return [...document.querySelectorAll({css:?})].map(e => e.innerText);"),
                vec![],
            )
            .await
            .expect("script");
        serde_json::from_value(v).unwrap_or_default()
    }

    /// Cells squeezed so narrow that their text is a column of letters.
    async fn crushed_cells(&self) -> Vec<String> {
        let v = self
            .client
            .execute(
                "return [...document.querySelectorAll('td')]
                   .filter(c => c.offsetParent && c.innerText.trim().length > 30 && c.offsetWidth < 70)
                   .map(c => c.innerText);",
                vec![],
            )
            .await
            .expect("script");
        serde_json::from_value(v).unwrap_or_default()
    }

    /// Cells of tables whose text wraps onto a second line although it is
    /// short (a period label or a target split in two).
    async fn wrapped_short_cells(&self) -> Vec<String> {
        let v = self
            .client
            .execute(
                "return [...document.querySelectorAll('td')]
                   .filter(c => c.offsetParent && c.innerText.trim().length > 0 && c.innerText.trim().length <= 12 && !c.querySelector('div, br, li'))
                   .filter(c => {
                     const r = document.createRange(); r.selectNodeContents(c);
                     const rs = [...r.getClientRects()].filter(x => x.width > 0);
                     // Two pieces of text on lines that do not overlap: it wrapped.
                     return rs.some(a => rs.some(b => b.top >= a.bottom - 1));
                   })
                   .map(c => c.innerText);",
                vec![],
            )
            .await
            .expect("script");
        serde_json::from_value(v).unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_reads_well_at_desktop_and_phone_width() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let (dir, s) = demo_server().await;
    let project = yardstick_engine::load_dir(dir.path()).project;
    let c = &b.client;

    // A deep link without a session: a styled login form, with a favicon.
    c.goto(&format!("{}/#/kpi/revenue", s.base)).await.expect("open");
    b.until("the login form", "document.querySelector('#login-form') !== null")
        .await;
    let styled = b
        .until(
            "the login card",
            "getComputedStyle(document.querySelector('.login')).maxWidth",
        )
        .await;
    assert_ne!(styled, json!("none"), "the login form is styled");
    let icon = s
        .http
        .get(format!("{}/favicon.svg", s.base))
        .send()
        .await
        .expect("favicon");
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(
        icon.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("image/svg+xml")
    );
    let link = c
        .execute(
            "return document.querySelector('link[rel=icon]')?.href ?? ''",
            vec![],
        )
        .await
        .expect("icon link");
    assert!(
        link.as_str().is_some_and(|h| h.ends_with("/favicon.svg")),
        "{link}"
    );
    for (name, w, h) in WIDTHS {
        c.set_window_size(w, h).await.expect("size");
        b.shot(&format!("login-{name}")).await;
    }
    // Signing in with a token keeps the deep link.
    c.set_window_size(1400, 1800).await.expect("size");
    let token = c
        .find(fantoccini::Locator::Css("#token"))
        .await
        .expect("token field");
    token.send_keys(&s.admin).await.expect("type");
    c.find(fantoccini::Locator::Css("#login-form button"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    b.until(
        "the revenue page",
        "location.hash === '#/kpi/revenue' && document.querySelector('#chart .u-legend')",
    )
    .await;

    for (name, w, h) in WIDTHS {
        c.set_window_size(w, h).await.expect("size");

        b.page(&s.base, "#/", "document.querySelectorAll('tr[data-kpi]').length")
            .await;
        // Healthy definitions: the live marker, no health banner.
        assert!(b.text("#health").await.is_empty(), "{name}");
        b.shot(&format!("overview-{name}")).await;
        let wrapped = b.wrapped_short_cells().await;
        assert!(
            wrapped.is_empty(),
            "{name}: short cells wrap on the overview: {wrapped:?}"
        );
        let crushed = b.crushed_cells().await;
        assert!(
            crushed.is_empty(),
            "{name}: cells too narrow for their text: {crushed:?}"
        );

        for kpi in [
            "revenue",
            "uptime",
            "conversion_rate",
            "tickets_28d",
            "trial_signups",
        ] {
            b.page(
                &s.base,
                &format!("#/kpi/{kpi}"),
                "document.querySelector('#chart .u-legend')",
            )
            .await;
            for part in ["#forecast", "#bars", "#explain"] {
                b.until(
                    part,
                    &format!("!(document.querySelector('{part}')?.innerText ?? '').includes('Loading')"),
                )
                .await;
            }
            let legend = b.text("#chart .u-legend").await;
            assert!(
                !legend.contains("--"),
                "{name} {kpi}: the legend shows placeholders: {legend}"
            );
            // The time axis is labelled by the KPI's periods, not by hours.
            let ticks = b.texts("#chart .u-axis:first-of-type .u-value").await;
            let axis_text = b.text("#chart").await;
            assert!(
                !axis_text.contains("12am") && !axis_text.contains(":00"),
                "{name} {kpi}: {ticks:?}"
            );
            let projection = b.text("#projection").await;
            assert!(!projection.contains("— so far"), "{name} {kpi}: {projection}");
            let forecast = b.text("#forecast").await;
            assert!(!forecast.contains("— – —"), "{name} {kpi}: {forecast}");
            let bars = b.texts("#bars .label").await;
            for label in &bars {
                assert!(
                    !label.contains('…'),
                    "{name} {kpi}: a breakdown label is cut: {label}"
                );
            }
            let wrapped = b.wrapped_short_cells().await;
            assert!(wrapped.is_empty(), "{name} {kpi}: short cells wrap: {wrapped:?}");
            let crushed = b.crushed_cells().await;
            assert!(
                crushed.is_empty(),
                "{name} {kpi}: cells too narrow for their text: {crushed:?}"
            );
            b.shot(&format!("kpi-{kpi}-{name}")).await;
        }

        b.page(
            &s.base,
            "#/contracts",
            "document.querySelector('[data-contract]')",
        )
        .await;
        let crushed = b.crushed_cells().await;
        assert!(
            crushed.is_empty(),
            "{name}: cells too narrow for their text: {crushed:?}"
        );
        // Headings name KPIs by their names.
        let headings = b.texts("[data-contract] h3").await;
        for k in project.kpis.values() {
            if k.name.is_some() {
                assert!(
                    !headings.iter().any(|h| h.contains(&format!(": {},", k.id.value))),
                    "{name}: an id where a name exists: {headings:?}"
                );
            }
        }
        // The hosting uptime clause's budget is judged by the clause's
        // target (99.5%), not the KPI's own (99.7%), over the whole month.
        let budget = b.texts("[data-contract] h3 + p").await.join("\n");
        assert!(budget.contains("Target >= 99.5%"), "{name}: {budget}");
        assert!(!budget.contains("99.7%"), "{name}: {budget}");
        assert!(
            budget.contains("minutes for the whole period"),
            "{name}: {budget}"
        );
        b.shot(&format!("contracts-{name}")).await;

        b.page(
            &s.base,
            "#/partnerships",
            "document.querySelector('[data-partnership]')",
        )
        .await;
        let card = b.text("[data-partnership]").await;
        for want in ["CloudCo", "distribution", "score"] {
            assert!(
                card.contains(want),
                "{name}: the partnerships list lacks {want}: {card}"
            );
        }
        b.shot(&format!("partnerships-{name}")).await;

        b.page(
            &s.base,
            "#/partnership/cloudco",
            "document.querySelector('table')",
        )
        .await;
        let kpi_cells = b.texts("td:first-child a").await;
        assert!(
            kpi_cells.iter().all(|t| !t.contains('_')),
            "{name}: KPI ids where names exist: {kpi_cells:?}"
        );
        b.shot(&format!("partnership-{name}")).await;

        b.page(
            &s.base,
            "#/reconciliations",
            "document.querySelector('[data-reconciliation]')",
        )
        .await;
        let card = b.text("[data-reconciliation]").await;
        for want in ["CloudCo", "partner_sales", "cloudco_report"] {
            assert!(
                card.contains(want),
                "{name}: the reconciliations list lacks {want}: {card}"
            );
        }
        b.shot(&format!("reconciliations-{name}")).await;

        // The latest month: both values, the bridge and the records.
        b.page(
            &s.base,
            "#/reconciliation/cloudco_sales",
            "document.querySelector('h2')",
        )
        .await;
        let page = b.text("main").await;
        assert!(page.contains("Discrepant records"), "{name}: {page}");
        // A month with every cause: the waterfall has a bar per cause.
        let busy = s.get("/api/v1/reconciliations/cloudco_sales", &s.admin).await.1["periods"]
            .as_array()
            .expect("periods")
            .iter()
            .filter(|p| p["complete"] == true)
            .max_by_key(|p| p["kpis"][0]["bridge"].as_array().map_or(0, Vec::len))
            .map(|p| p["period"].as_str().expect("label").to_string())
            .expect("a complete month");
        b.page(
            &s.base,
            &format!("#/reconciliation/cloudco_sales?period={busy}"),
            "document.querySelector('.waterfall')",
        )
        .await;
        let bars = b.texts(".waterfall td.wf-label").await;
        assert!(bars.len() >= 4, "{name}: {bars:?}");
        assert_eq!(bars.first().map(String::as_str), Some("partner_sales"));
        assert_eq!(bars.last().map(String::as_str), Some("cloudco_report"));
        let sentence = b.text("#bridge p").await;
        assert!(
            sentence.starts_with("Of the") && sentence.contains("by which partner_sales"),
            "{name}: {sentence}"
        );
        let rows = b.texts("[data-records] tbody tr").await;
        assert!(!rows.is_empty(), "{name}: no discrepant records shown");
        let crushed = b.crushed_cells().await;
        assert!(
            crushed.is_empty(),
            "{name}: cells too narrow for their text: {crushed:?}"
        );
        b.shot(&format!("reconciliation-{name}")).await;
    }

    // Broken definitions: a banner says so on every page, and the page is
    // not called live.
    let toml = dir.path().join("yardstick.toml");
    let good = std::fs::read_to_string(&toml).expect("read");
    std::fs::write(
        &toml,
        good.replace("[kpi.revenue]", "[kpi.revenue]\nevry = \"month\""),
    )
    .expect("break");
    let mut broken = false;
    for _ in 0..100 {
        if !s.state.snapshot().definition_errors.is_empty() {
            broken = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(broken, "the broken definitions were not noticed");
    c.set_window_size(1400, 1000).await.expect("size");
    c.refresh().await.expect("reload");
    let banner = b
        .until(
            "the health banner",
            "document.querySelector('#health:not([hidden])')?.innerText",
        )
        .await;
    let banner = banner.as_str().unwrap_or_default();
    assert!(
        banner.contains("do not check") && banner.contains("evry"),
        "{banner}"
    );
    let live_hidden = c
        .execute("return document.querySelector('#live').hidden", vec![])
        .await
        .expect("live");
    assert_eq!(live_hidden, json!(true));
    b.shot("overview-broken-desktop").await;
    b.close().await;
}
