//! Database sources: tables of PostgreSQL read through DataFusion table
//! providers (`datafusion-table-providers`), their aggregates pushed down
//! into the database by `datafusion-federation`.
//!
//! A database source is registered twice:
//! - in the project's session, as a view that turns its time columns into
//!   instants like any other source. Reading it sends the database a
//!   `SELECT` of the columns used and of the filters it can run (see
//!   [`Guarded`]); everything else runs here.
//! - in a federated session of its connection, as the raw table. A leaf
//!   group over calendar periods is planned there as one aggregate query
//!   (periods as a `CASE` over their bounds, so the database groups by the
//!   project's own periods) and the whole query runs in the database: it
//!   returns one row per period × entity ([`pushed_query`]).
//!
//! The connection's URL is read from the environment and never appears in
//! a message: errors name the connection and its variable only.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::TableReference;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::*;
use datafusion_table_providers_postgres::PostgresTableFactory;
use datafusion_table_providers_postgres::pool::PostgresConnectionPool;
use secrecy::SecretString;
use yardstick_core::Calendar;
use yardstick_core::diag::{Diagnostic, Diagnostics, Located};
use yardstick_core::model::{Connection, Project};

/// A database source as the federated session sees it.
#[derive(Clone)]
pub struct DbTable {
    /// The connection's id.
    pub connection: String,
    /// The federated session of the connection: the raw table is
    /// registered under the source's id.
    pub ctx: SessionContext,
    /// Columns as the database types them.
    pub raw: SchemaRef,
}

impl std::fmt::Debug for DbTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbTable")
            .field("connection", &self.connection)
            .finish_non_exhaustive()
    }
}

/// Connections kept open across registrations (a server registers its
/// sources again on every refresh): each pool with its federated session,
/// by URL and project zone. Only connections that opened are kept, so a
/// failed one is tried again next time.
#[derive(Default)]
pub struct Connections {
    open: HashMap<(String, String), (Arc<PostgresConnectionPool>, SessionContext)>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys hold URLs: never printed.
        f.debug_struct("Connections")
            .field("open", &self.open.len())
            .finish()
    }
}

/// Connection parameters from a `postgres://` URL, for the pool.
fn params_of(url: &str) -> Result<HashMap<String, SecretString>, String> {
    let u = url::Url::parse(url).map_err(|e| format!("its URL does not parse ({e})"))?;
    if !matches!(u.scheme(), "postgres" | "postgresql") {
        return Err(format!("its URL starts with `{}:`, not `postgres:`", u.scheme()));
    }
    let mut p: HashMap<String, SecretString> = HashMap::new();
    let mut put = |k: &str, v: String| {
        p.insert(k.to_string(), SecretString::from(v));
    };
    put("host", u.host_str().unwrap_or("localhost").to_string());
    put("port", u.port().unwrap_or(5432).to_string());
    let user = percent(u.username());
    put("user", if user.is_empty() { "postgres".into() } else { user });
    if let Some(pass) = u.password() {
        put("pass", percent(pass));
    }
    let db = percent(u.path().trim_start_matches('/'));
    if !db.is_empty() {
        put("db", db);
    }
    // libpq's default: TLS when the server offers it.
    let mut sslmode = "prefer".to_string();
    for (k, v) in u.query_pairs() {
        match k.as_ref() {
            "sslmode" => sslmode = v.into_owned(),
            "sslrootcert" => put("sslrootcert", v.into_owned()),
            "application_name" => put("application_name", v.into_owned()),
            _ => {}
        }
    }
    put("sslmode", sslmode);
    // Instants are compared in UTC, whatever the server's default zone.
    put("options", "-c TimeZone=UTC".into());
    put("connection_pool_size", "4".into());
    Ok(p)
}

