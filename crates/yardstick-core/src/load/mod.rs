//! From TOML text to a [`Project`], with every problem located.
//!
//! Files are parsed with the `toml` crate's spanned tables, so every key and
//! value keeps its byte range. Each table is read against the list of keys it
//! accepts: an unknown key is an error with a "did you mean" hint, a value of
//! the wrong type or syntax is an error that shows the accepted forms. The
//! loader keeps going after an error so that one `check` reports everything.
//!
//! `core` does no I/O: files are read through a [`FileLoader`] supplied by
//! the caller (the engine reads the disk, tests use [`MemoryFiles`]).

use std::collections::BTreeMap;

use chrono::{NaiveDate, Weekday};
use chrono_tz::Tz;
use indexmap::IndexMap;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::calendar::{Calendar, Grain, parse_start_date};
use crate::check;
use crate::diag::{Diagnostic, Diagnostics, FileId, Loc, Located, SourceMap, did_you_mean, suggestion};
use crate::model::*;
use crate::sql::{Formula, SqlError, SqlFragment, parse_view};

// One module per kind of definition; each reads with `use super::*`, so the
// imports above are the readers' shared vocabulary.
mod alert;
mod connection;
mod contract;
mod definitions;
mod incentive;
mod kpi;
mod partnership;
mod reconcile;
mod review;
mod scorecard;
mod settings;
mod source;
mod table;

pub(crate) use crate::vocab::FORM_KEYS;
use alert::read_alert;
use connection::read_connection;
use contract::read_contract;
use definitions::read_definitions;
use incentive::read_incentive;
use kpi::read_measure_def;
use partnership::read_partnership;
use reconcile::read_reconcile;
use review::read_review;
use scorecard::read_scorecard;
use settings::read_settings;
use source::read_source;
use table::{Cx, MONTHS, Tab, weekday};

/// Reads definition files for the loader. Paths are relative to the project
/// root and use `/`.
pub trait FileLoader {
    /// The text of one file.
    fn read(&self, path: &str) -> Result<String, String>;
    /// Files matching a glob pattern, sorted.
    fn glob(&self, pattern: &str) -> Result<Vec<String>, String>;
}

/// Files held in memory (tests, the server's uploaded definitions).
#[derive(Debug, Clone, Default)]
pub struct MemoryFiles {
    pub files: BTreeMap<String, String>,
}

impl MemoryFiles {
    pub fn new(files: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>) -> Self {
        MemoryFiles {
            files: files.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
        }
    }
}

impl FileLoader for MemoryFiles {
    fn read(&self, path: &str) -> Result<String, String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| "no such file".to_string())
    }

    fn glob(&self, pattern: &str) -> Result<Vec<String>, String> {
        Ok(self
            .files
            .keys()
            .filter(|k| glob_match(pattern, k))
            .cloned()
            .collect())
    }
}

/// A minimal glob matcher (`*`, `?`, `**`) for [`MemoryFiles`].
fn glob_match(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => {
                let rest = p[2..].strip_prefix(b"/").unwrap_or(&p[2..]);
                (0..=s.len()).any(|i| go(rest, &s[i..]))
            }
            Some(b'*') => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != b'/')
                .any(|i| go(&p[1..], &s[i..])),
            Some(b'?') => !s.is_empty() && s[0] != b'/' && go(&p[1..], &s[1..]),
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..]),
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

/// The outcome of loading a project: the model (best effort when there are
/// errors), the files it came from and every diagnostic.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub project: Project,
    pub files: SourceMap,
    pub diagnostics: Diagnostics,
}

/// The name of a project's root file.
pub const ROOT_FILE: &str = "yardstick.toml";

