//! The dashboard in a real headless Chromium.

use super::*;

// ------------------------------------------------------------------ dashboard

/// A headless Chromium driven through chromedriver (WebDriver), or `None`
/// after saying loudly that the browser tests are skipped.
pub(crate) struct Browser {
    pub(crate) client: fantoccini::Client,
    driver: std::process::Child,
}

impl Browser {
    pub(crate) async fn start() -> Option<Browser> {
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

    /// Signs in on the login page with `token` and waits for the overview.
    pub(crate) async fn login(&self, base: &str, token: &str) {
        self.client.goto(&format!("{base}/")).await.expect("open");
        self.until("the login form", "document.querySelector('#login-form') !== null")
            .await;
        self.client
            .find(fantoccini::Locator::Css("#token"))
            .await
            .expect("field")
            .send_keys(token)
            .await
            .expect("type");
        self.client
            .find(fantoccini::Locator::Css("#login-form button"))
            .await
            .expect("button")
            .click()
            .await
            .expect("submit");
        self.until("the overview", "document.querySelectorAll('tr[data-kpi]').length")
            .await;
    }

    pub(crate) async fn shot(&self, name: &str) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Waits until `script` (a JS expression) is truthy.
    /// Gives up after 30 s: on-demand routes (`why`) in a debug build, with
    /// the other browser tests running beside, took more than 15 s in CI.
    pub(crate) async fn until(&self, what: &str, script: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..300 {
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

    /// Clicks the element at `selector` once it is there, looked up and
    /// clicked in one script: a page that re-renders may replace it
    /// between a look and a click.
    pub(crate) async fn click(&self, what: &str, selector: &str) {
        self.until(
            what,
            &format!("(() => {{ const e = document.querySelector({selector:?}); if (!e) return false; e.click(); return true; }})()"),
        )
        .await;
    }

    /// Waits until `script` gives text, and returns it.
    pub(crate) async fn until_text(&self, what: &str, script: &str) -> String {
        self.until(what, script)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub(crate) async fn close(mut self) {
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
    // In the periods table, the month in progress is judged so far, not
    // missed for good: its status says so at every width.
    let so_far = browser
        .until(
            "the month in progress in the periods table",
            "document.querySelector('.so-far')?.closest('td')?.textContent",
        )
        .await;
    assert!(
        so_far.as_str().is_some_and(|t| t.starts_with("so far ")),
        "{so_far}"
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
            "(document.querySelector('tr[data-kpi=signups] .value')?.innerText.trim() === '4') && window.__sameDocument === true",
        )
        .await;
    assert_eq!(shown, json!(true));
    // The refresh after a push read the pushed rows alone (or, had the
    // minute ticked since, kept everything): the overview says so.
    let line = browser
        .until(
            "the evaluation line",
            "document.querySelector('#evaluated')?.textContent",
        )
        .await;
    let line = line.as_str().unwrap_or_default().to_string();
    assert!(line.starts_with("Evaluated "), "{line}");
    assert!(
        line.contains("over new rows only") || line.contains("kept"),
        "{line}"
    );
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
