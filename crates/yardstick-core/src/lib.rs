//! Yardstick's core: the definition language, its checks and the calendar.
//!
//! This crate does no I/O. It turns definition text (read by a caller through
//! [`load::FileLoader`]) into a typed [`model::Project`] and a list of located
//! [`diag::Diagnostic`]s, and it owns the calendar semantics every number
//! depends on ([`calendar`]). The engine compiles the model to DataFusion
//! plans; renderers turn diagnostics and results into text.

pub mod appendix;
pub mod calendar;
pub mod check;
pub mod contract;
pub mod diag;
pub mod domain;
pub mod format;
pub mod intervals;
pub mod load;
pub mod model;
pub mod reconcile;
pub mod sql;
pub mod stats;
pub mod status;
pub mod terms;
pub mod time;
pub mod visibility;
mod vocab;
pub mod why;

pub use calendar::{Calendar, Grain, Period, PeriodKind};
pub use diag::{Diagnostic, Diagnostics, Loc, Located, Severity, SourceMap};
pub use load::{FileLoader, Loaded, MemoryFiles, ROOT_FILE, load};
pub use model::{Project, Target};
