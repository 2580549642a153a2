//! Yardstick's state store, through sqlx: SQLite (a file in the project
//! folder, the default) or PostgreSQL (a `postgres://` URL).
//!
//! It keeps what must outlive a process: rows pushed into stored sources
//! (one Arrow IPC batch per push, opaque here), what each evaluation
//! reported, API tokens (a SHA-256 hash, never the secret), the review packs
//! issued on a schedule and the audit log.
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

// One module per table (the tables' methods are `impl Store` blocks there).
mod actions;
mod alerts;
mod audit;
mod batches;
mod history;
mod packs;
mod proposals;
mod resolutions;
mod signatures;
pub mod testing;
mod tokens;

pub use actions::{Action, Close, NewAction};
pub use alerts::AlertFiring;
pub use audit::AuditEntry;
pub use batches::{NewBatch, Stored};
pub use history::{Reported, Restatement};
pub use packs::{NewPack, Pack};
pub use proposals::{Decided, Decision, NewProposal, Proposal};
pub use resolutions::{NewResolution, Resolution};
pub use signatures::{NewSignature, Signature};
pub use tokens::{Role, Token};

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
