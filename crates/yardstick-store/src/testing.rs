//! Helpers for tests that need a database of their own: a fresh
//! PostgreSQL database per test, or a loud SKIPPED line when there is no
//! server (CI fails on that line).

use super::*;

/// The PostgreSQL server for tests (`YARDSTICK_TEST_POSTGRES`, e.g.
/// `postgres://postgres@127.0.0.1:55432/postgres`), or `None` after
/// saying loudly that PostgreSQL tests are skipped.
pub fn postgres_url() -> Option<String> {
    match std::env::var("YARDSTICK_TEST_POSTGRES") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!(
                "\n!!! SKIPPED: PostgreSQL tests need YARDSTICK_TEST_POSTGRES=postgres://… \
                 (.ci/run starts a server and sets it) !!!\n"
            );
            None
        }
    }
}

/// Creates a fresh database on the server of `admin_url` and returns
/// its URL.
pub async fn fresh_postgres(admin_url: &str) -> Result<String, StoreError> {
    sqlx::any::install_default_drivers();
    let name = format!("ys_test_{}", random_hex(6)?);
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(admin_url).await?;
    // `name` is our own random hex: safe to splice.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await?;
    let base = match admin_url.rfind('/') {
        Some(i) if i > admin_url.find("://").map_or(0, |j| j + 2) => &admin_url[..i],
        _ => admin_url,
    };
    let query = admin_url.find('?').map(|i| &admin_url[i..]).unwrap_or("");
    Ok(format!("{base}/{name}{query}"))
}
