//! SQL fragments and formulas, parsed with DataFusion's SQL parser
//! (`sqlparser`, generic dialect) before any data is read.
//!
//! A fragment (`measure`, `filter`, `share`, `percentile.of`) must be a
//! single expression: no statements, no sub-queries. The columns it names are
//! collected with their positions so that a missing column can be reported
//! under a caret once the source's schema is known. A view's `sql` must be a
//! single `SELECT`; the sources it reads are collected the same way.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, ObjectName, Statement, UnaryOperator, Value, visit_expressions, visit_relations,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Location, Token};

use crate::diag::{Loc, Located};

/// A parsed SQL expression written in a definition.
#[derive(Debug, Clone)]
pub struct SqlFragment {
    pub text: String,
    /// Where the whole string value is written.
    pub loc: Loc,
    /// Column names the expression reads, each with its own position.
    pub columns: Vec<Located<String>>,
    /// The parsed expression.
    pub expr: Expr,
}

/// Maps positions inside a string value back to its TOML file.
///
/// When the string is written without escapes, positions are exact; otherwise
/// everything maps to the whole value.
#[derive(Debug, Clone)]
pub struct StringMap {
    loc: Loc,
    /// Byte offset in the file where the decoded text starts, if exact.
    exact_start: Option<usize>,
    text: String,
}

impl StringMap {
    /// `raw` is the file text covered by `loc` (quotes included); `text` the
    /// decoded value.
    pub fn new(loc: &Loc, raw: &str, text: &str) -> Self {
        let prefix = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
            let after = &raw[3..];
            3 + if after.starts_with("\r\n") {
                2
            } else {
                usize::from(after.starts_with('\n'))
            }
        } else if raw.starts_with('"') || raw.starts_with('\'') {
            1
        } else {
            0
        };
        let exact = raw.get(prefix..prefix + text.len()) == Some(text);
        StringMap {
            loc: loc.clone(),
            exact_start: exact.then_some(loc.span.start + prefix),
            text: text.to_string(),
        }
    }

    /// The file location of bytes `range` of the decoded text.
    pub fn sub(&self, range: std::ops::Range<usize>) -> Loc {
        match self.exact_start {
            Some(s) => Loc::new(self.loc.file, s + range.start..s + range.end),
            None => self.loc.clone(),
        }
    }

    /// Byte offset in the decoded text of a 1-based (line, column) pair.
    fn offset_of(&self, line: u64, column: u64) -> Option<usize> {
        let line_start: usize = if line <= 1 {
            0
        } else {
            self.text
                .match_indices('\n')
                .nth(usize::try_from(line - 2).ok()?)
                .map(|(i, _)| i + 1)?
        };
        let rest = &self.text[line_start..];
        let col = usize::try_from(column.saturating_sub(1)).ok()?;
        Some(line_start + rest.char_indices().nth(col).map_or(rest.len(), |(i, _)| i))
    }

    fn at_location(&self, loc: Location, len: usize) -> Loc {
        match self.offset_of(loc.line, loc.column) {
            Some(start) if loc.line > 0 => self.sub(start..(start + len).min(self.text.len())),
            _ => self.loc.clone(),
        }
    }

    /// The location named in a parser message ("… at Line: 1, Column: 5").
    fn at_message(&self, message: &str) -> (Loc, String) {
        if let Some(i) = message.rfind(" at Line: ") {
            let tail = &message[i + " at Line: ".len()..];
            let mut parts = tail.split(", Column: ");
            let line = parts.next().and_then(|l| l.trim().parse().ok());
            let col = parts.next().and_then(|c| c.trim().parse().ok());
            if let (Some(line), Some(column)) = (line, col) {
                return (
                    self.at_location(Location { line, column }, 1),
                    message[..i].to_string(),
                );
            }
        }
        (self.loc.clone(), message.to_string())
    }
}

/// Why a fragment was rejected, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlError {
    pub message: String,
    pub loc: Loc,
    pub hint: Option<String>,
}

fn parser_error(map: &StringMap, e: impl std::fmt::Display) -> SqlError {
    let (loc, message) = map.at_message(&e.to_string());
    let message = message
        .strip_prefix("sql parser error: ")
        .unwrap_or(&message)
        .to_string();
    SqlError {
        message: format!("this is not a valid SQL expression: {message}"),
        loc,
        hint: None,
    }
}

