//! Yardstick's state store, through sqlx: SQLite (a file in the project
//! folder, the default) or PostgreSQL (a `postgres://` URL).
//!
//! It keeps what must outlive a process: rows pushed into stored sources
//! (one Arrow IPC batch per push, opaque here), what each evaluation
//! reported, API tokens (a SHA-256 hash, never the secret) and the audit log.
//! Schema changes are sqlx migrations, one folder per database.
//!
//! Durability: a write returns only after its transaction committed. SQLite
//! runs in WAL mode with `synchronous = FULL`, so a committed push survives
//! a crash of the process (and of the machine); PostgreSQL commits with its
//! default `fsync`.
//!
//! This crate knows SQL and nothing of HTTP, DataFusion or definitions.

use std::collections::HashMap;
use std::str::FromStr;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no database we support, or it cannot be opened.
    #[error("cannot open the state store {url}: {reason}")]
    Open { url: String, reason: String },
    /// An `Idempotency-Key` reused for a different body.
    #[error("idempotency key `{0}` was already used for a different batch")]
    KeyReused(String),
    #[error("no token `{0}`")]
    NoToken(String),
    #[error("state store error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("state store migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The state store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// The default store of a project folder: `<dir>/.yardstick/state.db`.
pub fn default_url(project_dir: &std::path::Path) -> Result<String, StoreError> {
    let dir = project_dir.join(".yardstick");
    std::fs::create_dir_all(&dir).map_err(|e| StoreError::Open {
        url: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(format!("sqlite://{}?mode=rwc", dir.join("state.db").display()))
}

/// A SQLite URL that creates its file (and folder) when missing, as the
/// default store does: `mode=rwc` unless the URL sets a mode itself.
fn sqlite_creating(url: &str) -> Result<String, StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let parent = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent.filter(|_| !path.starts_with(':')) {
        std::fs::create_dir_all(parent).map_err(|e| StoreError::Open {
            url: url.to_string(),
            reason: format!("cannot create the folder {}: {e}", parent.display()),
        })?;
    }
    if query.split('&').any(|kv| kv.starts_with("mode=")) {
        return Ok(url.to_string());
    }
    let sep = if query.is_empty() { "?" } else { "&" };
    let url = url.trim_end_matches('?');
    Ok(format!("{url}{sep}mode=rwc"))
}

/// A new batch of pushed rows.
#[derive(Debug, Clone)]
pub struct NewBatch<'a> {
    pub source: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub rows: i64,
    /// Who pushed it (a token id, or `cli`).
    pub actor: &'a str,
    pub body: &'a [u8],
}

/// The outcome of storing a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// The batch's sequence number (increasing).
    pub seq: i64,
    pub rows: i64,
    /// True when the idempotency key had been seen: nothing new was stored.
    pub replayed: bool,
}

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            other => Err(format!("`{other}` is not a role: admin, editor or viewer")),
        }
    }
}

/// A token as stored (without its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    pub id: String,
    pub role: Role,
    pub party: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// One reported value: what an evaluation said about a KPI period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reported {
    pub kpi: String,
    pub period: String,
    /// The entity as canonical JSON (`""` for a KPI without entities).
    pub entity: String,
    pub value: Option<f64>,
    pub status: Option<String>,
    pub complete: bool,
    pub evaluated_at: i64,
}

/// An alert instance whose firing notice was delivered and whose resolved
/// notice was not (yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertFiring {
    pub alert: String,
    pub instance: String,
    pub subject: String,
    pub summary: String,
    /// RFC 3339.
    pub since: String,
}

/// A value of an ended period that changed after it was first reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restatement {
    pub kpi: String,
    pub period: String,
    pub entity: String,
    pub before: Option<f64>,
    pub before_status: Option<String>,
    pub after: Option<f64>,
    pub after_status: Option<String>,
    pub reported_at: i64,
    pub restated_at: i64,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// SHA-256 of `data`, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// `n` random bytes from the OS, hex.
