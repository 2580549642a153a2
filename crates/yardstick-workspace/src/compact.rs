//! A long-lived workspace (the server's) keeps pushed rows in memory only
//! until a source holds [`yardstick_engine::compaction::COMPACT_ROWS`] of
//! them; then they are written to Parquet in the project's `.yardstick/`
//! and read from there (see [`yardstick_engine::compaction`]). The store
//! keeps every batch: the files are a cache, rebuilt from the store when
//! they are missing, belong to other definitions, or to another store.

use std::path::{Path, PathBuf};

use yardstick_core::model::{Origin, Project};
use yardstick_engine::compaction::{self, Manifest};
use yardstick_engine::{CompactedFiles, ingest};
use yardstick_store::Store;

use crate::Workspace;

/// Compaction state of a workspace.
#[derive(Debug)]
pub(crate) struct Compaction {
    /// `.yardstick/compacted/<digest of the stored sources' schemas>`.
    folder: PathBuf,
    manifest: Manifest,
    /// Rows of one source held in memory before they are compacted.
    rows: usize,
    /// Whether the manifest was checked against the store since the
    /// definitions were (re)loaded.
    resumed: bool,
}

/// The folder for a project's stored sources as defined now: new columns
/// make a new folder, so files never mix schemas.
fn folder(dir: &Path, project: &Project) -> PathBuf {
    let mut description = String::new();
    for s in project.sources.values() {
        if matches!(s.origin, Some(Origin::Store)) {
            description += &format!("{}: {:?}\n", s.id.value, ingest::stored_schema(s).fields());
        }
    }
    let digest = yardstick_store::sha256_hex(description.as_bytes());
    dir.join(".yardstick").join("compacted").join(&digest[..16])
}

impl Compaction {
    pub(crate) fn new(dir: &Path, project: &Project) -> Compaction {
        Compaction {
            folder: folder(dir, project),
            manifest: Manifest::default(),
            rows: compaction::COMPACT_ROWS,
            resumed: false,
        }
    }

    pub(crate) fn files(&self) -> CompactedFiles {
        self.manifest.paths(&self.folder)
    }
}

impl Workspace {
    /// Compacts a source's rows once it holds `rows` of them in memory
    /// (the default is [`compaction::COMPACT_ROWS`]); for a test, or a
    /// server with little memory.
    pub fn set_compaction_rows(&mut self, rows: usize) {
        if let Some(c) = &mut self.compaction {
            c.rows = rows.max(1);
        }
    }

    /// Starts from the compacted files when they were made from this
    /// store's batches: only later batches are read from the store.
    pub(crate) async fn resume_compacted(&mut self, store: &Store) {
        let Some(c) = &mut self.compaction else { return };
        if c.resumed {
            return;
        }
        c.resumed = true;
        c.manifest = Manifest::default();
        let Some(m) = compaction::read(&c.folder) else {
            return;
        };
        match store.batch_digest(m.seq).await {
            Ok(Some(digest)) if digest == m.check && m.seq > self.seq => {
                self.seq = m.seq;
                c.manifest = m;
            }
            Ok(_) => tracing::warn!(
                folder = %c.folder.display(),
                "compacted rows were made from another store: reading the store's batches instead"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot check the compacted rows against the store"),
        }
    }

    /// Compacts the rows held in memory when a source holds enough of them.
    /// A failure (a full disk) keeps the rows in memory and is logged.
    pub(crate) async fn compact_if_due(&mut self, store: &Store) {
        let Some(c) = &mut self.compaction else { return };
        if compaction::largest(&self.stored) < c.rows {
            return;
        }
        let check = match store.batch_digest(self.seq).await {
            Ok(Some(d)) => d,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot compact pushed rows");
                return;
            }
        };
        match compaction::compact(&c.folder, &mut self.stored, self.seq, check, &c.manifest) {
            Ok(m) => {
                tracing::info!(seq = m.seq, folder = %c.folder.display(), "pushed rows compacted into Parquet");
                c.manifest = m;
            }
            Err(e) => tracing::warn!(error = %e, "cannot compact pushed rows; they stay in memory"),
        }
    }

    /// New definitions: the folder follows the stored sources' schemas.
    pub(crate) fn reset_compaction(&mut self) {
        if let Some(c) = &mut self.compaction {
            let rows = c.rows;
            *c = Compaction::new(&self.dir, &self.loaded.project);
            c.rows = rows;
        }
    }
}