fn parse_single_expr(map: &StringMap, text: &str) -> Result<Expr, SqlError> {
    let dialect = GenericDialect {};
    let mut parser = Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| parser_error(map, e))?;
    let expr = parser.parse_expr().map_err(|e| parser_error(map, e))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        let loc = map.at_location(next.span.start, next.token.to_string().len().max(1));
        let statement_like = matches!(next.token, Token::SemiColon)
            || matches!(&next.token, Token::Word(w) if w.value.eq_ignore_ascii_case("from") || w.value.eq_ignore_ascii_case("where"));
        return Err(SqlError {
            message: format!("unexpected `{}` after the expression", next.token),
            loc,
            hint: Some(if statement_like {
                "write one expression, not a statement: `sum(amount)`, not `SELECT sum(amount) FROM orders`"
                    .into()
            } else {
                "a fragment is one SQL expression, such as `sum(amount)` or `region = 'EU'`".into()
            }),
        });
    }
    Ok(expr)
}

impl SqlFragment {
    /// Parses one SQL expression. `raw` is the TOML text of the value.
    pub fn parse(text: &str, loc: &Loc, raw: &str) -> Result<SqlFragment, SqlError> {
        let map = StringMap::new(loc, raw, text);
        if text.trim().is_empty() {
            return Err(SqlError {
                message: "the SQL expression is empty".into(),
                loc: loc.clone(),
                hint: None,
            });
        }
        let expr = parse_single_expr(&map, text)?;
        let mut columns = Vec::new();
        let mut subquery = None;
        let _ = visit_expressions(&expr, |e: &Expr| {
            match e {
                Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
                    subquery = Some(e.to_string());
                    return ControlFlow::Break(());
                }
                Expr::Identifier(ident) => {
                    columns.push(ident_loc(&map, ident));
                }
                Expr::CompoundIdentifier(parts) => {
                    if let Some(first) = parts.first() {
                        columns.push(ident_loc(&map, first));
                    }
                }
                _ => {}
            }
            ControlFlow::Continue(())
        });
        if subquery.is_some() {
            return Err(SqlError {
                message: "sub-queries are not allowed in a fragment".into(),
                loc: loc.clone(),
                hint: Some(
                    "put the query in a view source (`[source.ID] sql = \"SELECT …\"`) and read from that"
                        .into(),
                ),
            });
        }
        Ok(SqlFragment {
            text: text.to_string(),
            loc: loc.clone(),
            columns,
            expr,
        })
    }
}

fn ident_loc(map: &StringMap, ident: &sqlparser::ast::Ident) -> Located<String> {
    let quotes = if ident.quote_style.is_some() { 2 } else { 0 };
    Located::new(
        ident.value.clone(),
        map.at_location(ident.span.start, ident.value.len() + quotes),
    )
}