pub fn random_hex(n: usize) -> Result<String, StoreError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| StoreError::Open {
        url: "getrandom".into(),
        reason: e.to_string(),
    })?;
    Ok(hex(&buf))
}

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens (creating if needed) and migrates the store at `url`:
    /// `sqlite://path?mode=rwc` or `postgres://…`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Open {
                url: url.to_string(),
                reason: "use sqlite://PATH or postgres://USER@HOST/DB".into(),
            });
        };
        let sqlite_url;
        let url = if backend == Backend::Sqlite {
            sqlite_url = sqlite_creating(url)?;
            sqlite_url.as_str()
        } else {
            url
        };
        let opts = AnyConnectOptions::from_str(url).map_err(|e| StoreError::Open {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::raw_sql(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000;",
                        )
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .map_err(|e| StoreError::Open {
                url: redact(url),
                reason: e.to_string(),
            })?;
        match backend {
            Backend::Sqlite => SQLITE.run(&pool).await?,
            Backend::Postgres => POSTGRES.run(&pool).await?,
        }
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Stores a batch, all or nothing, with an audit entry in the same
    /// transaction. A batch whose idempotency key was seen for this source is
    /// not stored again: the first outcome is returned with `replayed`.
    pub async fn insert_batch(&self, b: &NewBatch<'_>) -> Result<Stored, StoreError> {
        let hash = sha256_hex(b.body);
        for _attempt in 0..2 {
            if let Some(key) = b.idempotency_key
                && let Some(done) = self.find_batch(b.source, key, &hash).await?
            {
                return Ok(done);
            }
            let now = now_micros();
            let mut tx = self.pool.begin().await?;
            if self.backend == Backend::Postgres {
                // Batches commit in sequence order (SQLite has one writer at a
                // time anyway), so a reader that has seen batch N has seen
                // every batch before it: `batches_after` misses nothing.
                sqlx::query("SELECT pg_advisory_xact_lock(7531)")
                    .execute(&mut *tx)
                    .await?;
            }
            let inserted = sqlx::query(
                "INSERT INTO batches (source, idempotency_key, body_hash, row_count, received_at, actor, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
            )
            .bind(b.source)
            .bind(b.idempotency_key)
            .bind(&hash)
            .bind(b.rows)
            .bind(now)
            .bind(b.actor)
            .bind(b.body)
            .fetch_one(&mut *tx)
            .await;
            let seq: i64 = match inserted {
                Ok(row) => row.try_get(0)?,
                // Another request with the same key won the race: answer as it did.
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() && b.idempotency_key.is_some() => {
                    drop(tx);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
                .bind(now)
                .bind(b.actor)
                .bind("push")
                .bind(format!("{} rows into `{}` (batch {seq})", b.rows, b.source))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Stored {
                seq,
                rows: b.rows,
                replayed: false,
            });
        }
        Err(StoreError::Db(sqlx::Error::Protocol(
            "idempotent insert did not settle".into(),
        )))
    }

    async fn find_batch(&self, source: &str, key: &str, hash: &str) -> Result<Option<Stored>, StoreError> {
        let row = sqlx::query(
            "SELECT seq, row_count, body_hash FROM batches WHERE source = $1 AND idempotency_key = $2",
        )
        .bind(source)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let stored_hash: String = row.try_get(2)?;
        if stored_hash != hash {
            return Err(StoreError::KeyReused(key.to_string()));
        }
        Ok(Some(Stored {
            seq: row.try_get(0)?,
            rows: row.try_get(1)?,
            replayed: true,
        }))
    }

    /// Every stored batch, in push order: (source, body).
    pub async fn batches(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let rows = sqlx::query("SELECT source, body FROM batches ORDER BY seq")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Batches with a sequence number above `seq`, in push order:
    /// (seq, source, body).
    pub async fn batches_after(&self, seq: i64) -> Result<Vec<(i64, String, Vec<u8>)>, StoreError> {
        let rows = sqlx::query("SELECT seq, source, body FROM batches WHERE seq > $1 ORDER BY seq")
            .bind(seq)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// The newest batch's sequence number (0 when there is none): a cheap
    /// way to notice pushes made by another process.
    pub async fn latest_seq(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM batches")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// Rows stored per source.
    pub async fn row_counts(&self) -> Result<HashMap<String, i64>, StoreError> {
        let rows = sqlx::query("SELECT source, CAST(SUM(row_count) AS BIGINT) FROM batches GROUP BY source")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Creates a token; returns it and its secret (shown once, never stored).
    pub async fn create_token(
        &self,
        role: Role,
        party: Option<&str>,
        actor: &str,
    ) -> Result<(Token, String), StoreError> {
        let id = random_hex(4)?;
        let secret = format!("ys_{}", random_hex(24)?);
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO tokens (id, hash, role, party, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&id)
            .bind(sha256_hex(secret.as_bytes()))
            .bind(role.as_str())
            .bind(party)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let party_note = party.map(|p| format!(" for party {p}")).unwrap_or_default();
        sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(now)
            .bind(actor)
            .bind("token.create")
            .bind(format!("token {id} ({}){party_note}", role.as_str()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let token = Token {
            id,
            role,
            party: party.map(str::to_string),
            created_at: now,
            revoked_at: None,
        };
        Ok((token, secret))
    }

    /// The live token whose secret is `secret`.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Token>, StoreError> {
        let row = sqlx::query(
            "SELECT id, role, party, created_at, revoked_at FROM tokens WHERE hash = $1 AND revoked_at IS NULL",
        )
        .bind(sha256_hex(secret.as_bytes()))
        .fetch_optional(&self.pool)
        .await?;
        row.map(token_of).transpose()
    }

    /// Whether token `id` exists and is not revoked.
    pub async fn token_is_live(&self, id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM tokens WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Every token, newest first.
    pub async fn tokens(&self) -> Result<Vec<Token>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, role, party, created_at, revoked_at FROM tokens ORDER BY created_at DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(token_of).collect()
    }

    /// Revokes token `id`.
    pub async fn revoke_token(&self, id: &str, actor: &str) -> Result<(), StoreError> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoToken(id.to_string()));
        }
        sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(now)
            .bind(actor)
            .bind("token.revoke")
            .bind(format!("token {id}"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Appends an audit entry.
    pub async fn audit(&self, actor: &str, action: &str, detail: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(now_micros())
            .bind(actor)
            .bind(action)
            .bind(detail)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The newest `limit` audit entries, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query("SELECT seq, at, actor, action, detail FROM audit ORDER BY seq DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(AuditEntry {
                    seq: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    action: r.try_get(3)?,
                    detail: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// The latest reported row of every (kpi, period, entity).
    pub async fn latest_reported(&self) -> Result<Vec<Reported>, StoreError> {
        self.reported_as_of(i64::MAX).await
    }

    /// What was reported at `at` (µs): per (kpi, period, entity), the latest
    /// row evaluated at or before it.
    pub async fn reported_as_of(&self, at: i64) -> Result<Vec<Reported>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.kpi, r.period, r.entity, r.value, r.status, r.complete, r.evaluated_at \
             FROM reported r JOIN ( \
               SELECT kpi, period, entity, MAX(evaluated_at) AS at FROM reported \
               WHERE evaluated_at <= $1 GROUP BY kpi, period, entity) m \
             ON r.kpi = m.kpi AND r.period = m.period AND r.entity = m.entity AND r.evaluated_at = m.at \
             ORDER BY r.kpi, r.period, r.entity",
        )
        .bind(at)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(reported_of).collect()
    }

    /// Alert instances firing, by alert and instance.
    pub async fn alerts_firing(&self) -> Result<Vec<AlertFiring>, StoreError> {
        let rows = sqlx::query(
            "SELECT alert, instance, subject, summary, since FROM alert_firing ORDER BY alert, instance",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(AlertFiring {
                    alert: r.try_get(0)?,
                    instance: r.try_get(1)?,
                    subject: r.try_get(2)?,
                    summary: r.try_get(3)?,
                    since: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Remembers that an alert instance's firing notice went out.
    pub async fn alert_fired(&self, a: &AlertFiring) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO alert_firing (alert, instance, subject, summary, since) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (alert, instance) DO UPDATE SET summary = excluded.summary",
        )
        .bind(&a.alert)
        .bind(&a.instance)
        .bind(&a.subject)
        .bind(&a.summary)
        .bind(&a.since)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets an alert instance once its resolved notice went out.
    pub async fn alert_resolved(&self, alert: &str, instance: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM alert_firing WHERE alert = $1 AND instance = $2")
            .bind(alert)
            .bind(instance)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records reported rows (the caller passes only those that changed).
    pub async fn record(&self, rows: &[Reported]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for r in rows {
            sqlx::query(
                // sqlx's Any driver sends a NULL float in a form PostgreSQL
                // rejects: bind a number and a flag instead.
                "INSERT INTO reported (kpi, period, entity, value, status, complete, evaluated_at) \
                 VALUES ($1, $2, $3, CASE WHEN $8 = 1 THEN $4 ELSE NULL END, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(&r.kpi)
            .bind(&r.period)
            .bind(&r.entity)
            .bind(r.value.unwrap_or(0.0))
            .bind(r.status.as_deref())
            .bind(i64::from(r.complete))
            .bind(r.evaluated_at)
            .bind(i64::from(r.value.is_some()))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Changes to the value or status of ended periods after they were
    /// first reported as ended, oldest first.
    pub async fn restatements(&self) -> Result<Vec<Restatement>, StoreError> {
        let rows = sqlx::query(
            "SELECT kpi, period, entity, value, status, complete, evaluated_at FROM reported \
             WHERE complete = 1 ORDER BY kpi, period, entity, evaluated_at",
        )
        .fetch_all(&self.pool)
        .await?;
        let rows: Vec<Reported> = rows.into_iter().map(reported_of).collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for w in rows.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            if (&a.kpi, &a.period, &a.entity) == (&b.kpi, &b.period, &b.entity)
                && (a.value != b.value || a.status != b.status)
            {
                out.push(Restatement {
                    kpi: b.kpi.clone(),
                    period: b.period.clone(),
                    entity: b.entity.clone(),
                    before: a.value,
                    before_status: a.status.clone(),
                    after: b.value,
                    after_status: b.status.clone(),
                    reported_at: a.evaluated_at,
                    restated_at: b.evaluated_at,
                });
            }
        }
        out.sort_by_key(|r| r.restated_at);
        Ok(out)
    }
}

/// Helpers for tests that need a database of their own.
pub mod testing {
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
}

fn token_of(r: sqlx::any::AnyRow) -> Result<Token, StoreError> {
    let role: String = r.try_get(1)?;
    Ok(Token {
        id: r.try_get(0)?,
        role: role
            .parse()
            .map_err(|e: String| StoreError::Db(sqlx::Error::Protocol(e)))?,
        party: r.try_get(2)?,
        created_at: r.try_get(3)?,
        revoked_at: r.try_get(4)?,
    })
}

fn reported_of(r: sqlx::any::AnyRow) -> Result<Reported, StoreError> {
    Ok(Reported {
        kpi: r.try_get(0)?,
        period: r.try_get(1)?,
        entity: r.try_get(2)?,
        value: r.try_get(3)?,
        status: r.try_get(4)?,
        complete: r.try_get::<i64, _>(5)? != 0,
        evaluated_at: r.try_get(6)?,
    })
}

/// A URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(i), Some(j)) if j > i => {
            let creds = &url[i + 3..j];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..i + 3], user, &url[j..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{redact, sqlite_creating};

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn sqlite_urls_create_their_file() {
        assert_eq!(
            sqlite_creating("sqlite://x.db").ok().as_deref(),
            Some("sqlite://x.db?mode=rwc")
        );
        assert_eq!(
            sqlite_creating("sqlite://x.db?cache=shared").ok().as_deref(),
            Some("sqlite://x.db?cache=shared&mode=rwc")
        );
        assert_eq!(
            sqlite_creating("sqlite://x.db?mode=ro").ok().as_deref(),
            Some("sqlite://x.db?mode=ro")
        );
    }
}
