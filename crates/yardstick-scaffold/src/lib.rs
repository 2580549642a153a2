//! Starter projects and the generated demo.
//!
//! [`template`] returns the files of a commented starter project (`yardstick
//! init`) with a year of sample data ending yesterday; [`demo`] generates a
//! realistic project with seeded, deterministic data (`yardstick demo`), and
//! [`demo_signups`] the rows the demo pushes into its stored source. Both return file lists; [`write_project`] writes
//! them, refusing to overwrite anything.

mod demo;
mod generate;
mod starter;

use std::io;
use std::path::Path;

pub use demo::{COLLAPSE, demo, demo_partner_report, demo_signups, months_without_the_collapse};
pub use starter::template;

/// Written into every generated project: the state store is not source.
pub const GITIGNORE: &str =
    "# Yardstick's state store (tokens, pushed rows, history): not source.\n.yardstick/\n";

/// A file of a generated project: path relative to the project folder, and text.
pub type ProjectFile = (String, String);

/// Starter templates for `yardstick init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    Saas,
    Sla,
    PartnershipDistribution,
    PartnershipJv,
    PartnershipTechnology,
}

impl Template {
    pub const ALL: [Template; 5] = [
        Template::Saas,
        Template::Sla,
        Template::PartnershipDistribution,
        Template::PartnershipJv,
        Template::PartnershipTechnology,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Template::Saas => "saas",
            Template::Sla => "sla",
            Template::PartnershipDistribution => "partnership-distribution",
            Template::PartnershipJv => "partnership-jv",
            Template::PartnershipTechnology => "partnership-technology",
        }
    }
}

/// Writes `files` under `dir`, which must be missing or empty: nothing that
/// exists is ever overwritten.
pub fn write_project(dir: &Path, files: &[ProjectFile]) -> io::Result<()> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir)?;
        if entries.next().is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} is not empty; choose a new folder", dir.display()),
            ));
        }
    }
    for (path, text) in files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, text)?;
    }
    Ok(())
}
