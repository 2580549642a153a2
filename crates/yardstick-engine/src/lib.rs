//! Yardstick's engine: reads a project's data with Apache DataFusion.
//!
//! Definitions come from `yardstick-core`; this crate registers sources as
//! DataFusion tables ([`sources::register_sources`]), checks what can only
//! be checked against data ([`datacheck::check_data`]), compiles KPIs to
//! DataFusion plans and evaluates them ([`eval`]), explains a value
//! ([`explain`]), derives contract, SLO, payout and score consequences
//! ([`consequences`]) and validates pushed rows ([`ingest`]). It does file
//! I/O; it knows nothing of terminals, HTTP or the state store.

pub mod alerts;
pub mod burn;
pub mod compaction;
pub mod consequences;
pub mod database;
pub mod datacheck;
pub mod eval;
pub mod explain;
pub mod forecasts;
pub mod freshness;
pub mod fs;
pub mod history;
pub mod ingest;
pub mod projection;
pub mod reconcile;
pub mod sources;
pub mod typing;
pub mod udf;
pub mod watch;
pub mod why;

pub use datacheck::check_data;
pub use eval::{EvalOptions, Evaluation, evaluate, evaluate_dir, evaluate_dir_with};
pub use fs::{DiskFiles, load_dir};
pub use sources::{
    Catalog, CompactedFiles, StoredRows, register_sources, register_sources_compacted, register_sources_with,
};