/// Loads and statically checks a project whose root file is `root`.
pub fn load(root: &str, fs: &dyn FileLoader) -> Loaded {
    let mut files = SourceMap::default();
    let mut diags = Diagnostics::default();
    let mut project = Project {
        settings: Settings::default(),
        sources: IndexMap::new(),
        metrics: IndexMap::new(),
        kpis: IndexMap::new(),
        contracts: IndexMap::new(),
        incentives: IndexMap::new(),
        partnerships: IndexMap::new(),
        scorecards: IndexMap::new(),
        alerts: IndexMap::new(),
        reconciles: IndexMap::new(),
        reviews: IndexMap::new(),
        connections: IndexMap::new(),
    };
    let text = match fs.read(root) {
        Ok(t) => t,
        Err(e) => {
            diags.push(
                Diagnostic::error("missing-project", format!("cannot read `{root}`: {e}"))
                    .hint("a project is a folder with a yardstick.toml; `yardstick init` writes one"),
            );
            return Loaded {
                project,
                files,
                diagnostics: diags,
            };
        }
    };
    let root_id = files.add(root, text);
    // Settings first: they name the included files and the calendar needed to
    // read period labels.
    let mut root_diags = Diagnostics::default();
    let Some(root_table) = parse_file(&files, root_id, &mut root_diags) else {
        diags.extend(root_diags);
        return Loaded {
            project,
            files,
            diagnostics: diags,
        };
    };
    {
        let mut cx = Cx {
            files: &files,
            file: root_id,
            diags: &mut diags,
        };
        read_settings(&mut cx, &root_table, &mut project.settings);
    }
    drop(root_table);
    let includes = project.settings.include.clone();
    for pattern in &includes {
        match fs.glob(&pattern.value) {
            Ok(paths) if paths.is_empty() => diags.push(
                Diagnostic::warning(
                    "include-matches-nothing",
                    format!("`{}` matches no file", pattern.value),
                )
                .at(&pattern.loc),
            ),
            Ok(paths) => {
                for path in paths {
                    if path == root || files.files().iter().any(|f| f.path == path) {
                        continue;
                    }
                    match fs.read(&path) {
                        Ok(text) => {
                            files.add(path, text);
                        }
                        Err(e) => diags.push(
                            Diagnostic::error("unreadable-file", format!("cannot read `{path}`: {e}"))
                                .at(&pattern.loc),
                        ),
                    }
                }
            }
            Err(e) => diags
                .push(Diagnostic::error("bad-include", format!("bad include pattern: {e}")).at(&pattern.loc)),
        }
    }
    let calendar = project.settings.calendar();
    for file in 0..files.files().len() {
        let Some(table) = parse_file(&files, file, &mut diags) else {
            continue;
        };
        let mut cx = Cx {
            files: &files,
            file,
            diags: &mut diags,
        };
        read_definitions(&mut cx, &table, file == root_id, &calendar, &mut project);
    }
    check::check_project(&project, &calendar, &mut diags);
    diags.drop_follow_ons();
    diags.sort();
    Loaded {
        project,
        files,
        diagnostics: diags,
    }
}

fn parse_file<'f>(files: &'f SourceMap, id: FileId, diags: &mut Diagnostics) -> Option<DeTable<'f>> {
    let text = &files.get(id).text;
    match DeTable::parse(text) {
        Ok(t) => Some(t.into_inner()),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let span = if span.is_empty() {
                span.start..(span.start + 1).min(text.len())
            } else {
                span
            };
            diags.push(
                Diagnostic::error("toml-syntax", format!("invalid TOML: {}", e.message().trim()))
                    .at(&Loc::new(id, span)),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn memory_globs_match_like_shell_globs() {
        assert!(glob_match("kpis/*.toml", "kpis/sales.toml"));
        assert!(!glob_match("kpis/*.toml", "kpis/sub/sales.toml"));
        assert!(glob_match("kpis/**/*.toml", "kpis/sub/sales.toml"));
        assert!(glob_match("kpis/**/*.toml", "kpis/sales.toml"));
        assert!(glob_match("a?.toml", "ab.toml"));
    }
}
