//! Located diagnostics: what is wrong, where, and what to write instead.
//!
//! Every problem found in a user's definitions is a [`Diagnostic`] pointing
//! at a byte range of one file of the [`SourceMap`]. Rendering (terminal
//! snippets with a caret, JSON) happens in the CLI; this module only computes
//! positions, so `core` stays free of I/O.

use std::fmt;
use std::ops::Range;

/// Index of a file in a [`SourceMap`].
pub type FileId = usize;

/// A place in a definition file: the file and a byte range in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Loc {
    pub file: FileId,
    pub span: Range<usize>,
}

impl Loc {
    pub fn new(file: FileId, span: Range<usize>) -> Self {
        Loc { file, span }
    }
}

/// A value together with the place it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub loc: Loc,
}

impl<T> Located<T> {
    pub fn new(value: T, loc: Loc) -> Self {
        Located { value, loc }
    }
}

impl Located<String> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// One definition file: its path as shown to users and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// The text of the 1-based line `line`, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let end = self.line_starts.get(line).copied().unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}

/// All definition files of a project, indexed by [`FileId`].
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile::new(path, text));
        self.files.len() - 1
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id]
    }

    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// Position of a location as `path:line:col`.
    pub fn position(&self, loc: &Loc) -> Position {
        let file = self.get(loc.file);
        let (line, column) = file.line_col(loc.span.start);
        let (end_line, end_column) = file.line_col(loc.span.end);
        Position {
            path: file.path.clone(),
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// A resolved position, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path, self.line, self.column)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A secondary place that helps explain a diagnostic ("first defined here").
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    pub loc: Loc,
    pub message: String,
}

/// One problem in a project's definitions or data.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable machine-readable code, e.g. `unknown-key`.
    pub code: &'static str,
    pub message: String,
    /// Where the problem is; `None` for problems of the project as a whole.
    pub loc: Option<Loc>,
    /// Short text under the caret.
    pub label: Option<String>,
    pub related: Vec<Related>,
    /// What to write instead.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            loc: None,
            label: None,
            related: Vec::new(),
            hint: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, loc: &Loc) -> Self {
        self.loc = Some(loc.clone());
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn maybe_hint(mut self, hint: Option<String>) -> Self {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }

    pub fn related(mut self, loc: &Loc, message: impl Into<String>) -> Self {
        self.related.push(Related {
            loc: loc.clone(),
            message: message.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A growing list of diagnostics.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    /// Keys written with a typo (`sorce` for `source`): what follows from
    /// the key's absence is not reported on top of the typo.
    typos: Vec<Typo>,
}

/// A misspelt key in a table: where the table is and what was meant.
#[derive(Debug, Clone)]
struct Typo {
    table: Loc,
    /// The definition's id (`revenue` of `[kpi.revenue]`).
    id: String,
    meant: String,
}

impl Typo {
    /// Whether `d` only reports what the typo already explains.
    fn explains(&self, d: &Diagnostic) -> bool {
        let Some(loc) = &d.loc else { return false };
        let meant = self.meant.as_str();
        // "weight-without-target" on a scorecard naming this KPI.
        if d.code
            .strip_suffix(meant)
            .is_some_and(|c| c.ends_with("-without-"))
            && d.message.contains(&format!("`{}`", self.id))
        {
            return true;
        }
        let inside = loc.file == self.table.file
            && self.table.span.start <= loc.span.start
            && loc.span.start <= self.table.span.end;
        if !inside || d.code == "unknown-key" {
            return false;
        }
        if d.code
            .strip_suffix(meant)
            .is_some_and(|c| c.ends_with("-without-"))
        {
            return true;
        }
        match d.code {
            // A typo in any measure form leaves the definition without one.
            "missing-measure" => crate::vocab::FORM_KEYS.contains(&meant),
            "missing-key" => d.message.contains(&format!("`{meant}`")),
            "not-smart" => {
                let concept = match meant {
                    "every" | "window" => "period",
                    "target" | "targets" => "target",
                    other => other,
                };
                d.message.ends_with(&format!("is not SMART: no {concept}"))
            }
            _ => false,
        }
    }
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Pushes `d` and returns it for further decoration.
    pub fn push_mut(&mut self, d: Diagnostic) -> &mut Diagnostic {
        self.items.push(d);
        let last = self.items.len() - 1;
        &mut self.items[last]
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    /// Records that a key of the table at `table` (its whole extent) is a
    /// typo of `meant`.
    pub(crate) fn typo(&mut self, table: Loc, id: &str, meant: &str) {
        self.typos.push(Typo {
            table,
            id: id.to_string(),
            meant: meant.to_string(),
        });
    }

    /// Drops the diagnostics that only follow from a typo already reported
    /// (a missing `source` after `sorce`, "not SMART: no period" after
    /// `evry`): the typo is the one thing to fix.
    pub(crate) fn drop_follow_ons(&mut self) {
        let typos = std::mem::take(&mut self.typos);
        self.items.retain(|d| !typos.iter().any(|t| t.explains(d)));
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sorts by file and position, errors before warnings at the same place,
    /// and drops exact duplicates.
    pub fn sort(&mut self) {
        self.items.sort_by(|a, b| {
            let key = |d: &Diagnostic| {
                d.loc
                    .as_ref()
                    .map_or((usize::MAX, usize::MAX), |l| (l.file, l.span.start))
            };
            key(a).cmp(&key(b)).then(a.severity.cmp(&b.severity))
        });
        self.items.dedup();
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

/// The closest candidate to `word`, if one is close enough to be a likely
/// typo ("did you mean `target`?").
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = strsim::damerau_levenshtein(&word_lower, &c.to_ascii_lowercase());
        let limit = (c.chars().count().max(word.chars().count()) / 3).max(1);
        let prefix = c.len() >= 4 && (c.starts_with(&word_lower) || word_lower.starts_with(c));
        if (d <= limit || prefix) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `Some("did you mean `x`?")` for the closest candidate.
pub fn suggestion<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    did_you_mean(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let f = SourceFile::new("a.toml", "ab\nçd = 1\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // 'ç' is two bytes: 'd' is the second character of line 2.
        assert_eq!(f.line_col(5), (2, 2));
        assert_eq!(f.line_text(2), "çd = 1");
    }

    #[test]
    fn suggestions_find_typos_but_not_unrelated_words() {
        let keys = ["target", "warning", "targets", "owner"];
        assert_eq!(did_you_mean("traget", keys), Some("target"));
        assert_eq!(did_you_mean("ownr", keys), Some("owner"));
        assert_eq!(did_you_mean("colour", keys), None);
    }
}
