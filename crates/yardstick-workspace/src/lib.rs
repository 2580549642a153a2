//! One way into a project, for every front end.
//!
//! A [`Workspace`] is opened once from a project folder (and the state
//! store, when the project has stored sources): it loads and checks the
//! definitions once, reads and decodes the stored batches once, and
//! registers one DataFusion catalog. Commands then ask it for what they
//! need — an evaluation, the data checks, stale sources, a push — instead
//! of each opening the project its own way.
//!
//! It sits between the front ends (`yardstick-cli`, `yardstick-server`)
//! and the engine and store, and knows nothing of terminals or HTTP.

pub mod alerts;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use yardstick_core::model::{Origin, Project};
use yardstick_core::{Diagnostics, Loaded, ROOT_FILE};
use yardstick_engine::eval::{EvalError, EvalOptions, Evaluation};
use yardstick_engine::freshness::Stale;
use yardstick_engine::ingest::{self, BodyFormat, PushError, RowError};
use yardstick_engine::{Catalog, StoredRows};
use yardstick_store::{NewBatch, Store, Stored};

/// Stored batches decoded by this process (every workspace together): a
/// test can see that opening a project decodes each batch once.
static DECODED: AtomicUsize = AtomicUsize::new(0);

/// How many stored batches this process has decoded so far.
pub fn batches_decoded() -> usize {
    DECODED.load(Ordering::Relaxed)
}

/// Why a project could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The folder holds no project.
    #[error("{} has no {ROOT_FILE}: point at a project folder, or create one with `yardstick init {}`", .0.display(), .0.display())]
    NoProject(PathBuf),
    /// The definitions do not check: the diagnostics are in the `Loaded`.
    #[error("the definitions have errors")]
    Definitions(Box<Loaded>),
    /// The state store could not be read.
    #[error("{0}")]
    Store(String),
}

/// Where stored rows come from: `--db`, `YARDSTICK_DB`, or the project's
/// own SQLite file.
pub fn store_url(dir: &Path, db: Option<&str>) -> Result<String, String> {
    match db {
        Some(u) if !u.is_empty() => Ok(u.to_string()),
        _ => match std::env::var("YARDSTICK_DB") {
            Ok(u) if !u.is_empty() => Ok(u),
            _ => yardstick_store::default_url(dir).map_err(|e| e.to_string()),
        },
    }
}

/// A project opened once: definitions, stored rows and the catalog.
pub struct Workspace {
    dir: PathBuf,
    loaded: Loaded,
    store_url: String,
    stored: StoredRows,
    catalog: Catalog,
    /// What registering the sources found (a missing file, an empty one…).
    source_diagnostics: Diagnostics,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("dir", &self.dir)
            .field("sources", &self.catalog.tables.len())
            .finish_non_exhaustive()
    }
}

impl Workspace {
    /// Loads the definitions of `dir`; nothing else is read.
    pub fn load(dir: &Path) -> Result<Loaded, OpenError> {
        if !dir.join(ROOT_FILE).is_file() {
            return Err(OpenError::NoProject(dir.to_path_buf()));
        }
        Ok(yardstick_engine::load_dir(dir))
    }

    /// Opens `dir`: definitions (which must check), stored rows (from `db`,
    /// `YARDSTICK_DB` or the project's store, only when the project has
    /// stored sources) and one catalog over files and stored rows.
    pub async fn open(dir: &Path, db: Option<&str>) -> Result<Workspace, OpenError> {
        Self::open_loaded(dir, Self::load(dir)?, db).await
    }

