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

/// Reading context: the file being read and the diagnostics sink.
struct Cx<'a> {
    files: &'a SourceMap,
    file: FileId,
    diags: &'a mut Diagnostics,
}

impl Cx<'_> {
    fn loc(&self, span: std::ops::Range<usize>) -> Loc {
        Loc::new(self.file, span)
    }

    fn raw(&self, loc: &Loc) -> &str {
        self.files.get(loc.file).text.get(loc.span.clone()).unwrap_or("")
    }

    fn error(&mut self, code: &'static str, msg: impl Into<String>, loc: &Loc) -> &mut Diagnostic {
        self.diags.push_mut(Diagnostic::error(code, msg).at(loc))
    }

    fn sql_error(&mut self, e: SqlError) {
        self.diags.push(
            Diagnostic::error("bad-sql", e.message)
                .at(&e.loc)
                .maybe_hint(e.hint),
        );
    }
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a number",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// One TOML table being read: its entries, where it is and what it is called.
struct Tab<'t> {
    table: &'t DeTable<'t>,
    /// `kpi.revenue`, for messages.
    name: String,
    loc: Loc,
}

type Entry<'t> = (&'t Spanned<std::borrow::Cow<'t, str>>, &'t Spanned<DeValue<'t>>);

impl<'t> Tab<'t> {
    fn entry(&self, key: &str) -> Option<Entry<'t>> {
        self.table.iter().find(|(k, _)| k.get_ref() == key)
    }

    fn has(&self, key: &str) -> bool {
        self.entry(key).is_some()
    }

    fn key_loc(&self, cx: &Cx<'_>, key: &str) -> Loc {
        self.entry(key)
            .map_or(self.loc.clone(), |(k, _)| cx.loc(k.span()))
    }

    fn value_loc(&self, cx: &Cx<'_>, key: &str) -> Loc {
        self.entry(key)
            .map_or(self.loc.clone(), |(_, v)| cx.loc(v.span()))
    }

    /// The table from its header to its last value.
    fn extent(&self) -> Loc {
        let end = self
            .table
            .iter()
            .map(|(_, v)| v.span().end)
            .max()
            .unwrap_or(self.loc.span.end)
            .max(self.loc.span.end);
        Loc::new(self.loc.file, self.loc.span.start..end)
    }

    /// Reports every key not in `known`; a near miss is recorded as a typo
    /// so that what follows from it is not reported too.
    fn known_keys(&self, cx: &mut Cx<'_>, known: &[&str]) {
        for (k, _) in self.table.iter() {
            let key = k.get_ref().as_ref();
            if !known.contains(&key) {
                let meant = did_you_mean(key, known.iter().copied());
                if let Some(m) = meant {
                    let id = self.name.rsplit('.').next().unwrap_or(&self.name);
                    cx.diags.typo(self.extent(), id, m);
                }
                let hint = meant
                    .map(|m| format!("did you mean `{m}`?"))
                    .unwrap_or_else(|| format!("accepted keys: {}", known.join(", ")));
                cx.error(
                    "unknown-key",
                    format!("unknown key `{key}` in [{}]", self.name),
                    &cx.loc(k.span()),
                )
                .hint = Some(hint);
            }
        }
    }

    fn wrong_type(&self, cx: &mut Cx<'_>, key: &str, expected: &str, hint: Option<String>) {
        if let Some((_, v)) = self.entry(key) {
            let found = type_name(v.get_ref());
            let loc = cx.loc(v.span());
            let d = cx.error(
                "wrong-type",
                format!("`{key}` must be {expected}, found {found}"),
                &loc,
            );
            d.hint = hint;
        }
    }

    fn string(&self, cx: &mut Cx<'_>, key: &str) -> Option<Located<String>> {
        let (_, v) = self.entry(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some(Located::new(s.to_string(), cx.loc(v.span()))),
            _ => {
                self.wrong_type(cx, key, "a string", None);
                None
            }
        }
    }

    fn text(&self, cx: &mut Cx<'_>, key: &str) -> Option<String> {
        self.string(cx, key).map(|s| s.value)
    }

    fn number(&self, cx: &mut Cx<'_>, key: &str) -> Option<Located<f64>> {
        let (_, v) = self.entry(key)?;
        let loc = cx.loc(v.span());
        match v.get_ref() {
            DeValue::Integer(i) => parse_toml_number(i.as_str()).map(|n| Located::new(n, loc)),
            DeValue::Float(f) => parse_toml_number(f.as_str()).map(|n| Located::new(n, loc)),
            _ => {
                self.wrong_type(cx, key, "a number", None);
                None
            }
        }
    }

    /// A number, or a string with a `%` suffix (`"10%"` = 0.1).
    fn share(&self, cx: &mut Cx<'_>, key: &str) -> Option<Located<f64>> {
        let (_, v) = self.entry(key)?;
        let loc = cx.loc(v.span());
        match v.get_ref() {
            DeValue::String(s) => match parse_number(s) {
                Ok(n) => Some(Located::new(n, loc)),
                Err(e) => {
                    cx.error("bad-number", e, &loc).hint =
                        Some("write a percentage such as \"10%\" or a fraction such as 0.1".into());
                    None
                }
            },
            _ => self.number(cx, key),
        }
    }

    fn string_list(&self, cx: &mut Cx<'_>, key: &str) -> Vec<Located<String>> {
        let Some((_, v)) = self.entry(key) else {
            return Vec::new();
        };
        match v.get_ref() {
            DeValue::String(s) => vec![Located::new(s.to_string(), cx.loc(v.span()))],
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(s) => out.push(Located::new(s.to_string(), cx.loc(item.span()))),
                        other => {
                            let found = type_name(other);
                            cx.error(
                                "wrong-type",
                                format!("`{key}` must list strings, found {found}"),
                                &cx.loc(item.span()),
                            );
                        }
                    }
                }
                out
            }
            _ => {
                self.wrong_type(cx, key, "a string or a list of strings", None);
                Vec::new()
            }
        }
    }

    fn table(&self, cx: &mut Cx<'_>, key: &str) -> Option<Tab<'t>> {
        let (k, v) = self.entry(key)?;
        match v.get_ref() {
            DeValue::Table(t) => Some(Tab {
                table: t,
                name: format!("{}.{}", self.name, k.get_ref()),
                loc: cx.loc(v.span()),
            }),
            _ => {
                self.wrong_type(cx, key, "a table", None);
                None
            }
        }
    }

    /// A list of inline tables (`[{…}, {…}]`) or an array of tables.
    fn table_list(&self, cx: &mut Cx<'_>, key: &str) -> Vec<Tab<'t>> {
        let Some((k, v)) = self.entry(key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(cx, key, "a list of tables", None);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.get_ref() {
                DeValue::Table(t) => out.push(Tab {
                    table: t,
                    name: format!("{}.{}[{}]", self.name, k.get_ref(), i + 1),
                    loc: cx.loc(item.span()),
                }),
                other => {
                    let found = type_name(other);
                    cx.error(
                        "wrong-type",
                        format!("entries of `{key}` must be tables, found {found}"),
                        &cx.loc(item.span()),
                    );
                }
            }
        }
        out
    }

    /// A date written as a TOML date (`2026-01-01`) or a string (`"2026-01"`).
    fn date(&self, cx: &mut Cx<'_>, key: &str) -> Option<Located<NaiveDate>> {
        let (_, v) = self.entry(key)?;
        let loc = cx.loc(v.span());
        let parsed = match v.get_ref() {
            DeValue::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.date.and_then(|d| {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
            }),
            DeValue::String(s) => parse_start_date(s),
            _ => None,
        };
        if parsed.is_none() {
            cx.error("bad-date", format!("`{key}` is not a date"), &loc).hint =
                Some("write a day such as 2026-01-01, or \"2026-01\" for the first day of a month".into());
        }
        parsed.map(|d| Located::new(d, loc))
    }

    /// A string parsed by `parse`, with a located error showing `forms`.
    fn parsed<T>(
        &self,
        cx: &mut Cx<'_>,
        key: &str,
        code: &'static str,
        forms: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<Located<T>> {
        let (_, v) = self.entry(key)?;
        let loc = cx.loc(v.span());
        let DeValue::String(s) = v.get_ref() else {
            let example = match v.get_ref() {
                DeValue::Integer(i) => Some(format!("write it as a string: {key} = \">= {}\"", i.as_str())),
                DeValue::Float(f) => Some(format!("write it as a string: {key} = \">= {}\"", f.as_str())),
                _ => None,
            };
            let hint = if code == "bad-target" { example } else { None };
            self.wrong_type(
                cx,
                key,
                "a string",
                hint.or_else(|| Some(format!("accepted forms: {forms}"))),
            );
            return None;
        };
        match parse(s) {
            Ok(t) => Some(Located::new(t, loc)),
            Err(e) => {
                cx.error(code, format!("invalid `{key}`: {e}"), &loc).hint =
                    Some(format!("accepted forms: {forms}"));
                None
            }
        }
    }

    /// A word from a fixed list.
    fn choice<T: Copy>(&self, cx: &mut Cx<'_>, key: &str, options: &[(&str, T)]) -> Option<Located<T>> {
        let s = self.string(cx, key)?;
        match options
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&s.value))
        {
            Some((_, v)) => Some(Located::new(*v, s.loc)),
            None => {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                let hint = suggestion(&s.value, names.iter().copied())
                    .unwrap_or_else(|| format!("accepted values: {}", names.join(", ")));
                cx.error(
                    "bad-value",
                    format!("`{}` is not a valid `{key}`", s.value),
                    &s.loc,
                )
                .hint = Some(hint);
                None
            }
        }
    }

    fn grain(&self, cx: &mut Cx<'_>, key: &str) -> Option<Located<Grain>> {
        let options: Vec<(&str, Grain)> = Grain::ALL.iter().map(|g| (g.name(), *g)).collect();
        self.choice(cx, key, &options)
    }

    fn sql(&self, cx: &mut Cx<'_>, key: &str) -> Option<SqlFragment> {
        let s = self.string(cx, key)?;
        let raw = cx.raw(&s.loc).to_string();
        match SqlFragment::parse(&s.value, &s.loc, &raw) {
            Ok(f) => Some(f),
            Err(e) => {
                cx.sql_error(e);
                None
            }
        }
    }

    /// A reference to another definition by id.
    fn id_ref(&self, cx: &mut Cx<'_>, key: &str) -> Option<Located<String>> {
        self.string(cx, key)
    }
}

