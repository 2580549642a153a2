//! Reading a project from disk: the [`FileLoader`] for definition files, and
//! glob resolution shared by definitions (`include`) and data (`path`).

use std::path::{Path, PathBuf};

use globset::GlobBuilder;
use yardstick_core::{FileLoader, Loaded, ROOT_FILE};

/// Definition files under a project folder.
#[derive(Debug, Clone)]
pub struct DiskFiles {
    root: PathBuf,
}

impl DiskFiles {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DiskFiles { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl FileLoader for DiskFiles {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.root.join(path)).map_err(|e| e.to_string())
    }

    fn glob(&self, pattern: &str) -> Result<Vec<String>, String> {
        glob_files(&self.root, pattern)
    }
}

/// Loads and statically checks the project in folder `dir`.
pub fn load_dir(dir: &Path) -> Loaded {
    yardstick_core::load(ROOT_FILE, &DiskFiles::new(dir))
}

/// Files under `root` matching `pattern` (relative to `root`, `/`-separated,
/// `*` within one folder, `**` across folders), as sorted relative paths.
/// A pattern without glob characters names one file, which must exist.
pub fn glob_files(root: &Path, pattern: &str) -> Result<Vec<String>, String> {
    let pattern = pattern.trim_start_matches("./");
    if Path::new(pattern).is_absolute() {
        return Err("paths are relative to the project folder".into());
    }
    let is_glob = pattern.contains(['*', '?', '[', '{']);
    if !is_glob {
        return Ok(if root.join(pattern).is_file() {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        });
    }
    let matcher = GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| e.kind().to_string())?
        .compile_matcher();
    // Walk only below the part of the pattern without glob characters.
    let fixed: Vec<&str> = pattern
        .split('/')
        .take_while(|part| !part.contains(['*', '?', '[', '{']))
        .collect();
    let base = fixed.join("/");
    let mut out = Vec::new();
    let mut stack = vec![root.join(&base)];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                if !entry.file_name().to_string_lossy().starts_with('.') {
                    stack.push(path);
                }
            } else if matcher.is_match(&rel) {
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_stay_within_folders_unless_double_starred() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join("data/2026"))?;
        for f in ["data/a.csv", "data/b.csv", "data/2026/c.csv", "data/x.txt"] {
            std::fs::write(dir.path().join(f), "x")?;
        }
        assert_eq!(
            glob_files(dir.path(), "data/*.csv"),
            Ok(vec!["data/a.csv".into(), "data/b.csv".into()])
        );
        assert_eq!(
            glob_files(dir.path(), "data/**/*.csv"),
            Ok(vec![
                "data/2026/c.csv".into(),
                "data/a.csv".into(),
                "data/b.csv".into()
            ])
        );
        assert_eq!(
            glob_files(dir.path(), "data/a.csv"),
            Ok(vec!["data/a.csv".into()])
        );
        assert_eq!(glob_files(dir.path(), "data/none.csv"), Ok(vec![]));
        Ok(())
    }
}