    /// [`Workspace::open`] with definitions already loaded from `dir` (by
    /// `check`, which reports them first).
    pub async fn open_loaded(dir: &Path, loaded: Loaded, db: Option<&str>) -> Result<Workspace, OpenError> {
        if loaded.diagnostics.has_errors() {
            return Err(OpenError::Definitions(Box::new(loaded)));
        }
        let store_url = store_url(dir, db).map_err(OpenError::Store)?;
        let stored = if has_stored_sources(&loaded.project) {
            let store = Store::open(&store_url)
                .await
                .map_err(|e| OpenError::Store(e.to_string()))?;
            let rows = stored_rows(&store, &loaded.project).await;
            store.close().await;
            rows.map_err(OpenError::Store)?
        } else {
            StoredRows::new()
        };
        let mut source_diagnostics = Diagnostics::default();
        let catalog =
            yardstick_engine::register_sources_with(&loaded.project, dir, &stored, &mut source_diagnostics)
                .await;
        Ok(Workspace {
            dir: dir.to_path_buf(),
            loaded,
            store_url,
            stored,
            catalog,
            source_diagnostics,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn project(&self) -> &Project {
        &self.loaded.project
    }

    /// The definitions with their files (for located messages).
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The decoded rows of stored sources.
    pub fn stored(&self) -> &StoredRows {
        &self.stored
    }

    /// What registering the sources found; errors mean nothing can be
    /// evaluated.
    pub fn source_diagnostics(&self) -> &Diagnostics {
        &self.source_diagnostics
    }

    /// Evaluates with `opts` on the catalog: the rows, or the diagnostics of
    /// sources that could not be registered (then no rows).
    pub async fn evaluate(&self, opts: &EvalOptions) -> Result<(Evaluation, Diagnostics), EvalError> {
        if self.source_diagnostics.has_errors() {
            let empty = Evaluation {
                as_of: opts.as_of.into(),
                evaluations: Vec::new(),
            };
            return Ok((empty, self.source_diagnostics.clone()));
        }
        let ev = yardstick_engine::eval::evaluate(self.project(), &self.catalog, opts).await?;
        Ok((ev, self.source_diagnostics.clone()))
    }

    /// The data checks of `check` (files, row by row, at file:line).
    pub async fn check_data(&self) -> Diagnostics {
        yardstick_engine::check_data(self.project(), &self.dir).await
    }

    /// Sources whose newest row at `as_of` is older than their
    /// `freshness`.
    pub async fn stale(&self, as_of: DateTime<Utc>) -> Result<Vec<Stale>, EvalError> {
        if self.project().sources.values().all(|s| s.freshness.is_none()) {
            return Ok(Vec::new());
        }
        yardstick_engine::freshness::stale_sources(self.project(), &self.catalog, as_of).await
    }

    /// Parses `body` for the stored source `source` and stores it in one
    /// transaction: the stored batch, or every bad row (nothing stored).
    /// The workspace's own rows are not refreshed: open it again to read
    /// them.
    pub async fn push(&self, rows: &Rows<'_>) -> Result<Result<Stored, Vec<RowError>>, String> {
        push(self.project(), &self.store_url, rows).await
    }
}

/// A body of rows for a stored source.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    pub source: &'a str,
    pub body: &'a [u8],
    pub format: BodyFormat,
    pub idempotency_key: Option<&'a str>,
    /// Who pushes, for the audit log.
    pub actor: &'a str,
}

/// Parses and stores `rows` into the store at `url` (the push pipeline of
/// `yardstick push` and `yardstick demo`).
pub async fn push(
    project: &Project,
    url: &str,
    rows: &Rows<'_>,
) -> Result<Result<Stored, Vec<RowError>>, String> {
    let s = ingest::stored_source(project, rows.source).map_err(|e| e.to_string())?;
    let batch = match ingest::parse_batch(project, s, rows.body, rows.format) {
        Ok(b) => b,
        Err(PushError::BadRows(bad)) => return Ok(Err(bad)),
        Err(e) => return Err(e.to_string()),
    };
    let bytes = ingest::encode(&batch)?;
    let store = Store::open(url).await.map_err(|e| e.to_string())?;
    let r = store
        .insert_batch(&NewBatch {
            source: rows.source,
            idempotency_key: rows.idempotency_key,
            rows: batch.num_rows() as i64,
            actor: rows.actor,
            body: &bytes,
        })
        .await
        .map_err(|e| e.to_string());
    store.close().await;
    r.map(Ok)
}

fn has_stored_sources(project: &Project) -> bool {
    project
        .sources
        .values()
        .any(|s| matches!(s.origin, Some(Origin::Store)))
}

/// Every stored batch of the project's stored sources, decoded (the server
/// reads later batches incrementally with [`decode_batch`]).
pub async fn stored_rows(store: &Store, project: &Project) -> Result<StoredRows, String> {
    let mut out = StoredRows::new();
    for (seq, source, body) in store.batches_after(0).await.map_err(|e| e.to_string())? {
        if let Some(batches) = decode_batch(project, seq, &source, &body)? {
            out.entry(source).or_default().extend(batches);
        }
    }
    Ok(out)
}

/// One stored batch decoded with its source's declared schema; `None` for
/// a source the definitions no longer store.
pub fn decode_batch(
    project: &Project,
    seq: i64,
    source: &str,
    body: &[u8],
) -> Result<Option<Vec<yardstick_engine::ingest::RecordBatch>>, String> {
    let Some(s) = project.sources.get(source) else {
        return Ok(None);
    };
    if !matches!(s.origin, Some(Origin::Store)) {
        return Ok(None);
    }
    DECODED.fetch_add(1, Ordering::Relaxed);
    ingest::decode(body, &ingest::stored_schema(s))
        .map(Some)
        .map_err(|e| format!("stored batch {seq} of `{source}`: {e}"))
}
