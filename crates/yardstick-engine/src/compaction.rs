//! Pushed rows compacted into Parquet files, so that a server does not hold
//! every pushed row in memory.
//!
//! The state store keeps every pushed batch; the compacted files are a
//! cache of them, in a folder of the project's `.yardstick/` named after
//! the stored sources' schemas. A manifest, written last and atomically,
//! says which batches the files hold (every batch up to `seq`) and carries
//! a check the caller makes from the store (so a cache made from another
//! store is never read). Files the manifest does not name are leftovers of
//! an interrupted compaction and are ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use crate::sources::StoredRows;

/// Rows of one source held in memory before they are compacted.
pub const COMPACT_ROWS: usize = 1_000_000;

const MANIFEST: &str = "manifest.json";

/// What the compacted files of a folder hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Every stored batch up to this sequence number is in the files.
    pub seq: i64,
    /// The caller's check that the store is the one compacted (e.g. a
    /// digest of batch `seq`).
    pub check: String,
    /// Files by source, relative to the folder, oldest first.
    pub files: BTreeMap<String, Vec<String>>,
}

impl Manifest {
    /// The files of each source, as paths under `folder`.
    pub fn paths(&self, folder: &Path) -> BTreeMap<String, Vec<PathBuf>> {
        self.files
            .iter()
            .map(|(s, fs)| (s.clone(), fs.iter().map(|f| folder.join(f)).collect()))
            .collect()
    }
}

/// The manifest of `folder`, if one was written and every file it names is
/// there.
pub fn read(folder: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(folder.join(MANIFEST)).ok()?;
    let m: Manifest = serde_json::from_str(&text).ok()?;
    m.files
        .values()
        .flatten()
        .all(|f| folder.join(f).is_file())
        .then_some(m)
}

/// Rows held in memory for the source holding most.
pub fn largest(rows: &StoredRows) -> usize {
    rows.values()
        .map(|bs| bs.iter().map(|b| b.num_rows()).sum::<usize>())
        .max()
        .unwrap_or(0)
}

/// Writes the rows held in memory (every stored batch up to `seq`) into one
/// Parquet file per source, then the manifest naming them with `prev`'s
/// files; the rows are taken out of memory once the manifest is written.
pub fn compact(
    folder: &Path,
    rows: &mut StoredRows,
    seq: i64,
    check: String,
    prev: &Manifest,
) -> Result<Manifest, String> {
    let mut next = Manifest {
        seq,
        check,
        files: prev.files.clone(),
    };
    for (source, batches) in rows.iter() {
        let Some(first) = batches.iter().find(|b| b.num_rows() > 0) else {
            continue;
        };
        let rel = format!("{source}/{seq:012}.parquet");
        let path = folder.join(&rel);
        let dir = path.parent().unwrap_or(folder);
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let tmp = path.with_extension("parquet.tmp");
        let file = std::fs::File::create(&tmp).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let mut w = ArrowWriter::try_new(file, first.schema(), Some(props))
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        for b in batches.iter().filter(|b| b.num_rows() > 0) {
            w.write(b)
                .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        }
        w.close()
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        next.files.entry(source.clone()).or_default().push(rel);
    }
    let tmp = folder.join(format!("{MANIFEST}.tmp"));
    let text = serde_json::to_string_pretty(&next).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(folder).map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, folder.join(MANIFEST)).map_err(|e| format!("cannot write the manifest: {e}"))?;
    rows.clear();
    Ok(next)
}
