//! Exit codes by fault, chosen here and nowhere else.
//!
//! - 0: done (warnings allowed);
//! - 1: the project's definitions or data have problems, reported with
//!   their locations (the user's fault, and what to fix); for
//!   `reconcile`, a KPI differs beyond its tolerance;
//! - 2: the command could not run: a bad argument, a folder without a
//!   project, an unreadable file or store (`main` prints `error: …`);
//! - 3: a bug in Yardstick: an apology, never blamed on the project.

use std::process::ExitCode;

use yardstick_engine::eval::EvalError;

/// Problems in the project were reported.
pub(crate) fn project() -> ExitCode {
    ExitCode::from(1)
}

/// A reconciliation found a KPI outside its tolerance (so that a monthly
/// close can gate on it).
pub(crate) fn outside_tolerance() -> ExitCode {
    ExitCode::from(1)
}

/// The command could not run (after `main` printed why).
pub(crate) fn usage() -> ExitCode {
    ExitCode::from(2)
}

/// Our bug: says so, and exits 3.
pub(crate) fn internal(detail: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("Sorry, this is a bug in Yardstick, not in your project: {detail}");
    ExitCode::from(3)
}

/// An evaluation error by its fault: the data's (exit 1) or ours (exit 3).
pub(crate) fn eval_error(e: EvalError) -> ExitCode {
    match e {
        EvalError::Data(m) => {
            eprintln!("error: {m}");
            project()
        }
        e @ EvalError::Internal(_) => internal(&e),
    }
}