fn parse_toml_number(text: &str) -> Option<f64> {
    let t: String = text.chars().filter(|c| *c != '_').collect();
    if let Some(hex) = t.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    match t.as_str() {
        "inf" | "+inf" | "-inf" | "nan" | "+nan" | "-nan" => None,
        _ => t.parse().ok(),
    }
}

fn weekday(name: &str) -> Option<Weekday> {
    name.parse().ok()
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn read_settings(cx: &mut Cx<'_>, root: &DeTable<'_>, settings: &mut Settings) {
    let Some((k, v)) = root.iter().find(|(k, _)| k.get_ref() == "project") else {
        cx.diags.push(
            Diagnostic::error("missing-project-table", "the root file has no [project] table")
                .at(&cx.loc(0..0))
                .hint("start the file with:\n[project]\nname = \"My company\""),
        );
        return;
    };
    let DeValue::Table(t) = v.get_ref() else {
        cx.error("wrong-type", "`project` must be a table", &cx.loc(v.span()));
        return;
    };
    let tab = Tab {
        table: t,
        name: "project".into(),
        loc: cx.loc(k.span()),
    };
    settings.loc = Some(tab.loc.clone());
    tab.known_keys(
        cx,
        &[
            "name",
            "timezone",
            "week_start",
            "fiscal_year_start",
            "currency",
            "include",
            "description",
            "owner",
        ],
    );
    match tab.text(cx, "name") {
        Some(n) => settings.name = n,
        None if !tab.has("name") => {
            cx.error("missing-key", "[project] needs a `name`", &tab.loc).hint =
                Some("add: name = \"My company\"".into());
        }
        None => {}
    }
    if let Some(tz) = tab.string(cx, "timezone") {
        match tz.value.parse::<Tz>() {
            Ok(z) => settings.timezone = z,
            Err(_) => {
                let all = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name());
                let hint = suggestion(&tz.value, all).unwrap_or_else(|| {
                    "use an IANA time zone name such as \"Europe/Berlin\", \"America/New_York\" or \"UTC\"".into()
                });
                cx.error(
                    "bad-timezone",
                    format!("`{}` is not an IANA time zone", tz.value),
                    &tz.loc,
                )
                .hint = Some(hint);
            }
        }
    }
    if let Some(ws) = tab.string(cx, "week_start") {
        match weekday(&ws.value) {
            Some(d) => settings.week_start = d,
            None => {
                cx.error(
                    "bad-value",
                    format!("`{}` is not a day of the week", ws.value),
                    &ws.loc,
                )
                .hint = Some("write a day name such as \"monday\" or \"sunday\"".into());
            }
        }
    }
    if let Some(m) = tab.string(cx, "fiscal_year_start") {
        let lower = m.value.to_ascii_lowercase();
        match MONTHS
            .iter()
            .position(|n| *n == lower || (lower.len() == 3 && n.starts_with(&lower)))
        {
            Some(i) => settings.fiscal_year_start = i as u32 + 1,
            None => {
                let hint = suggestion(&lower, MONTHS.iter().copied())
                    .unwrap_or_else(|| "write a month name such as \"april\"".into());
                cx.error("bad-value", format!("`{}` is not a month", m.value), &m.loc)
                    .hint = Some(hint);
            }
        }
    }
    if let Some(c) = tab.string(cx, "currency") {
        if c.value.len() == 3 && c.value.bytes().all(|b| b.is_ascii_uppercase()) {
            settings.currency = Some(c.value);
        } else {
            cx.error(
                "bad-value",
                format!("`{}` is not an ISO 4217 currency code", c.value),
                &c.loc,
            )
            .hint = Some("write three capital letters such as \"EUR\" or \"USD\"".into());
        }
    }
    settings.include = tab.string_list(cx, "include");
}