/// Parses a view's query and lists the relations it reads.
pub fn parse_view(text: &str, loc: &Loc, raw: &str) -> Result<Vec<Located<String>>, SqlError> {
    let map = StringMap::new(loc, raw, text);
    let dialect = GenericDialect {};
    let statements = Parser::new(&dialect)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| {
            let mut err = parser_error(&map, e);
            err.message = err
                .message
                .replace("this is not a valid SQL expression", "this is not a valid query");
            err
        })?;
    let query = match statements.as_slice() {
        [Statement::Query(q)] => q,
        [] => {
            return Err(SqlError {
                message: "the view's query is empty".into(),
                loc: loc.clone(),
                hint: Some("write one `SELECT … FROM …`".into()),
            });
        }
        [_] => {
            return Err(SqlError {
                message: "a view is one `SELECT` query; this is another kind of statement".into(),
                loc: loc.clone(),
                hint: None,
            });
        }
        _ => {
            return Err(SqlError {
                message: format!(
                    "a view is one query; this text holds {} statements",
                    statements.len()
                ),
                loc: loc.clone(),
                hint: Some("remove the `;` and what follows it".into()),
            });
        }
    };
    // Names defined by WITH are not sources.
    let ctes: Vec<String> = query
        .with
        .as_ref()
        .map(|w| w.cte_tables.iter().map(|c| c.alias.name.value.clone()).collect())
        .unwrap_or_default();
    let mut reads: Vec<Located<String>> = Vec::new();
    let _ = visit_relations(query, |name: &ObjectName| {
        if let Some(ident) = name.0.last().and_then(|p| p.as_ident()) {
            let located = ident_loc(&map, ident);
            if !ctes.contains(&located.value) && !reads.iter().any(|r| r.value == located.value) {
                reads.push(located);
            }
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(reads)
}

/// Arithmetic over KPI and metric ids: `revenue / order_count`.
#[derive(Debug, Clone)]
pub struct Formula {
    pub text: String,
    pub loc: Loc,
    pub expr: FormulaExpr,
}

/// A formula's expression tree.
#[derive(Debug, Clone)]
pub enum FormulaExpr {
    Number(f64),
    Ref(Located<String>),
    Neg(Box<FormulaExpr>),
    Binary(Box<FormulaExpr>, ArithOp, Box<FormulaExpr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl FormulaExpr {
    fn collect_refs<'a>(&'a self, out: &mut Vec<&'a Located<String>>) {
        match self {
            FormulaExpr::Number(_) => {}
            FormulaExpr::Ref(r) => out.push(r),
            FormulaExpr::Neg(e) => e.collect_refs(out),
            FormulaExpr::Binary(l, _, r) => {
                l.collect_refs(out);
                r.collect_refs(out);
            }
        }
    }

    /// Evaluates the formula; `None` when an input has no value or a
    /// division by zero occurs.
    pub fn eval(&self, value_of: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
        match self {
            FormulaExpr::Number(n) => Some(*n),
            FormulaExpr::Ref(r) => value_of(&r.value),
            FormulaExpr::Neg(e) => e.eval(value_of).map(|v| -v),
            FormulaExpr::Binary(l, op, r) => {
                let (a, b) = (l.eval(value_of)?, r.eval(value_of)?);
                match op {
                    ArithOp::Add => Some(a + b),
                    ArithOp::Sub => Some(a - b),
                    ArithOp::Mul => Some(a * b),
                    ArithOp::Div => (b != 0.0).then(|| a / b),
                }
            }
        }
    }
}

impl Formula {
    pub const FORMS: &'static str = "a formula combines KPI and metric ids, numbers, + - * / and parentheses, e.g. \"revenue / order_count\"";

    pub fn parse(text: &str, loc: &Loc, raw: &str) -> Result<Formula, SqlError> {
        let map = StringMap::new(loc, raw, text);
        let expr = parse_single_expr(&map, text)?;
        let expr = convert_formula(&map, &expr)?;
        Ok(Formula {
            text: text.to_string(),
            loc: loc.clone(),
            expr,
        })
    }

    /// The ids the formula reads, in order of appearance (with repeats).
    pub fn refs(&self) -> Vec<&Located<String>> {
        let mut out = Vec::new();
        self.expr.collect_refs(&mut out);
        out
    }
}

fn convert_formula(map: &StringMap, e: &Expr) -> Result<FormulaExpr, SqlError> {
    let unsupported = |what: String| SqlError {
        message: format!("`{what}` cannot be used in a formula"),
        loc: map.loc.clone(),
        hint: Some(Formula::FORMS.into()),
    };
    Ok(match e {
        Expr::Identifier(ident) => FormulaExpr::Ref(ident_loc(map, ident)),
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => FormulaExpr::Number(n.parse().map_err(|_| unsupported(n.clone()))?),
            other => return Err(unsupported(other.to_string())),
        },
        Expr::Nested(inner) => convert_formula(map, inner)?,
        Expr::UnaryOp { op, expr } => match op {
            UnaryOperator::Minus => FormulaExpr::Neg(Box::new(convert_formula(map, expr)?)),
            UnaryOperator::Plus => convert_formula(map, expr)?,
            _ => return Err(unsupported(e.to_string())),
        },
        Expr::BinaryOp { left, op, right } => {
            let op = match op {
                BinaryOperator::Plus => ArithOp::Add,
                BinaryOperator::Minus => ArithOp::Sub,
                BinaryOperator::Multiply => ArithOp::Mul,
                BinaryOperator::Divide => ArithOp::Div,
                other => return Err(unsupported(other.to_string())),
            };
            FormulaExpr::Binary(
                Box::new(convert_formula(map, left)?),
                op,
                Box::new(convert_formula(map, right)?),
            )
        }
        other => return Err(unsupported(other.to_string())),
    })
}

/// Whether `expr` is one call of one of `names` and nothing else
/// (`count(*)`, `sum(amount)`; not `sum(a) / count(*)`), case-insensitively.
pub fn is_single_call(expr: &str, names: &[&str]) -> bool {
    let text = expr.trim().to_ascii_lowercase();
    let Some(open) = text.find('(') else {
        return false;
    };
    if !names.contains(&text[..open].trim()) {
        return false;
    }
    // The parenthesis opened after the name closes at the very end.
    let mut depth = 0i32;
    for (i, c) in text.char_indices().skip(open) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i == text.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(start: usize, end: usize) -> Loc {
        Loc::new(0, start..end)
    }

    #[test]
    fn fragments_collect_columns_with_exact_positions() {
        // The value `"sum(amount - cost)"` starts at byte 10 of its file.
        let text = "sum(amount - cost)";
        let raw = format!("\"{text}\"");
        let f = SqlFragment::parse(text, &loc(10, 10 + raw.len()), &raw).unwrap();
        let cols: Vec<_> = f
            .columns
            .iter()
            .map(|c| (c.value.as_str(), c.loc.span.clone()))
            .collect();
        assert_eq!(cols, vec![("amount", 15..21), ("cost", 24..28)]);
    }

    #[test]
    fn string_literals_and_intervals_are_not_columns() {
        let text = "first_response_at - created_at <= INTERVAL '24 hours' AND stage = 'won'";
        let f = SqlFragment::parse(text, &loc(0, text.len()), text).unwrap();
        let names: Vec<_> = f.columns.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(names, vec!["first_response_at", "created_at", "stage"]);
    }

    #[test]
    fn statements_and_subqueries_are_rejected() {
        let text = "sum(amount) FROM orders";
        let err = SqlFragment::parse(text, &loc(0, text.len()), text).unwrap_err();
        assert!(err.message.contains("FROM"), "{}", err.message);
        assert_eq!(err.loc.span, 12..16);
        let text = "amount > (SELECT avg(amount) FROM orders)";
        let err = SqlFragment::parse(text, &loc(0, text.len()), text).unwrap_err();
        assert!(err.message.contains("sub-queries"));
        let text = "sum(amount";
        assert!(SqlFragment::parse(text, &loc(0, text.len()), text).is_err());
    }

    #[test]
    fn escaped_strings_fall_back_to_the_whole_value() {
        let text = "region = \"EU\"";
        let raw = r#""region = \"EU\"""#;
        let f = SqlFragment::parse(text, &loc(5, 5 + raw.len()), raw).unwrap();
        assert_eq!(f.columns[0].loc.span, 5..5 + raw.len());
    }

    #[test]
    fn formulas_evaluate_and_list_their_inputs() {
        let text = "revenue / order_count * 100 - -1";
        let f = Formula::parse(text, &loc(0, text.len()), text).unwrap();
        let refs: Vec<_> = f.refs().iter().map(|r| r.value.as_str()).collect();
        assert_eq!(refs, vec!["revenue", "order_count"]);
        let v = f.expr.eval(&|id| match id {
            "revenue" => Some(50.0),
            "order_count" => Some(4.0),
            _ => None,
        });
        assert_eq!(v, Some(50.0 / 4.0 * 100.0 + 1.0));
        assert_eq!(f.expr.eval(&|_| Some(0.0)), None, "division by zero has no value");
        let text = "sum(revenue)";
        assert!(Formula::parse(text, &loc(0, text.len()), text).is_err());
    }

    #[test]
    fn views_list_the_sources_they_read() {
        let text =
            "WITH t AS (SELECT * FROM people) SELECT o.*, t.team FROM orders o JOIN t USING (salesperson)";
        let reads = parse_view(text, &loc(0, text.len()), text).unwrap();
        let names: Vec<_> = reads.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(names, vec!["people", "orders"]);
        assert!(parse_view("SELECT 1; SELECT 2", &loc(0, 18), "SELECT 1; SELECT 2").is_err());
        assert!(parse_view("DROP TABLE x", &loc(0, 12), "DROP TABLE x").is_err());
    }
}
