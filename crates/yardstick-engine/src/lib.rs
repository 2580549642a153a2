//! Yardstick's engine: reads a project's data with Apache DataFusion.
//!
//! Definitions come from `yardstick-core`; this crate registers sources as
//! DataFusion tables ([`datacheck::register_sources`]), checks what can only
//! be checked against data ([`datacheck::check_data`]), and (next) compiles
//! KPIs to DataFusion plans. It does file I/O; it knows nothing of terminals
//! or HTTP.

pub mod consequences;
pub mod datacheck;
pub mod eval;
pub mod explain;
pub mod fs;
pub mod sources;
pub mod udf;

pub use datacheck::check_data;
pub use eval::{EvalOptions, Evaluation, evaluate, evaluate_dir};
pub use fs::{DiskFiles, load_dir};
pub use sources::{Catalog, register_sources};