/// Top-level tables and what they hold.
const TOP_LEVEL: [&str; 9] = [
    "project",
    "source",
    "metric",
    "kpi",
    "contract",
    "incentive",
    "partnership",
    "scorecard",
    "alert",
];

fn read_definitions(cx: &mut Cx<'_>, root: &DeTable<'_>, is_root: bool, cal: &Calendar, p: &mut Project) {
    for (k, v) in root.iter() {
        let key = k.get_ref().as_ref();
        let key_loc = cx.loc(k.span());
        if key == "project" {
            if !is_root {
                cx.error(
                    "project-in-include",
                    "[project] belongs in the root yardstick.toml only",
                    &key_loc,
                );
            }
            continue;
        }
        if !TOP_LEVEL.contains(&key) {
            let plurals = [
                "kpis",
                "sources",
                "metrics",
                "contracts",
                "incentives",
                "partnerships",
                "scorecards",
                "alerts",
            ];
            let hint = did_you_mean(key, TOP_LEVEL.iter().copied().chain(plurals))
                .map(|s| format!("did you mean `{}`?", s.trim_end_matches('s')))
                .unwrap_or_else(|| format!("accepted tables: {}", TOP_LEVEL.join(", ")));
            cx.error("unknown-table", format!("unknown table `{key}`"), &key_loc)
                .hint = Some(hint);
            continue;
        }
        let DeValue::Table(items) = v.get_ref() else {
            cx.error(
                "wrong-type",
                format!("`{key}` must be a table of definitions: [{key}.ID]"),
                &key_loc,
            );
            continue;
        };
        for (id_key, body) in items.iter() {
            let id = Located::new(id_key.get_ref().to_string(), cx.loc(id_key.span()));
            let DeValue::Table(t) = body.get_ref() else {
                cx.error(
                    "wrong-type",
                    format!("`{key}.{}` must be a table: write [{key}.{}]", id.value, id.value),
                    &id.loc,
                );
                continue;
            };
            let tab = Tab {
                table: t,
                name: format!("{key}.{}", id.value),
                loc: id.loc.clone(),
            };
            match key {
                "source" if check_id(cx, &id, "source") => {
                    let s = read_source(cx, &tab, id.clone());
                    insert(cx, &mut p.sources, id, s, |s| &s.id);
                }
                "metric" | "kpi" if check_id(cx, &id, key) => {
                    let kind = if key == "kpi" {
                        MeasureKind::Kpi
                    } else {
                        MeasureKind::Metric
                    };
                    let m = read_measure_def(cx, &tab, id.clone(), kind, cal);
                    // KPIs and metrics share one namespace: formulas name both.
                    let other = if kind == MeasureKind::Kpi {
                        &p.metrics
                    } else {
                        &p.kpis
                    };
                    if let Some(first) = other.get(&id.value) {
                        cx.diags.push(
                            Diagnostic::error(
                                "duplicate-id",
                                format!("`{}` is defined both as a kpi and as a metric", id.value),
                            )
                            .at(&id.loc)
                            .related(&first.id.loc, "first defined here")
                            .hint("formulas name KPIs and metrics alike, so their ids must differ"),
                        );
                        continue;
                    }
                    let map = if kind == MeasureKind::Kpi {
                        &mut p.kpis
                    } else {
                        &mut p.metrics
                    };
                    insert(cx, map, id, m, |m| &m.id);
                }
                "contract" => {
                    let c = read_contract(cx, &tab, id.clone());
                    insert(cx, &mut p.contracts, id, c, |c| &c.id);
                }
                "incentive" => {
                    let i = read_incentive(cx, &tab, id.clone());
                    insert(cx, &mut p.incentives, id, i, |i| &i.id);
                }
                "partnership" => {
                    let s = read_partnership(cx, &tab, id.clone());
                    insert(cx, &mut p.partnerships, id, s, |s| &s.id);
                }
                "scorecard" => {
                    let s = read_scorecard(cx, &tab, id.clone());
                    insert(cx, &mut p.scorecards, id, s, |s| &s.id);
                }
                "alert" if check_id(cx, &id, "alert") => {
                    if let Some(a) = read_alert(cx, &tab, id.clone()) {
                        insert(cx, &mut p.alerts, id, a, |a| &a.id);
                    }
                }
                _ => {}
            }
        }
    }
}

fn insert<T>(
    cx: &mut Cx<'_>,
    map: &mut IndexMap<String, T>,
    id: Located<String>,
    value: T,
    id_of: impl Fn(&T) -> &Located<String>,
) {
    if let Some(first) = map.get(&id.value) {
        let first_loc = id_of(first).loc.clone();
        let first_pos = cx.files.position(&first_loc);
        cx.diags.push(
            Diagnostic::error(
                "duplicate-id",
                format!("`{}` is defined twice (first at {first_pos})", id.value),
            )
            .at(&id.loc)
            .related(&first_loc, "first defined here")
            .hint("ids are unique across all files of a project: rename one of them"),
        );
        return;
    }
    map.insert(id.value.clone(), value);
}

/// Ids of sources, KPIs and metrics are SQL identifiers (views and formulas name them).
fn check_id(cx: &mut Cx<'_>, id: &Located<String>, kind: &str) -> bool {
    let ok = id
        .value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && id.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        let fixed: String = id
            .value
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        cx.error("bad-id", format!("`{}` cannot be a {kind} id", id.value), &id.loc)
            .hint = Some(format!(
            "{kind} ids are used in SQL and formulas: use letters, digits and _, e.g. `{fixed}`"
        ));
    }
    ok
}

