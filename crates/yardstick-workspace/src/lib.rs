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

pub mod actions;
pub mod agreements;
pub mod alerts;
mod compact;
pub mod documents;
pub mod proposals;
pub mod review;
pub mod schedule;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use yardstick_core::model::{Origin, Project};
use yardstick_core::{Diagnostics, Loaded, ROOT_FILE};
use yardstick_engine::eval::incremental::{Outcome, Partials};
use yardstick_engine::eval::{EvalError, EvalOptions, Evaluation};
use yardstick_engine::freshness::Stale;
use yardstick_engine::ingest::{self, BodyFormat, PushError, RowError};
use yardstick_engine::reconcile::{ReconcileOptions, Reconciliation};
use yardstick_engine::{Catalog, StoredRows};
use yardstick_store::{NewBatch, Store, Stored};

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

/// The project's store when it has one (`db`, `YARDSTICK_DB`, or an
/// existing `.yardstick/state.db`): reading never creates a store.
pub async fn existing_store(dir: &Path, db: Option<&str>) -> Result<Option<Store>, String> {
    let named =
        db.is_some_and(|d| !d.is_empty()) || std::env::var("YARDSTICK_DB").is_ok_and(|d| !d.is_empty());
    if !named && !dir.join(".yardstick").join("state.db").is_file() {
        return Ok(None);
    }
    let url = store_url(dir, db)?;
    Store::open(&url).await.map(Some).map_err(|e| e.to_string())
}

/// A project opened once: definitions, stored rows and the catalog.
pub struct Workspace {
    dir: PathBuf,
    loaded: Loaded,
    /// Where pushes go; `None` when opened on a store its owner keeps open.
    store_url: Option<String>,
    stored: StoredRows,
    /// The newest stored batch decoded into `stored`.
    seq: i64,
    /// Stored batches decoded so far: a test can see each is decoded once.
    decoded: usize,
    /// Shared with the server's snapshots, which keep the catalog they
    /// were evaluated with.
    catalog: Arc<Catalog>,
    /// What registering the sources found (a missing file, an empty one…).
    source_diagnostics: Diagnostics,
    /// Pushed rows compacted into Parquet (a server's workspace only).
    compaction: Option<compact::Compaction>,
    /// Database connections, kept open between refreshes.
    connections: yardstick_engine::database::Connections,
    /// What the last incremental evaluation leaves for the next.
    partials: Partials,
    /// The Ballista cluster queries run on (`ballista://HOST:PORT`), or
    /// `None` for this process.
    engine: Option<String>,
}

