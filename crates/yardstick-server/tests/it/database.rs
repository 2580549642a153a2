//! A project whose orders live in PostgreSQL, served: the API's explanation
//! carries the SQL the database ran, and the KPI page shows it (Chromium, at
//! desktop and phone width).

use super::dashboard::Browser;
use super::*;

/// The seed example's orders in a fresh schema of the test PostgreSQL.
async fn load_orders(url: &str) -> String {
    let schema = format!("srv_{}", std::process::id());
    let csv = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/examples/seed-kpis/data/orders.csv"),
    )
    .expect("seed orders");
    let rows: Vec<String> = csv
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v: Vec<String> = l
                .split(',')
                .map(|x| format!("'{}'", x.replace('\'', "''")))
                .collect();
            format!("({})", v.join(", "))
        })
        .collect();
    let sql = format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};
         CREATE TABLE {schema}.orders (order_id bigint, ordered_at timestamptz, customer_id text, is_first_order boolean,
           salesperson text, region text, amount double precision, cost double precision);
         INSERT INTO {schema}.orders VALUES {};",
        rows.join(",\n")
    );
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let task = tokio::spawn(conn);
    client.batch_execute(&sql).await.expect("load");
    drop(client);
    let _ = task.await;
    schema
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kpi_page_shows_the_sql_the_database_ran() {
    let Ok(pg) = std::env::var("YARDSTICK_TEST_POSTGRES") else {
        eprintln!("SKIPPED: set YARDSTICK_TEST_POSTGRES to test database sources");
        return;
    };
    let schema = load_orders(&pg).await;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("yardstick.toml"),
        format!(
            r#"
[project]
name = "Orders in PostgreSQL"
timezone = "Europe/Berlin"
currency = "EUR"

[connection.main]
url_env = "YARDSTICK_TEST_POSTGRES"

[source.orders]
connection = "main"
table = "{schema}.orders"
time = "ordered_at"

[kpi.revenue]
name = "Monthly revenue"
objective = "Grow revenue"
owner = "ceo"
source = "orders"
measure = "sum(amount)"
every = "month"
target = ">= 25000"
"#
        ),
    )
    .expect("write");
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;

    // The API: August's value is the seed's (Berlin months), computed by
    // PostgreSQL as one grouped query.
    let (st, x) = s
        .get("/api/v1/kpis/revenue/explain?period=2026-08", &s.admin)
        .await;
    assert_eq!(st, StatusCode::OK, "{x}");
    let sql = x["database_sql"].as_str().unwrap_or_else(|| panic!("{x:#}"));
    assert!(
        sql.contains("GROUP BY") && sql.contains(&format!("\"{schema}\".\"orders\"")),
        "{sql}"
    );
    let expected: f64 = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/examples/seed-kpis/data/orders.csv"),
    )
    .expect("orders")
    .lines()
    .skip(1)
    .filter_map(|l| {
        let f: Vec<&str> = l.split(',').collect();
        let at = chrono::DateTime::parse_from_rfc3339(f.get(1)?).ok()?;
        // Berlin keeps summer time (+02:00) from July to October.
        let local = at.with_timezone(&chrono::FixedOffset::east_opt(7200)?);
        (local.format("%Y-%m").to_string() == "2026-08").then(|| f.get(6)?.parse::<f64>().ok())?
    })
    .sum();
    let value = x["value"].as_f64().expect("value");
    assert!((value - expected).abs() < 1e-6, "{value} vs {expected} by hand");

    let Some(b) = Browser::start().await else {
        return;
    };
    b.login(&s.base, &s.admin).await;
    for (name, w, h) in [("desktop", 1400, 1800), ("phone", 390, 2400)] {
        b.client.set_window_size(w, h).await.expect("size");
        b.client
            .goto(&format!("{}/#/kpi/revenue", s.base))
            .await
            .expect("open");
        b.client.refresh().await.expect("reload");
        let label = b
            .until_text(
                "the database SQL",
                "document.querySelector('#database-sql-label')?.innerText",
            )
            .await;
        assert!(label.contains("Sent to the database"), "{label}");
        let shown = b
            .until_text("the SQL", "document.querySelector('#database-sql')?.innerText")
            .await;
        assert!(shown.contains("GROUP BY"), "{shown}");
        let sql_box = b
            .until(
                "the SQL box",
                "(() => { const e = document.querySelector('#database-sql'); return e && e.scrollWidth > 0 && e.getBoundingClientRect().right <= window.innerWidth + 1 ? 'fits' : null })()",
            )
            .await;
        assert_eq!(sql_box, json!("fits"), "{name}: the box stays inside the page");
        b.client
            .execute("document.querySelector('#explain').scrollIntoView();", vec![])
            .await
            .expect("scroll");
        b.shot(&format!("kpi-database-{name}")).await;
    }
    b.close().await;
}