const SOURCE_KEYS: [&str; 12] = [
    "path",
    "store",
    "format",
    "sql",
    "time",
    "start",
    "end",
    "owner",
    "freshness",
    "columns",
    "description",
    "name",
];

fn shape_columns(shape: &Shape) -> Vec<&Located<String>> {
    match shape {
        Shape::Event { time } => vec![time],
        Shape::Interval { start, end } => vec![start, end],
        Shape::Reference => vec![],
    }
}

fn read_source(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Source {
    tab.known_keys(cx, &SOURCE_KEYS);
    let path = tab.string(cx, "path");
    let sql = tab.string(cx, "sql");
    let format = tab.string(cx, "format");
    let store = match tab.entry("store").map(|(_, v)| v.get_ref()) {
        Some(DeValue::Boolean(b)) => *b,
        Some(_) => {
            tab.wrong_type(cx, "store", "true or false", None);
            false
        }
        None => false,
    };
    if store {
        let loc = tab.key_loc(cx, "store");
        if path.is_some() || sql.is_some() {
            cx.error(
                "conflicting-keys",
                "a stored source receives its rows through the API or `yardstick push`: drop `path`/`sql`, or `store`",
                &loc,
            );
        }
    }
    let origin = match (path, sql) {
        _ if store => Some(Origin::Store),
        (Some(path), None) => {
            let fmt = match &format {
                Some(f) => FileFormat::from_name(&f.value).or_else(|| {
                    let hint = suggestion(&f.value, FileFormat::NAMES)
                        .unwrap_or_else(|| format!("accepted formats: {}", FileFormat::NAMES.join(", ")));
                    cx.error("bad-value", format!("`{}` is not a file format", f.value), &f.loc)
                        .hint = Some(hint);
                    None
                }),
                None => FileFormat::from_path(&path.value).or_else(|| {
                    cx.error(
                        "unknown-format",
                        format!("cannot tell the format of `{}` from its extension", path.value),
                        &path.loc,
                    )
                    .hint = Some(
                        "name a .csv, .parquet, .json or .ndjson file, or set `format = \"csv\"`".into(),
                    );
                    None
                }),
            };
            fmt.map(|format| Origin::Files { path, format })
        }
        (None, Some(sql)) => {
            if let Some(f) = &format {
                cx.error("unused-key", "`format` applies to files, not to a view", &f.loc);
            }
            let raw = cx.raw(&sql.loc).to_string();
            match parse_view(&sql.value, &sql.loc, &raw) {
                Ok(reads) => Some(Origin::View { sql, reads }),
                Err(e) => {
                    cx.sql_error(e);
                    None
                }
            }
        }
        (Some(_), Some(sql)) => {
            cx.error(
                "conflicting-keys",
                "a source has either `path` (files) or `sql` (a view), not both",
                &sql.loc,
            );
            None
        }
        (None, None) => {
            cx.error(
                "missing-key",
                format!("source `{}` needs `path` or `sql`", id.value),
                &id.loc,
            )
            .hint = Some(
                "files: path = \"data/orders.csv\"; a view: sql = \"SELECT … FROM other_source\"".into(),
            );
            None
        }
    };
    let time = tab.string(cx, "time");
    let start = tab.string(cx, "start");
    let end = tab.string(cx, "end");
    let shape = match (time, start, end) {
        (Some(time), None, None) => Shape::Event { time },
        (None, Some(start), Some(end)) => Shape::Interval { start, end },
        (None, None, None) => Shape::Reference,
        (Some(time), s, e) if s.is_some() || e.is_some() => {
            cx.error(
                "conflicting-keys",
                "a source has `time` (events) or `start` and `end` (intervals), not both",
                &time.loc,
            );
            Shape::Event { time }
        }
        (None, Some(s), None) | (None, None, Some(s)) => {
            let missing = if tab.has("start") { "end" } else { "start" };
            cx.error(
                "missing-key",
                format!("an interval source needs both `start` and `end`; `{missing}` is missing"),
                &s.loc,
            )
            .hint = Some("end may be empty in a row for an interval still going".into());
            Shape::Reference
        }
        _ => Shape::Reference,
    };
    let freshness = tab.parsed(cx, "freshness", "bad-duration", Duration::FORMS, |s| {
        Duration::parse(s).ok_or_else(|| format!("`{s}` is not a duration"))
    });
    let mut columns = Vec::new();
    if let Some(cols) = tab.table(cx, "columns") {
        for (k, v) in cols.table.iter() {
            let name = Located::new(k.get_ref().to_string(), cx.loc(k.span()));
            let ty = match v.get_ref() {
                DeValue::String(s) => ColumnType::from_name(s),
                _ => None,
            };
            match ty {
                Some(t) => columns.push((name, t)),
                None => {
                    let hint = format!("accepted types: {}", ColumnType::NAMES.join(", "));
                    cx.error(
                        "bad-value",
                        format!("bad type for column `{}`", name.value),
                        &cx.loc(v.span()),
                    )
                    .hint = Some(hint);
                }
            }
        }
    }
    if store {
        // Pushed rows are validated against the declared columns: every
        // column a row may carry, the time columns among them, is declared.
        if columns.is_empty() {
            cx.error(
                "missing-key",
                format!("stored source `{}` needs `columns`", id.value),
                &tab.key_loc(cx, "store"),
            )
            .hint = Some(
                "pushed rows are checked against them, e.g. columns = { at = \"timestamp\", amount = \"double\" }"
                    .into(),
            );
        } else {
            for c in shape_columns(&shape) {
                match columns.iter().find(|(n, _)| n.value == c.value) {
                    None => {
                        cx.error(
                            "unknown-column",
                            format!(
                                "`{}` is not among the declared `columns` of stored source `{}`",
                                c.value, id.value
                            ),
                            &c.loc,
                        )
                        .hint = Some(format!("declare it: {} = \"timestamp\"", c.value));
                    }
                    Some((n, t)) if !matches!(t, ColumnType::Timestamp | ColumnType::Date) => {
                        cx.error(
                            "bad-value",
                            format!("time column `{}` must be declared as timestamp or date", c.value),
                            &n.loc,
                        );
                    }
                    Some(_) => {}
                }
            }
        }
    }
    Source {
        id,
        origin,
        shape,
        owner: tab.text(cx, "owner"),
        freshness,
        columns,
        description: tab.text(cx, "description"),
    }
}

/// The keys that each give a definition its measure.
pub(crate) const FORM_KEYS: [&str; 8] = [
    "measure",
    "share",
    "percentile",
    "ratio",
    "formula",
    "growth",
    "cumulative",
    "availability",
];

const KPI_KEYS: [&str; 24] = [
    "name",
    "parties",
    "objective",
    "description",
    "unit",
    "tags",
    "owner",
    "level",
    "every",
    "window",
    "for_each",
    "dimensions",
    "target",
    "warning",
    "targets",
    "baseline",
    "benchmark",
    "fill",
    "source",
    "filter",
    // measure forms are appended at use
    "measure",
    "share",
    "percentile",
    "ratio",
];

fn kpi_keys() -> Vec<&'static str> {
    let mut keys: Vec<&str> = KPI_KEYS.to_vec();
    for f in FORM_KEYS {
        if !keys.contains(&f) {
            keys.push(f);
        }
    }
    keys
}

