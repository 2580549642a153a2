//! Arguments several commands share, declared once and flattened into each
//! command's `Args` (the help text is the same wherever they appear).

use std::path::PathBuf;

/// The project folder, as the first positional argument.
#[derive(Debug, clap::Args)]
pub(crate) struct ProjectDir {
    /// Project folder, holding yardstick.toml.
    #[arg(default_value = ".")]
    pub(crate) dir: PathBuf,
}

/// The project folder, as `-C/--project` (for commands whose positional
/// arguments name something else).
#[derive(Debug, clap::Args)]
pub(crate) struct ProjectOpt {
    /// Project folder, holding yardstick.toml.
    #[arg(short = 'C', long = "project", default_value = ".")]
    pub(crate) dir: PathBuf,
}

/// The instant a report is evaluated at.
#[derive(Debug, clap::Args)]
pub(crate) struct AsOf {
    /// Evaluate as at this instant: RFC 3339 (2026-10-01T12:00:00Z) or a date in the
    /// project's zone (2026-10-01); rows after it are not read (default: now).
    #[arg(long)]
    pub(crate) as_of: Option<String>,
}

impl AsOf {
    /// The instant `--as-of` names, read in the project's zone (now when it
    /// is not given).
    pub(crate) fn instant(&self, tz: chrono_tz::Tz) -> Result<chrono::DateTime<chrono::Utc>, String> {
        match self.as_of.as_deref() {
            Some(s) => yardstick_core::time::parse_time(s, tz).ok_or_else(|| {
                format!(
                    "--as-of `{s}` is not a time: write {}",
                    yardstick_core::time::TIME_FORMS
                )
            }),
            None => Ok(now()),
        }
    }
}

/// The state store, for commands that write to it.
#[derive(Debug, clap::Args)]
pub(crate) struct Db {
    /// State store URL (default: the project's SQLite file).
    #[arg(long, env = "YARDSTICK_DB")]
    pub(crate) db: Option<String>,
}

/// Now, to the second (reports do not need nanoseconds): what `--as-of`
/// means when it is not given.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(0)
}