/// The engine named by `YARDSTICK_ENGINE` (`local`, or empty, for this process).
pub fn engine_from_env() -> Option<String> {
    std::env::var("YARDSTICK_ENGINE")
        .ok()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty() && e != "local")
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
        Self::open_on_engine(dir, loaded, db, None).await
    }

    /// [`Workspace::open_loaded`] with its queries run on `engine`
    /// (`ballista://HOST:PORT`, or `local`); `None`: `YARDSTICK_ENGINE`.
    pub async fn open_on_engine(
        dir: &Path,
        loaded: Loaded,
        db: Option<&str>,
        engine: Option<&str>,
    ) -> Result<Workspace, OpenError> {
        if loaded.diagnostics.has_errors() {
            return Err(OpenError::Definitions(Box::new(loaded)));
        }
        let store_url = store_url(dir, db).map_err(OpenError::Store)?;
        let mut ws = Workspace::unread(dir, loaded, Some(store_url.clone()));
        if let Some(engine) = engine {
            ws.engine = (engine != "local").then(|| engine.to_string());
        }
        if has_stored_sources(ws.project()) {
            let store = Store::open(&store_url)
                .await
                .map_err(|e| OpenError::Store(e.to_string()))?;
            let read = ws.read_batches(&store).await;
            store.close().await;
            read.map_err(OpenError::Store)?;
        }
        ws.register().await;
        Ok(ws)
    }

    /// Opens `dir` for a front end that lives on and keeps `store` open
    /// (the server): every stored batch read and the catalog registered.
    /// A batch that cannot be decoded is returned beside the workspace,
    /// which holds the rest.
    /// Its pushed rows are compacted into Parquet as they grow.
    pub async fn open_on(dir: &Path, loaded: Loaded, store: &Store) -> (Workspace, Result<(), String>) {
        let mut ws = Workspace::unread(dir, loaded, None);
        ws.compaction = Some(compact::Compaction::new(dir, ws.project()));
        ws.resume_compacted(store).await;
        let read = ws.read_batches(store).await;
        ws.compact_if_due(store).await;
        ws.register().await;
        (ws, read)
    }

    fn unread(dir: &Path, loaded: Loaded, store_url: Option<String>) -> Workspace {
        let catalog = Arc::new(yardstick_engine::sources::empty_catalog(&loaded.project, dir));
        Workspace {
            dir: dir.to_path_buf(),
            loaded,
            store_url,
            stored: StoredRows::new(),
            seq: 0,
            decoded: 0,
            catalog,
            source_diagnostics: Diagnostics::default(),
            compaction: None,
            connections: Default::default(),
            partials: Partials::default(),
            engine: engine_from_env(),
        }
    }

    /// Decodes the batches stored since the last read. A batch that cannot
    /// be decoded is reported once and skipped (the later ones are read next
    /// time); new definitions read every batch again.
    async fn read_batches(&mut self, store: &Store) -> Result<(), String> {
        let batches = store.batches_after(self.seq).await.map_err(|e| e.to_string())?;
        for (seq, source, body) in batches {
            self.seq = self.seq.max(seq);
            // A source since removed from the definitions, or no longer
            // stored, is skipped.
            if let Some(decoded) = decode_batch(self.project(), seq, &source, &body)? {
                self.decoded += 1;
                self.stored.entry(source).or_default().extend(decoded);
            }
        }
        Ok(())
    }

    /// Registers the catalog afresh: files as they are on disk now, stored
    /// rows as decoded.
    async fn register(&mut self) {
        let mut d = Diagnostics::default();
        let compacted = self
            .compaction
            .as_ref()
            .map(compact::Compaction::files)
            .unwrap_or_default();
        let project = &self.loaded.project;
        let tz = project.settings.timezone;
        // This process's session, or one whose queries run on the cluster.
        let session = match self.engine.as_deref() {
            None => Ok(yardstick_engine::sources::session(tz)),
            Some(engine) => {
                cluster_limits(project, engine, &mut d);
                yardstick_cluster::remote_session(engine, tz).await
            }
        };
        let catalog = match session {
            Ok(ctx) => {
                yardstick_engine::sources::register_sources_on(
                    ctx,
                    project,
                    &self.dir,
                    &self.stored,
                    &compacted,
                    &mut self.connections,
                    &mut d,
                )
                .await
            }
            Err(e) => {
                d.push(yardstick_core::Diagnostic::error(e.code(), e.to_string()));
                yardstick_engine::sources::empty_catalog(project, &self.dir)
            }
        };
        self.catalog = Arc::new(catalog);
        self.source_diagnostics = d;
    }

    /// Takes in what changed since the last refresh: batches stored since
    /// (by this process or another sharing the store) and the data files
    /// as they are now. An undecodable batch is reported; the catalog is
    /// registered with everything else.
    pub async fn refresh(&mut self, store: &Store) -> Result<(), String> {
        self.resume_compacted(store).await;
        let read = self.read_batches(store).await;
        self.compact_if_due(store).await;
        self.register().await;
        read
    }

    /// New definitions, which checked: stored rows are decoded afresh with
    /// their schemas at the next [`Workspace::refresh`].
    pub fn set_definitions(&mut self, loaded: Loaded) {
        self.loaded = loaded;
        self.stored.clear();
        self.seq = 0;
        self.partials = Partials::default();
        self.reset_compaction();
    }

    /// How many stored batches this workspace has decoded.
    pub fn batches_decoded(&self) -> usize {
        self.decoded
    }

    /// The newest stored batch read.
    pub fn batch_seq(&self) -> i64 {
        self.seq
    }

    /// The catalog, to keep beside an evaluation made with it.
    pub fn shared_catalog(&self) -> Arc<Catalog> {
        self.catalog.clone()
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

    /// Evaluates with `opts` on the catalog: the rows, or — when nothing
    /// could be evaluated — the located diagnostics that say why (sources
    /// that could not be registered; data the engine rejected, located at
    /// file, row and column by the data checks).
    ///
    /// DataFusion's errors do not say which file and row they met, so a
    /// data error is located by running the data checks, once, here (only
    /// when evaluation failed); a data error they cannot locate stays an
    /// [`EvalError::Data`] with the engine's message.
    pub async fn evaluate(&self, opts: &EvalOptions) -> Result<(Evaluation, Diagnostics), EvalError> {
        self.evaluate_from(opts, None).await
    }

    /// [`Workspace::evaluate`] for a front end that evaluates again and
    /// again (the server's refresher): starts from what the last call
    /// computed, so a refresh reads only rows appended since (see
    /// [`yardstick_engine::eval::incremental`]). The result equals
    /// [`Workspace::evaluate`]'s.
    pub async fn evaluate_incremental(
        &mut self,
        opts: &EvalOptions,
    ) -> Result<(Evaluation, Diagnostics), EvalError> {
        let mut partials = std::mem::take(&mut self.partials);
        let result = self.evaluate_from(opts, Some(&mut partials)).await;
        self.partials = partials;
        result
    }

    /// How the last [`Workspace::evaluate_incremental`] used the one before.
    pub fn incremental_outcome(&self) -> Outcome {
        self.partials.outcome()
    }

    async fn evaluate_from(
        &self,
        opts: &EvalOptions,
        partials: Option<&mut Partials>,
    ) -> Result<(Evaluation, Diagnostics), EvalError> {
        let empty = || Evaluation {
            as_of: opts.as_of.into(),
            evaluations: Vec::new(),
        };
        if self.source_diagnostics.has_errors() {
            return Ok((empty(), self.source_diagnostics.clone()));
        }
        let evaluated = match partials {
            Some(p) => {
                yardstick_engine::eval::evaluate_incremental(self.project(), &self.catalog, opts, p).await
            }
            None => yardstick_engine::eval::evaluate(self.project(), &self.catalog, opts).await,
        };
        match evaluated {
            Ok(ev) => Ok((ev, self.source_diagnostics.clone())),
            Err(EvalError::Data(m)) => {
                let located = self.check_data().await;
                if located.has_errors() {
                    Ok((empty(), located))
                } else {
                    Err(EvalError::Data(m))
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Reconciles `id` (`[reconcile.ID]`): the result, or — when a source
    /// could not be registered — the located diagnostics that say why.
    pub async fn reconcile(
        &self,
        id: &str,
        opts: &ReconcileOptions,
    ) -> Result<Result<Reconciliation, Diagnostics>, EvalError> {
        if self.source_diagnostics.has_errors() {
            return Ok(Err(self.source_diagnostics.clone()));
        }
        match yardstick_engine::reconcile::reconcile(self.project(), &self.catalog, id, opts).await {
            Ok(r) => Ok(Ok(r)),
            Err(EvalError::Data(m)) => {
                let located = self.check_data().await;
                if located.has_errors() {
                    Ok(Err(located))
                } else {
                    Err(EvalError::Data(m))
                }
            }
            Err(e) => Err(e),
        }
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
        let url = self
            .store_url
            .as_deref()
            .ok_or("this workspace reads a store its owner keeps open: push through the owner")?;
        push(self.project(), url, rows).await
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

/// Why rows were not stored, by fault.
#[derive(Debug, thiserror::Error)]
pub enum PushFailure {
    /// The pusher's: an unknown source, one that is not stored, or bad rows
    /// (every one listed).
    #[error(transparent)]
    Rejected(#[from] PushError),
    /// Ours: the parsed batch could not be encoded.
    #[error("{0}")]
    Internal(String),
}

/// Parses `body` for the stored source `source` and encodes it for the
/// store: its row count and bytes. CPU work: the server runs it off its
/// request threads.
pub fn encode_rows(
    project: &Project,
    source: &str,
    body: &[u8],
    format: BodyFormat,
) -> Result<(i64, Vec<u8>), PushFailure> {
    let s = ingest::stored_source(project, source)?;
    let batch = ingest::parse_batch(project, s, body, format)?;
    let bytes =
        ingest::encode(&batch).map_err(|e| PushFailure::Internal(format!("cannot encode the batch: {e}")))?;
    Ok((batch.num_rows() as i64, bytes))
}

/// Parses and stores `rows` into the store at `url` (the push pipeline of
/// `yardstick push` and `yardstick demo`; the server runs [`encode_rows`]
/// too, and stores into the store it keeps open).
pub async fn push(
    project: &Project,
    url: &str,
    rows: &Rows<'_>,
) -> Result<Result<Stored, Vec<RowError>>, String> {
    let (count, bytes) = match encode_rows(project, rows.source, rows.body, rows.format) {
        Ok(x) => x,
        Err(PushFailure::Rejected(PushError::BadRows(bad))) => return Ok(Err(bad)),
        Err(e) => return Err(e.to_string()),
    };
    let store = Store::open(url).await.map_err(|e| e.to_string())?;
    let batch = NewBatch {
        source: rows.source,
        idempotency_key: rows.idempotency_key,
        rows: count,
        actor: rows.actor,
        body: &bytes,
    };
    let r = store.insert_batch(&batch).await.map_err(|e| e.to_string());
    store.close().await;
    r.map(Ok)
}

/// Sources whose rows cannot travel to a cluster's executors: rows held
/// in this process (stored sources) and database connections.
fn cluster_limits(project: &Project, engine: &str, d: &mut Diagnostics) {
    for s in project.sources.values() {
        let what = match s.origin {
            Some(Origin::Store) => "its rows are held by this process",
            Some(Origin::Database { .. }) => "it is read through a database connection of this process",
            _ => continue,
        };
        d.push(
            yardstick_core::Diagnostic::error(
                "not-on-cluster",
                format!(
                    "source `{}` cannot be evaluated on the cluster `{engine}`: {what}",
                    s.id.value
                ),
            )
            .at(&s.id.loc)
            .hint(
                "evaluate it locally (`--engine local`), or export its rows to files every executor can read",
            ),
        );
    }
}

fn has_stored_sources(project: &Project) -> bool {
    project
        .sources
        .values()
        .any(|s| matches!(s.origin, Some(Origin::Store)))
}

/// One stored batch decoded with its source's declared schema; `None` for
/// a source the definitions no longer store.
fn decode_batch(
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
    ingest::decode(body, &ingest::stored_schema(s))
        .map(Some)
        .map_err(|e| format!("stored batch {seq} of `{source}`: {e}"))
}