fn read_measure_def(
    cx: &mut Cx<'_>,
    tab: &Tab<'_>,
    id: Located<String>,
    kind: MeasureKind,
    cal: &Calendar,
) -> MeasureDef {
    let keys = kpi_keys();
    tab.known_keys(cx, &keys);
    if kind == MeasureKind::Metric {
        for key in ["target", "warning", "targets", "every", "window"] {
            if tab.has(key) {
                let loc = tab.key_loc(cx, key);
                cx.error(
                    "metric-has-target",
                    format!("a metric has no `{key}` of its own: it is evaluated at the period of the KPI that uses it"),
                    &loc,
                )
                .hint = Some(format!("make it a KPI: write [kpi.{}] instead of [metric.{}]", id.value, id.value));
            }
        }
    }
    let measure = read_measure(cx, tab, &id, kind);
    let every = tab.grain(cx, "every");
    let window = tab.parsed(
        cx,
        "window",
        "bad-window",
        "a number of days such as \"7d\", \"28d\" or \"4w\"",
        |s| {
            Duration::parse(s)
                .and_then(|d| d.whole_days())
                .ok_or_else(|| format!("`{s}` is not a whole number of days"))
        },
    );
    let cadence = match (every, window) {
        (Some(e), None) => Some(Located::new(Cadence::Every(e.value), e.loc)),
        (None, Some(w)) => Some(Located::new(Cadence::Window { days: w.value }, w.loc)),
        (Some(e), Some(w)) => {
            cx.diags.push(
                Diagnostic::error(
                    "every-and-window",
                    "a KPI has `every` (calendar periods) or `window` (rolling), not both",
                )
                .at(&w.loc)
                .related(&e.loc, "`every` set here")
                .hint("remove one of them"),
            );
            Some(Located::new(Cadence::Every(e.value), e.loc))
        }
        (None, None) => None,
    };
    let target_parser = Threshold::parse;
    let target = tab.parsed(cx, "target", "bad-target", Target::FORMS, target_parser);
    let warning = tab.parsed(cx, "warning", "bad-target", Target::FORMS, target_parser);
    let mut targets = Vec::new();
    if tab.has("targets") {
        if tab.has("target") {
            let loc = tab.key_loc(cx, "targets");
            cx.error(
                "conflicting-keys",
                "use `target` or the effective-dated `targets`, not both",
                &loc,
            )
            .hint = Some("move the plain target into `targets` with the date it started".into());
        }
        for entry in tab.table_list(cx, "targets") {
            entry.known_keys(cx, &["from", "target", "warning", "note"]);
            let from = entry.date(cx, "from");
            let t = entry.parsed(cx, "target", "bad-target", Target::FORMS, target_parser);
            if !entry.has("target") {
                cx.error(
                    "missing-key",
                    "each entry of `targets` needs a `target`",
                    &entry.loc,
                );
            }
            if !entry.has("from") {
                cx.error(
                    "missing-key",
                    "each entry of `targets` needs `from` (the first period it applies to)",
                    &entry.loc,
                )
                .hint = Some("e.g. { from = \"2026-07\", target = \">= 99.9%\" }".into());
            }
            let w = entry.parsed(cx, "warning", "bad-target", Target::FORMS, target_parser);
            if let (Some(from), Some(t)) = (from, t) {
                targets.push(DatedTarget {
                    from,
                    target: t,
                    warning: w,
                    note: entry.text(cx, "note"),
                });
            }
        }
    }
    let baseline = match tab.entry("baseline").map(|(_, v)| v.get_ref()) {
        None => None,
        Some(DeValue::Integer(_) | DeValue::Float(_)) => {
            tab.number(cx, "baseline").map(|n| Baseline::Value(n.value))
        }
        Some(DeValue::Table(_)) => tab.table(cx, "baseline").and_then(|b| {
            b.known_keys(cx, &["period"]);
            let label = b.string(cx, "period")?;
            if cal.parse_label(&label.value).is_none() {
                cx.error(
                    "bad-period",
                    format!("`{}` is not a period label", label.value),
                    &label.loc,
                )
                .hint = Some(
                    "write a label such as \"2025\", \"2025-H2\", \"2025-Q4\", \"2025-06\" or \"FY2026\""
                        .into(),
                );
                return None;
            }
            Some(Baseline::Period(label))
        }),
        Some(_) => {
            tab.wrong_type(cx, "baseline", "a number or { period = \"2025\" }", None);
            None
        }
    };
    let benchmark = match tab.entry("benchmark").map(|(_, v)| v.get_ref()) {
        None => None,
        Some(DeValue::Integer(_) | DeValue::Float(_)) => tab.number(cx, "benchmark").map(|n| Benchmark {
            value: n.value,
            source: None,
        }),
        Some(DeValue::Table(_)) => tab.table(cx, "benchmark").and_then(|b| {
            b.known_keys(cx, &["value", "source"]);
            let value = b.share(cx, "value");
            if !b.has("value") {
                cx.error("missing-key", "a benchmark needs a `value`", &b.loc);
            }
            Some(Benchmark {
                value: value?.value,
                source: b.text(cx, "source"),
            })
        }),
        Some(_) => {
            tab.wrong_type(cx, "benchmark", "a number or { value = …, source = \"…\" }", None);
            None
        }
    };
    let level = tab.choice(
        cx,
        "level",
        &[
            ("individual", Level::Individual),
            ("team", Level::Team),
            ("company", Level::Company),
            ("partnership", Level::Partnership),
        ],
    );
    MeasureDef {
        kind,
        name: tab.text(cx, "name"),
        objective: tab.text(cx, "objective"),
        description: tab.text(cx, "description"),
        unit: tab.text(cx, "unit"),
        tags: tab.string_list(cx, "tags").into_iter().map(|t| t.value).collect(),
        parties: tab
            .string_list(cx, "parties")
            .into_iter()
            .map(|t| t.value)
            .collect(),
        owner: tab.text(cx, "owner"),
        level: level.map(|l| l.value),
        measure,
        cadence,
        for_each_set: tab.has("for_each"),
        for_each: tab.string_list(cx, "for_each"),
        dimensions: tab.string_list(cx, "dimensions"),
        target,
        warning,
        targets,
        target_declared: tab.has("target") || tab.has("targets"),
        baseline,
        benchmark,
        fill: tab.number(cx, "fill").map(|n| n.value),
        id,
    }
}

