//! Numbers as people read them in sentences and tables.

/// Digits grouped in threes: `grouped(34563.9, 2)` → `34,563.90`.
pub fn grouped(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut g = String::with_capacity(int.len() + int.len() / 3 + frac.len() + 2);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            g.push(',');
        }
        g.push(c);
    }
    let sign = if v < 0.0 && s.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{g}")
    } else {
        format!("{sign}{g}.{frac}")
    }
}

/// An amount of money: `1200` → `1,200.00`.
pub fn money(v: f64) -> String {
    grouped(v, 2)
}

/// A count with its noun, digits grouped: `count(1, "bad row", "bad rows")`
/// → `1 bad row`, `count(24_000_000, "leaf", "leaves")` → `24,000,000 leaves`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    #[allow(clippy::cast_precision_loss)]
    let digits = grouped(n as f64, 0);
    format!("{digits} {}", if n == 1 { one } else { many })
}

/// Up to `max` decimals, trailing zeros dropped, digits grouped:
/// `trimmed(99.5, 2)` → `99.5`, `trimmed(1204.0, 2)` → `1,204`.
pub fn trimmed(v: f64, max: usize) -> String {
    let s = grouped(v, max);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A plain number: two decimals at most, four below 1 (`0.0042`).
pub fn number(v: f64) -> String {
    trimmed(v, if v != 0.0 && v.abs() < 1.0 { 4 } else { 2 })
}

/// A share (0–1) as a percentage: `0.8993` → `89.93%`, `1.0` → `100%`.
pub fn percent(v: f64) -> String {
    format!("{}%", trimmed(v * 100.0, 2))
}

/// An attainment (value ÷ target) as a percentage, rounded down to one
/// decimal so that 99.96% never reads as 100%.
pub fn attainment(a: f64) -> String {
    format!("{:.1}%", (a * 1000.0 + 1e-9).floor() / 10.0)
}

/// A currency code as people write it before an amount.
fn currency_prefix(code: &str) -> String {
    match code {
        "EUR" => "€".into(),
        "USD" => "$".into(),
        "GBP" => "£".into(),
        "JPY" => "¥".into(),
        other => format!("{other} "),
    }
}

fn is_currency(unit: &str, currency: Option<&str>) -> bool {
    Some(unit) == currency || (unit.len() == 3 && unit.bytes().all(|b| b.is_ascii_uppercase()))
}

/// A value in its unit: the one rule for tables, sentences, targets and the
/// dashboard (`assets/app.js` `fmt` follows it digit for digit).
///
/// `%` → `99.44%`; a currency (the project's, or any three capitals) →
/// `€60,000`, `€61,234.50`; `h`/`hours` → `64.8 h`; `d`/`days` → `3.5 d`;
/// any other unit after the number (`13 clients`); no unit: the number.
/// A share or availability without a unit is shown in `%`
/// ([`crate::model::MeasureDef::display_unit`]).
pub fn value(v: f64, unit: Option<&str>, currency: Option<&str>) -> String {
    match unit {
        Some("%") => percent(v),
        Some(u) if is_currency(u, currency) => {
            let sign = if v < 0.0 && grouped(v, 2) != "0.00" {
                "-"
            } else {
                ""
            };
            let d = if v.fract() == 0.0 { 0 } else { 2 };
            format!("{sign}{}{}", currency_prefix(u), grouped(v.abs(), d))
        }
        Some("h" | "hours") => format!("{} h", trimmed(v, 1)),
        Some("d" | "days") => format!("{} d", trimmed(v, 1)),
        Some(u) => format!("{} {u}", number(v)),
        None => number(v),
    }
}

/// A value or a dash for none.
pub fn value_or_dash(v: Option<f64>, unit: Option<&str>, currency: Option<&str>) -> String {
    v.map_or_else(|| "—".into(), |v| value(v, unit, currency))
}

/// A target written like its values: `>= 60000` on a EUR KPI →
/// `>= €60,000`, `>= 0.9` on a share → `>= 90%`.
pub fn target(t: &crate::model::Target, unit: Option<&str>, currency: Option<&str>) -> String {
    use crate::model::Target;
    let f = |x: f64| value(x, unit, currency);
    match *t {
        Target::AtLeast(x) => format!(">= {}", f(x)),
        Target::Above(x) => format!("> {}", f(x)),
        Target::AtMost(x) => format!("<= {}", f(x)),
        Target::Below(x) => format!("< {}", f(x)),
        Target::Between(lo, hi) => format!("between {} and {}", f(lo), f(hi)),
    }
}

/// A value in a sentence (SLA explanations): as in tables.
pub fn value_in_words(v: f64, unit: Option<&str>) -> String {
    value(v, unit, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(grouped(34563.9, 2), "34,563.90");
        assert_eq!(grouped(-1234.5, 2), "-1,234.50");
        assert_eq!(grouped(999.0, 0), "999");
        assert_eq!(grouped(-0.001, 2), "0.00");
        assert_eq!(money(1234567.891), "1,234,567.89");
        assert_eq!(value_in_words(0.99421, Some("%")), "99.42%");
        assert_eq!(value_in_words(64.77361111, Some("hours")), "64.8 h");
        assert_eq!(value_in_words(13.0, None), "13");
        assert_eq!(value(0.9, Some("%"), None), "90%");
        assert_eq!(value(1.0, Some("%"), None), "100%");
        assert_eq!(value(0.79294, Some("%"), None), "79.29%");
        assert_eq!(value(60000.0, Some("EUR"), Some("EUR")), "€60,000");
        assert_eq!(value(61234.5, Some("EUR"), None), "€61,234.50");
        assert_eq!(value(-1234.5, Some("EUR"), None), "-€1,234.50");
        assert_eq!(value(-0.0001, Some("EUR"), None), "€0.00");
        assert_eq!(value(99.0, Some("CHF"), None), "CHF 99");
        assert_eq!(value(3.0, Some("tickets"), None), "3 tickets");
        assert_eq!(value(-0.0, Some("signups"), None), "0 signups");
        assert_eq!(value(0.00423, None, None), "0.0042");
        assert_eq!(value(1204.567, None, None), "1,204.57");
        assert_eq!(attainment(1.14299), "114.2%");
        assert_eq!(count(1, "bad row", "bad rows"), "1 bad row");
        assert_eq!(count(0, "scorecard", "scorecards"), "0 scorecards");
        assert_eq!(count(24_000_000, "leaf", "leaves"), "24,000,000 leaves");
        assert_eq!(attainment(0.99996), "99.9%");
    }

    #[test]
    fn targets_read_like_their_values() {
        use crate::model::Target;
        let t = |s: &str| Target::parse(s).expect("a target");
        assert_eq!(target(&t(">= 60000"), Some("EUR"), Some("EUR")), ">= €60,000");
        assert_eq!(target(&t(">= 90%"), Some("%"), None), ">= 90%");
        assert_eq!(target(&t(">= 0.995"), Some("%"), None), ">= 99.5%");
        assert_eq!(target(&t("<= 250"), Some("ms"), None), "<= 250 ms");
        assert_eq!(target(&t("between 10 and 20"), None, None), "between 10 and 20");
    }
}
