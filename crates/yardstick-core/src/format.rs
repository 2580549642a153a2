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

/// A value in a sentence: percentages for `%` units, otherwise at most four
/// decimals with the unit after it (`99.42%`, `64.7736 hours`, `13`).
pub fn value_in_words(v: f64, unit: Option<&str>) -> String {
    let plain = {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    match unit {
        Some("%") => format!("{:.2}%", v * 100.0),
        Some(u) => format!("{plain} {u}"),
        None => plain,
    }
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
        assert_eq!(value_in_words(64.77361111, Some("hours")), "64.7736 hours");
        assert_eq!(value_in_words(13.0, None), "13");
    }
}