fn read_measure(
    cx: &mut Cx<'_>,
    tab: &Tab<'_>,
    id: &Located<String>,
    kind: MeasureKind,
) -> Option<Located<Measure>> {
    // In the order written, so the second form written is the one reported.
    let mut forms: Vec<&str> = FORM_KEYS.iter().copied().filter(|k| tab.has(k)).collect();
    forms.sort_by_key(|k| tab.entry(k).map_or(0, |(key, _)| key.span().start));
    let Some(&form) = forms.first() else {
        cx.error(
            "missing-measure",
            format!("{} `{}` has no measure", kind.table(), id.value),
            &id.loc,
        )
        .hint = Some(
            "add one of: measure = \"sum(amount)\" (with source), share, percentile, ratio, formula, growth, cumulative, availability"
                .into(),
        );
        return None;
    };
    if forms.len() > 1 {
        let first = tab.key_loc(cx, forms[0]);
        for other in &forms[1..] {
            let loc = tab.key_loc(cx, other);
            cx.diags.push(
                Diagnostic::error(
                    "multiple-measures",
                    format!(
                        "{} `{}` has two measure forms: `{}` and `{other}`",
                        kind.table(),
                        id.value,
                        forms[0]
                    ),
                )
                .at(&loc)
                .related(&first, "first measure form here")
                .hint(
                    "a KPI or metric has exactly one measure form; define the other as its own [metric.ID]",
                ),
            );
        }
        return None;
    }
    let form_loc = tab.key_loc(cx, form);
    let source = tab.id_ref(cx, "source");
    let filter = if tab.has("filter") {
        tab.sql(cx, "filter")
    } else {
        None
    };
    let source_based = matches!(form, "measure" | "share" | "percentile");
    if !source_based {
        for key in ["source", "filter"] {
            if tab.has(key) {
                let loc = tab.key_loc(cx, key);
                cx.error(
                    "unused-key",
                    format!("`{key}` is not used by a {form} measure"),
                    &loc,
                )
                .hint = Some(format!(
                    "{form} is computed from other KPIs, metrics or sources named inside it"
                ));
            }
        }
    } else if source.is_none() && !tab.has("source") {
        cx.error(
            "missing-key",
            format!("a `{form}` measure needs a `source`"),
            &form_loc,
        )
        .hint = Some("add: source = \"orders\"".into());
    }
    let measure = match form {
        "measure" => {
            let m = tab.sql(cx, "measure")?;
            Measure::Aggregate {
                source: source?,
                measure: m,
                filter,
            }
        }
        "share" => {
            let c = tab.sql(cx, "share")?;
            Measure::Share {
                source: source?,
                condition: c,
                filter,
            }
        }
        "percentile" => {
            let t = tab.table(cx, "percentile")?;
            t.known_keys(cx, &["of", "p"]);
            let p = t.number(cx, "p");
            if !t.has("p") || !t.has("of") {
                cx.error("missing-key", "a percentile needs `of` and `p`", &t.loc)
                    .hint = Some("e.g. percentile = { of = \"resolution_hours\", p = 90 }".into());
            }
            if let Some(p) = &p
                && !(0.0..=100.0).contains(&p.value)
            {
                cx.error("bad-value", format!("p = {} is outside 0–100", p.value), &p.loc)
                    .hint = Some("p is a percentage: p = 90 is the 90th percentile".into());
                return None;
            }
            let of = t.sql(cx, "of")?;
            Measure::Percentile {
                source: source?,
                of,
                p: p?.value,
                filter,
            }
        }
        "ratio" => {
            let t = tab.table(cx, "ratio")?;
            t.known_keys(cx, &["numerator", "denominator"]);
            if !t.has("numerator") || !t.has("denominator") {
                cx.error(
                    "missing-key",
                    "a ratio needs `numerator` and `denominator`",
                    &t.loc,
                )
                .hint =
                    Some("e.g. ratio = { numerator = \"won_deals\", denominator = \"all_deals\" }".into());
            }
            Measure::Ratio {
                numerator: t.id_ref(cx, "numerator")?,
                denominator: t.id_ref(cx, "denominator")?,
            }
        }
        "formula" => {
            let s = tab.string(cx, "formula")?;
            let raw = cx.raw(&s.loc).to_string();
            match Formula::parse(&s.value, &s.loc, &raw) {
                Ok(f) => Measure::Formula(f),
                Err(e) => {
                    cx.sql_error(e);
                    return None;
                }
            }
        }
        "growth" => {
            let t = tab.table(cx, "growth")?;
            t.known_keys(cx, &["of", "vs"]);
            let vs = if t.has("vs") {
                t.choice(
                    cx,
                    "vs",
                    &[
                        ("previous", GrowthRef::Previous),
                        ("year_ago", GrowthRef::YearAgo),
                    ],
                )?
                .value
            } else {
                GrowthRef::Previous
            };
            if !t.has("of") {
                cx.error(
                    "missing-key",
                    "growth needs `of`: the KPI or metric that grows",
                    &t.loc,
                );
            }
            Measure::Growth {
                of: t.id_ref(cx, "of")?,
                vs,
            }
        }
        "cumulative" => {
            let t = tab.table(cx, "cumulative")?;
            t.known_keys(cx, &["of", "reset"]);
            let reset = if t.has("reset") {
                t.choice(
                    cx,
                    "reset",
                    &[
                        ("quarter", Reset::Quarter),
                        ("year", Reset::Year),
                        ("fiscal_year", Reset::FiscalYear),
                        ("never", Reset::Never),
                    ],
                )?
                .value
            } else {
                Reset::Never
            };
            if !t.has("of") {
                cx.error(
                    "missing-key",
                    "cumulative needs `of`: the KPI or metric to add up",
                    &t.loc,
                );
            }
            Measure::Cumulative {
                of: t.id_ref(cx, "of")?,
                reset,
            }
        }
        "availability" => {
            let t = tab.table(cx, "availability")?;
            t.known_keys(cx, &["down", "exclude", "per", "units"]);
            if !t.has("down") {
                cx.error(
                    "missing-key",
                    "availability needs `down`: the interval source of downtime",
                    &t.loc,
                );
            }
            let per = t.string(cx, "per");
            let units = t.id_ref(cx, "units");
            if per.is_some() != units.is_some() {
                let loc = per
                    .as_ref()
                    .or(units.as_ref())
                    .map_or(t.loc.clone(), |l| l.loc.clone());
                cx.error("missing-key", "fleet availability needs both `per` (the unit column) and `units` (the source listing units)", &loc);
            }
            Measure::Availability {
                down: t.id_ref(cx, "down")?,
                exclude: t.id_ref(cx, "exclude"),
                per,
                units,
            }
        }
        _ => return None,
    };
    Some(Located::new(measure, form_loc))
}