/// A URL part decoded (`%40` is `@`; a `+` stays a `+`, as in user info).
fn percent(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// A message from the database layer with anything secret taken out.
fn scrub(message: &str, url: &str) -> String {
    let mut m = message.to_string();
    if !url.is_empty() {
        m = m.replace(url, "<url>");
    }
    if let Ok(u) = url::Url::parse(url)
        && let Some(pass) = u.password()
        && !pass.is_empty()
    {
        m = m.replace(pass, "<password>");
        m = m.replace(&percent(pass), "<password>");
    }
    m
}

/// A connection's pool and its federated session, opened now or kept from
/// an earlier registration, or says why not at `at` (where a source names
/// the connection).
async fn open(
    kept: &mut Connections,
    c: &Connection,
    tz: chrono_tz::Tz,
    at: &Located<String>,
    d: &mut Diagnostics,
) -> Option<(Arc<PostgresConnectionPool>, SessionContext)> {
    let var = &c.url_env.value;
    let Ok(url) = std::env::var(var) else {
        d.push(
            Diagnostic::error(
                "missing-connection",
                format!(
                    "connection `{}`: the environment variable `{var}` is not set",
                    c.id.value
                ),
            )
            .at(&at.loc)
            .related(&c.url_env.loc, "the variable is named here")
            .hint(format!(
                "export {var}=postgres://user:password@host:5432/database"
            )),
        );
        return None;
    };
    let key = (url.clone(), tz.name().to_string());
    if let Some(open) = kept.open.get(&key) {
        return Some(open.clone());
    }
    let fail = |d: &mut Diagnostics, why: String| {
        d.push(
            Diagnostic::error(
                "unreachable-database",
                format!(
                    "cannot connect to database `{}` (URL in `{var}`): {why}",
                    c.id.value
                ),
            )
            .at(&at.loc)
            .related(&c.id.loc, "the connection is declared here"),
        );
    };
    let params = match params_of(&url) {
        Ok(p) => p,
        Err(why) => {
            fail(d, scrub(&why, &url));
            return None;
        }
    };
    match PostgresConnectionPool::new(params).await {
        Ok(pool) => {
            let state = datafusion_federation::default_session_state();
            let ctx = SessionContext::new_with_state(state);
            ctx.state_ref()
                .write()
                .config_mut()
                .options_mut()
                .execution
                .time_zone = Some(tz.name().to_string());
            let open = (Arc::new(pool), ctx);
            kept.open.insert(key, open.clone());
            Some(open)
        }
        Err(e) => {
            fail(d, scrub(&error_chain(&e), &url));
            None
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut m = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        let more = s.to_string();
        if !m.contains(&more) {
            m.push_str(": ");
            m.push_str(&more);
        }
        next = s.source();
    }
    m
}

/// Reads a database table: the raw provider, registered in the federated
/// session under `id`, and a provider for the project's session that sends
/// the database only what it can run ([`Guarded`]).
pub(crate) async fn open_table(
    project: &Project,
    kept: &mut Connections,
    failed: &mut std::collections::HashSet<String>,
    id: &str,
    connection: &Located<String>,
    table: &Located<String>,
    d: &mut Diagnostics,
) -> Option<(Arc<dyn TableProvider>, DbTable)> {
    let Some(c) = project.connections.get(&connection.value) else {
        // `check` reports the unknown connection.
        return None;
    };
    // A connection that failed is reported once per registration.
    if failed.contains(&c.id.value) {
        return None;
    }
    let Some((pool, ctx)) = open(kept, c, project.settings.timezone, connection, d).await else {
        failed.insert(c.id.value.clone());
        return None;
    };
    let url = std::env::var(&c.url_env.value).unwrap_or_default();
    let reference = TableReference::from(table.value.as_str());
    let raw = match PostgresTableFactory::new(pool).table_provider(reference).await {
        Ok(p) => p,
        Err(e) => {
            let why = scrub(&error_chain(e.as_ref()), &url);
            d.push(
                Diagnostic::error(
                    "missing-table",
                    format!(
                        "database `{}` has no table `{}` that can be read: {why}",
                        c.id.value, table.value
                    ),
                )
                .at(&table.loc)
                .hint("name a table or view the connection's user may read, with its schema if not `public`: \"sales.orders\""),
            );
            return None;
        }
    };
    // The session may be kept from an earlier registration.
    let registered = ctx
        .deregister_table(id)
        .and_then(|_| ctx.register_table(id, Arc::clone(&raw)));
    if let Err(e) = registered {
        d.push(Diagnostic::error("internal", format!("cannot register `{id}`: {e}")).at(&table.loc));
        return None;
    }
    let schema = raw.schema();
    let guarded: Arc<dyn TableProvider> = Arc::new(Guarded { inner: raw });
    Some((
        guarded,
        DbTable {
            connection: c.id.value.clone(),
            ctx,
            raw: schema,
        },
    ))
}

/// A database table that sends the database only filters made of columns,
/// constants and operators: our own functions (`ys_instant`, buckets) and
/// any function whose meaning may differ there run here.
#[derive(Debug)]
pub(crate) struct Guarded {
    inner: Arc<dyn TableProvider>,
}

/// Whether the database computes `e` as DataFusion would.
fn portable(e: &Expr) -> bool {
    let mut ok = true;
    let _ = e.apply(|x| match x {
        Expr::Column(_)
        | Expr::Literal(..)
        | Expr::BinaryExpr(_)
        | Expr::Not(_)
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsFalse(_)
        | Expr::Between(_)
        | Expr::InList(_)
        | Expr::Like(_)
        | Expr::Negative(_) => Ok(TreeNodeRecursion::Continue),
        _ => {
            ok = false;
            Ok(TreeNodeRecursion::Stop)
        }
    });
    ok
}

#[async_trait]
impl TableProvider for Guarded {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        let inner = self.inner.supports_filters_pushdown(filters)?;
        Ok(filters
            .iter()
            .zip(inner)
            .map(|(f, verdict)| {
                if portable(f) {
                    verdict
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let filters: Vec<Expr> = filters.iter().filter(|f| portable(f)).cloned().collect();
        self.inner.scan(state, projection, &filters, limit).await
    }
}

/// How a raw time column compares with period bounds in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeKind {
    /// `timestamptz`: compared with UTC bounds (the session runs in UTC).
    Instant,
    /// `timestamp`: a wall-clock time in the project's zone.
    Local,
    /// `date`: the day's start in the project's zone.
    Day,
}

impl TimeKind {
    pub fn of(t: &DataType) -> Option<TimeKind> {
        match t {
            DataType::Timestamp(_, Some(_)) => Some(TimeKind::Instant),
            DataType::Timestamp(_, None) => Some(TimeKind::Local),
            DataType::Date32 | DataType::Date64 => Some(TimeKind::Day),
            _ => None,
        }
    }

    /// The literal a row's time is compared with: it is before the bound
    /// `micros` iff the column is less than the literal.
    fn literal(self, micros: i64, tz: chrono_tz::Tz) -> String {
        let at = DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or_default();
        let stamp = |n: NaiveDateTime| format!("TIMESTAMP '{}'", n.format("%Y-%m-%d %H:%M:%S%.6f"));
        match self {
            TimeKind::Instant => stamp(at.naive_utc()),
            TimeKind::Local => stamp(at.with_timezone(&tz).naive_local()),
            TimeKind::Day => {
                // A date counts from the start of its day: before the bound
                // iff it is before the first day starting at or after it.
                let cal = Calendar::new(tz);
                let mut day = at.with_timezone(&tz).date_naive();
                if cal.start_of_day(day).with_timezone(&Utc) < at {
                    day += Duration::days(1);
                }
                format!("DATE '{}'", day.format("%Y-%m-%d"))
            }
        }
    }
}

/// The period index of `column` as a `CASE` over the frame's bounds that
/// the database can evaluate (a binary search: depth log₂ of the periods),
/// and the condition that keeps rows inside the frame.
pub fn period_case(column: &str, kind: TimeKind, bounds: &[i64], tz: chrono_tz::Tz) -> (String, String) {
    let lit = |i: usize| kind.literal(bounds[i], tz);
    fn split(column: &str, lo: usize, hi: usize, lit: &dyn Fn(usize) -> String) -> String {
        // Rows here fall in periods lo..hi (exclusive).
        if hi - lo == 1 {
            return lo.to_string();
        }
        let mid = (lo + hi) / 2;
        format!(
            "CASE WHEN {column} < {} THEN {} ELSE {} END",
            lit(mid),
            split(column, lo, mid, lit),
            split(column, mid, hi, lit)
        )
    }
    let n = bounds.len().saturating_sub(1);
    let within = format!("{column} >= {} AND {column} < {}", lit(0), lit(n));
    (split(column, 0, n.max(1), &lit), within)
}

/// The SQL sent to the database for a pushed leaf query, as DataFusion's
/// federation planned it (read from the physical plan's description).
pub(crate) async fn sent_sql(ctx: &SessionContext, sql: &str) -> DfResult<Vec<String>> {
    let df = ctx.sql(sql).await?;
    let plan = df.create_physical_plan().await?;
    let text = datafusion::physical_plan::displayable(plan.as_ref())
        .indent(true)
        .to_string();
    Ok(text
        .lines()
        .filter_map(|l| l.split_once("sql=").map(|(_, s)| s.trim().to_string()))
        .collect())
}

/// The earliest instant of a time column, or the latest before `before`
/// (µs), computed by the database; `None` when the column is not typed as
/// a time there (text times are read as rows and converted here).
pub(crate) async fn time_extreme(
    db: &DbTable,
    source: &str,
    column: &str,
    tz: chrono_tz::Tz,
    latest_before: Option<i64>,
) -> Option<DfResult<Option<i64>>> {
    let kind = TimeKind::of(db.raw.field_with_name(column).ok()?.data_type())?;
    let (col, table) = (quote(column), quote(source));
    let sql = match latest_before {
        None => format!("SELECT min({col}) FROM {table}"),
        Some(b) => format!(
            "SELECT max({col}) FROM {table} WHERE {col} < {}",
            kind.literal(b, tz)
        ),
    };
    let run = async {
        let batches = db.ctx.sql(&sql).await?.collect().await?;
        let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
            return Ok(None);
        };
        // Read as the source's view reads it (zone, dates).
        let instants = crate::udf::to_instants(b.column(0), tz, column)?;
        let a = datafusion::arrow::array::AsArray::as_primitive::<
            datafusion::arrow::datatypes::TimestampMicrosecondType,
        >(&instants);
        Ok(datafusion::arrow::array::Array::is_valid(a, 0).then(|| a.value(0)))
    };
    Some(run.await)
}

/// A quoted SQL identifier (as `eval` quotes them; `eval` uses this module).
fn quote(id: &str) -> String {
    format!("\"{}\"", id.replace('"', "\"\""))
}

/// Rows of a database source whose `column` is empty, counted there.
pub(crate) async fn missing_values(db: &DbTable, source: &str, column: &str) -> DfResult<i64> {
    let sql = format!(
        "SELECT CAST(count(*) - count({}) AS BIGINT) FROM {}",
        quote(column),
        quote(source)
    );
    let batches = db.ctx.sql(&sql).await?.collect().await?;
    Ok(batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| {
            datafusion::arrow::array::AsArray::as_primitive_opt::<datafusion::arrow::datatypes::Int64Type>(
                b.column(0),
            )
            .map(|a| a.value(0))
        })
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn a_url_becomes_the_pool_s_parameters_and_never_a_message() {
        let url = "postgres://ann:p%40ss+w0rd@db.internal:6543/sales?sslmode=require";
        let p = params_of(url).expect("parses");
        let get = |k: &str| {
            p.get(k)
                .map(|v| v.expose_secret().to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            (
                get("host"),
                get("port"),
                get("user"),
                get("pass"),
                get("db"),
                get("sslmode")
            ),
            (
                "db.internal".into(),
                "6543".into(),
                "ann".into(),
                "p@ss+w0rd".into(),
                "sales".into(),
                "require".into()
            )
        );
        assert_eq!(get("options"), "-c TimeZone=UTC");
        assert_eq!(
            scrub(&format!("failed for {url}: password p@ss+w0rd rejected"), url),
            "failed for <url>: password <password> rejected"
        );
        assert!(params_of("mysql://x@y/z").is_err());
    }
}
