//! Starter projects and the generated demo.
//!
//! [`template`] returns the files of a commented starter project (`yardstick
//! init`); [`demo`] generates a realistic project with seeded, deterministic
//! data (`yardstick demo`). Both return file lists; [`write_project`] writes
//! them, refusing to overwrite anything.

mod demo;

use std::io;
use std::path::Path;

pub use demo::demo;

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

macro_rules! files {
    ($dir:literal: $($path:literal),+ $(,)?) => {
        vec![$(($path, include_str!(concat!("../templates/", $dir, "/", $path)))),+]
    };
}

/// The files of a starter project.
pub fn template(t: Template) -> Vec<ProjectFile> {
    let files: Vec<(&str, &str)> = match t {
        Template::Saas => files!("saas": "yardstick.toml", "data/orders.csv", "data/subscriptions.csv"),
        Template::Sla => {
            files!("sla": "yardstick.toml", "data/incidents.csv", "data/maintenance.csv", "data/tickets.csv")
        }
        Template::PartnershipDistribution => files!(
            "partnership-distribution": "yardstick.toml", "data/partner_sales.csv", "data/partner_spend.csv"
        ),
        Template::PartnershipJv => {
            files!("partnership-jv": "yardstick.toml", "data/ledger.csv", "data/milestones.csv")
        }
        Template::PartnershipTechnology => files!(
            "partnership-technology": "yardstick.toml", "data/releases.csv", "data/changes.csv", "data/usage.csv"
        ),
    };
    files
        .into_iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect()
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