fn read_contract(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Contract {
    tab.known_keys(
        cx,
        &[
            "name",
            "description",
            "provider",
            "client",
            "fee",
            "start",
            "end",
            "clause",
            "owner",
        ],
    );
    let fee = tab.table(cx, "fee").and_then(|f| {
        f.known_keys(cx, &["amount", "every"]);
        if !f.has("amount") || !f.has("every") {
            cx.error("missing-key", "a fee needs `amount` and `every`", &f.loc)
                .hint = Some("e.g. fee = { amount = 12000, every = \"month\" }".into());
        }
        let amount = f.number(cx, "amount")?;
        if amount.value < 0.0 {
            cx.error("bad-value", "a fee cannot be negative", &amount.loc);
        }
        let every = f.grain(cx, "every")?;
        Some(Located::new(
            Fee {
                amount: amount.value,
                every: every.value,
            },
            f.loc.clone(),
        ))
    });
    let start = tab.date(cx, "start");
    let end = tab.date(cx, "end");
    if let (Some(s), Some(e)) = (&start, &end)
        && e.value <= s.value
    {
        cx.error("bad-value", "the contract ends before it starts", &e.loc);
    }
    let mut clauses: Vec<Clause> = Vec::new();
    for c in tab.table_list(cx, "clause") {
        c.known_keys(
            cx,
            &[
                "id",
                "text",
                "kpi",
                "target",
                "breach_when",
                "remedies",
                "credits",
                "credit_cap",
                "name",
            ],
        );
        let Some(cid) = c.string(cx, "id") else {
            if !c.has("id") {
                cx.error("missing-key", "a clause needs an `id`", &c.loc).hint =
                    Some("e.g. id = \"uptime\"".into());
            }
            continue;
        };
        if let Some(first) = clauses.iter().find(|x| x.id.value == cid.value) {
            cx.diags.push(
                Diagnostic::error(
                    "duplicate-id",
                    format!("clause `{}` appears twice in this contract", cid.value),
                )
                .at(&cid.loc)
                .related(&first.id.loc, "first defined here"),
            );
            continue;
        }
        let breach_when = c
            .parsed(
                cx,
                "breach_when",
                "bad-breach-rule",
                BreachRule::FORMS,
                BreachRule::parse,
            )
            .map_or(BreachRule::Any, |b| b.value);
        let mut remedies = Vec::new();
        for r in c.table_list(cx, "remedies") {
            r.known_keys(cx, &["credit", "action"]);
            match (r.has("credit"), r.has("action")) {
                (true, false) => {
                    if let Some(v) = r.share(cx, "credit") {
                        if !(0.0..=1.0).contains(&v.value) {
                            cx.error(
                                "bad-value",
                                "a credit is a share of the fee between 0% and 100%",
                                &v.loc,
                            );
                        }
                        remedies.push(Remedy::Credit(v.value));
                    }
                }
                (false, true) => {
                    if let Some(a) = r.text(cx, "action") {
                        remedies.push(Remedy::Action(a));
                    }
                }
                _ => {
                    cx.error(
                        "bad-remedy",
                        "a remedy is either { credit = \"10%\" } or { action = \"contract_review\" }",
                        &r.loc,
                    );
                }
            }
        }
        let mut credits = Vec::new();
        for t in c.table_list(cx, "credits") {
            t.known_keys(cx, &["below", "credit"]);
            if !t.has("below") || !t.has("credit") {
                cx.error("missing-key", "a credit tier needs `below` and `credit`", &t.loc)
                    .hint = Some("e.g. { below = \"99.5%\", credit = \"10%\" }".into());
            }
            if let (Some(below), Some(credit)) = (t.share(cx, "below"), t.share(cx, "credit")) {
                if let Some(dup) = credits.iter().find(|x: &&CreditTier| x.below == below.value) {
                    cx.error(
                        "duplicate-tier",
                        format!("two credit tiers start below {}", dup.below),
                        &below.loc,
                    );
                    continue;
                }
                credits.push(CreditTier {
                    below: below.value,
                    credit: credit.value,
                });
            }
        }
        credits.sort_by(|a, b| a.below.total_cmp(&b.below));
        if !credits.is_empty() && remedies.iter().any(|r| matches!(r, Remedy::Credit(_))) {
            let loc = c.key_loc(cx, "credits");
            cx.error(
                "conflicting-keys",
                "a clause has a flat credit in `remedies` or tiered `credits`, not both",
                &loc,
            );
        }
        let target = c.parsed(cx, "target", "bad-target", Target::FORMS, Threshold::parse);
        clauses.push(Clause {
            text: c.text(cx, "text"),
            kpi: c.id_ref(cx, "kpi"),
            target,
            breach_when,
            remedies,
            credits,
            credit_cap: c.share(cx, "credit_cap").map(|v| v.value),
            id: cid,
        });
    }
    Contract {
        name: tab.text(cx, "name"),
        description: tab.text(cx, "description"),
        provider: tab.text(cx, "provider"),
        client: tab.text(cx, "client"),
        fee,
        start: start.map(|s| s.value),
        end: end.map(|e| e.value),
        clauses,
        id,
    }
}

fn read_incentive(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Incentive {
    tab.known_keys(cx, &["name", "description", "owner", "kpi", "payout"]);
    let mut payout: Vec<PayoutPoint> = Vec::new();
    for p in tab.table_list(cx, "payout") {
        p.known_keys(cx, &["at", "pay"]);
        if !p.has("at") || !p.has("pay") {
            cx.error(
                "missing-key",
                "a payout point needs `at` (attainment) and `pay`",
                &p.loc,
            )
            .hint = Some("e.g. { at = \"100%\", pay = 5000 }".into());
        }
        if let (Some(at), Some(pay)) = (p.share(cx, "at"), p.number(cx, "pay")) {
            if payout.last().is_some_and(|last| last.at >= at.value) {
                cx.error(
                    "unordered-payout",
                    "payout points must be in increasing order of `at`",
                    &at.loc,
                );
            }
            payout.push(PayoutPoint {
                at: at.value,
                pay: pay.value,
            });
        }
    }
    if !tab.has("payout") {
        cx.error(
            "missing-key",
            format!("incentive `{}` needs a `payout` curve", id.value),
            &id.loc,
        )
        .hint = Some("e.g. payout = [{ at = \"80%\", pay = 0 }, { at = \"100%\", pay = 5000 }]".into());
    }
    if !tab.has("kpi") {
        cx.error(
            "missing-key",
            format!("incentive `{}` needs a `kpi`", id.value),
            &id.loc,
        );
    }
    Incentive {
        name: tab.text(cx, "name"),
        description: tab.text(cx, "description"),
        owner: tab.text(cx, "owner"),
        kpi: tab.id_ref(cx, "kpi"),
        payout,
        id,
    }
}

fn read_partnership(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Partnership {
    tab.known_keys(
        cx,
        &[
            "name",
            "description",
            "kind",
            "partners",
            "kpis",
            "review_every",
            "owner",
        ],
    );
    let kind = tab
        .choice(
            cx,
            "kind",
            &[
                ("joint_venture", PartnershipKind::JointVenture),
                ("technology", PartnershipKind::Technology),
                ("distribution", PartnershipKind::Distribution),
                ("other", PartnershipKind::Other),
            ],
        )
        .map_or(PartnershipKind::Other, |k| k.value);
    let partners: Vec<String> = tab
        .string_list(cx, "partners")
        .into_iter()
        .map(|p| p.value)
        .collect();
    if tab.has("partners") && partners.len() < 2 {
        let loc = tab.value_loc(cx, "partners");
        cx.error("bad-value", "a partnership names at least two partners", &loc);
    }
    Partnership {
        name: tab.text(cx, "name"),
        description: tab.text(cx, "description"),
        kind,
        partners,
        kpis: tab.string_list(cx, "kpis"),
        review_every: tab.grain(cx, "review_every").map(|g| g.value),
        id,
    }
}

fn read_alert(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Option<Alert> {
    tab.known_keys(
        cx,
        &[
            "name",
            "when",
            "kpi",
            "source",
            "contract",
            "clause",
            "statuses",
            "webhook",
            "webhook_env",
            "payload",
            "owner",
        ],
    );
    let when = match tab.choice(cx, "when", &AlertWhen::NAMES) {
        Some(w) => w,
        None => {
            if !tab.has("when") {
                cx.error(
                    "missing-key",
                    format!("alert `{}` needs `when`", id.value),
                    &id.loc,
                )
                .hint = Some("one of status, projection, anomaly, stale, burn_rate".into());
            }
            return None;
        }
    };
    let kpi = tab.id_ref(cx, "kpi");
    let source = tab.id_ref(cx, "source");
    let contract = tab.id_ref(cx, "contract");
    let clause = tab.string(cx, "clause");
    let subjects = [kpi.is_some(), source.is_some(), contract.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if subjects != 1 {
        cx.error(
            "alert-subject",
            format!(
                "alert `{}` watches {}: name exactly one of `kpi`, `source` or `contract` (with `clause`)",
                id.value,
                if subjects == 0 {
                    "nothing"
                } else {
                    "more than one thing"
                }
            ),
            &id.loc,
        );
    }
    if contract.is_some() != clause.is_some() {
        cx.error(
            "alert-subject",
            "`contract` and `clause` go together: the clause names the KPI and target to watch",
            &id.loc,
        );
    }
    if source.is_some() && when.value != AlertWhen::Stale {
        let loc = tab.value_loc(cx, "when");
        cx.error(
            "alert-when",
            format!(
                "a source alert can only watch for `stale` data, not `{}`",
                when.value.name()
            ),
            &loc,
        )
        .hint = Some("watch a KPI for statuses, projections, anomalies and burn rates".into());
    }
    let statuses = tab.string_list(cx, "statuses");
    let allowed: &[&str] = match when.value {
        AlertWhen::Status => &["missed", "warning", "met", "no_data"],
        AlertWhen::Projection => &["at_risk", "off_track", "on_track"],
        _ => &[],
    };
    for s in &statuses {
        if allowed.is_empty() {
            cx.error(
                "bad-value",
                format!(
                    "`statuses` applies to `status` and `projection` alerts, not `{}`",
                    when.value.name()
                ),
                &s.loc,
            );
        } else if !allowed.contains(&s.value.as_str()) {
            let hint = did_you_mean(&s.value, allowed.iter().copied())
                .map(|x| format!("did you mean `{x}`?"))
                .unwrap_or_else(|| format!("one of {}", allowed.join(", ")));
            cx.error("bad-value", format!("unknown status `{}`", s.value), &s.loc)
                .hint = Some(hint);
        }
    }
    let webhook = match (tab.string(cx, "webhook"), tab.string(cx, "webhook_env")) {
        (Some(_), Some(e)) => {
            cx.error("conflict", "write `webhook` or `webhook_env`, not both", &e.loc);
            None
        }
        (Some(u), None) => {
            if !(u.value.starts_with("http://") || u.value.starts_with("https://")) {
                cx.error(
                    "bad-value",
                    format!("webhook `{}` is not an http(s) URL", u.value),
                    &u.loc,
                );
            }
            Some(AlertTarget::Url(u))
        }
        (None, Some(e)) => Some(AlertTarget::Env(e)),
        (None, None) => None,
    };
    let payload = tab
        .choice(
            cx,
            "payload",
            &[("json", AlertPayload::Json), ("slack", AlertPayload::Slack)],
        )
        .map_or(AlertPayload::Json, |p| p.value);
    Some(Alert {
        name: tab.text(cx, "name"),
        when,
        kpi,
        source,
        contract,
        clause,
        statuses,
        webhook,
        payload,
        owner: tab.text(cx, "owner"),
        id,
    })
}

fn read_scorecard(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Scorecard {
    tab.known_keys(cx, &["name", "description", "owner", "weights"]);
    let mut weights = Vec::new();
    if let Some(w) = tab.table(cx, "weights") {
        for (k, _) in w.table.iter() {
            let key = k.get_ref().to_string();
            if let Some(n) = w.number(cx, &key) {
                if n.value <= 0.0 {
                    cx.error("bad-value", "weights must be positive", &n.loc);
                    continue;
                }
                weights.push((Located::new(key, cx.loc(k.span())), n.value));
            }
        }
    } else if !tab.has("weights") {
        cx.error(
            "missing-key",
            format!("scorecard `{}` needs `weights`", id.value),
            &id.loc,
        )
        .hint = Some("e.g. weights = { revenue = 3, churn = 2 }".into());
    }
    Scorecard {
        name: tab.text(cx, "name"),
        description: tab.text(cx, "description"),
        owner: tab.text(cx, "owner"),
        weights,
        id,
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
