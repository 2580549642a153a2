//! Reading one TOML table: typed getters that locate every value and report
//! unknown keys, wrong types and bad syntax.

use super::*;

/// Reading context: the file being read and the diagnostics sink.
pub(super) struct Cx<'a> {
    pub(super) files: &'a SourceMap,
    pub(super) file: FileId,
    pub(super) diags: &'a mut Diagnostics,
}

impl Cx<'_> {
    pub(super) fn loc(&self, span: std::ops::Range<usize>) -> Loc {
        Loc::new(self.file, span)
    }

    pub(super) fn raw(&self, loc: &Loc) -> &str {
        self.files.get(loc.file).text.get(loc.span.clone()).unwrap_or("")
    }

    pub(super) fn error(&mut self, code: &'static str, msg: impl Into<String>, loc: &Loc) -> &mut Diagnostic {
        self.diags.push_mut(Diagnostic::error(code, msg).at(loc))
    }

    pub(super) fn sql_error(&mut self, e: SqlError) {
        self.diags.push(
            Diagnostic::error("bad-sql", e.message)
                .at(&e.loc)
                .maybe_hint(e.hint),
        );
    }
}

pub(super) fn type_name(v: &DeValue<'_>) -> &'static str {
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
pub(super) struct Tab<'t> {
    pub(super) table: &'t DeTable<'t>,
    /// `kpi.revenue`, for messages.
    pub(super) name: String,
    pub(super) loc: Loc,
}

pub(super) type Entry<'t> = (&'t Spanned<std::borrow::Cow<'t, str>>, &'t Spanned<DeValue<'t>>);

impl<'t> Tab<'t> {
    pub(super) fn entry(&self, key: &str) -> Option<Entry<'t>> {
        self.table.iter().find(|(k, _)| k.get_ref() == key)
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.entry(key).is_some()
    }

    pub(super) fn key_loc(&self, cx: &Cx<'_>, key: &str) -> Loc {
        self.entry(key)
            .map_or(self.loc.clone(), |(k, _)| cx.loc(k.span()))
    }

    pub(super) fn value_loc(&self, cx: &Cx<'_>, key: &str) -> Loc {
        self.entry(key)
            .map_or(self.loc.clone(), |(_, v)| cx.loc(v.span()))
    }

    /// The table from its header to its last value.
    pub(super) fn extent(&self) -> Loc {
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
    pub(super) fn known_keys(&self, cx: &mut Cx<'_>, known: &[&str]) {
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

    pub(super) fn wrong_type(&self, cx: &mut Cx<'_>, key: &str, expected: &str, hint: Option<String>) {
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

    pub(super) fn string(&self, cx: &mut Cx<'_>, key: &str) -> Option<Located<String>> {
        let (_, v) = self.entry(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some(Located::new(s.to_string(), cx.loc(v.span()))),
            _ => {
                self.wrong_type(cx, key, "a string", None);
                None
            }
        }
    }

    pub(super) fn text(&self, cx: &mut Cx<'_>, key: &str) -> Option<String> {
        self.string(cx, key).map(|s| s.value)
    }

    pub(super) fn number(&self, cx: &mut Cx<'_>, key: &str) -> Option<Located<f64>> {
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
    pub(super) fn share(&self, cx: &mut Cx<'_>, key: &str) -> Option<Located<f64>> {
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

    pub(super) fn string_list(&self, cx: &mut Cx<'_>, key: &str) -> Vec<Located<String>> {
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

    pub(super) fn table(&self, cx: &mut Cx<'_>, key: &str) -> Option<Tab<'t>> {
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
    pub(super) fn table_list(&self, cx: &mut Cx<'_>, key: &str) -> Vec<Tab<'t>> {
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
    pub(super) fn date(&self, cx: &mut Cx<'_>, key: &str) -> Option<Located<NaiveDate>> {
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
    pub(super) fn parsed<T>(
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
    pub(super) fn choice<T: Copy>(
        &self,
        cx: &mut Cx<'_>,
        key: &str,
        options: &[(&str, T)],
    ) -> Option<Located<T>> {
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

    pub(super) fn grain(&self, cx: &mut Cx<'_>, key: &str) -> Option<Located<Grain>> {
        let options: Vec<(&str, Grain)> = Grain::ALL.iter().map(|g| (g.name(), *g)).collect();
        self.choice(cx, key, &options)
    }

    pub(super) fn sql(&self, cx: &mut Cx<'_>, key: &str) -> Option<SqlFragment> {
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
    pub(super) fn id_ref(&self, cx: &mut Cx<'_>, key: &str) -> Option<Located<String>> {
        self.string(cx, key)
    }
}

pub(super) fn parse_toml_number(text: &str) -> Option<f64> {
    let t: String = text.chars().filter(|c| *c != '_').collect();
    if let Some(hex) = t.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    match t.as_str() {
        "inf" | "+inf" | "-inf" | "nan" | "+nan" | "-nan" => None,
        _ => t.parse().ok(),
    }
}

pub(super) fn weekday(name: &str) -> Option<Weekday> {
    name.parse().ok()
}

pub(super) const MONTHS: [&str; 12] = [
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
