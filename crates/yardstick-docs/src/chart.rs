//! A KPI's chart in a review: its history, the target as a dashed line,
//! the band between target and warning, and where the period in progress
//! is heading with its likely range — drawn as inline SVG for HTML, and
//! carried to the PDF in a Markdown comment
//! (`<!-- chart v1,v2,… | target | warning | value,low,high -->`) that
//! `pdf` parses back into the same [`ChartSpec`].

use serde::Serialize;

/// What a chart shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChartSpec {
    /// One value per period, oldest first (`None`: no value).
    pub values: Vec<Option<f64>>,
    pub target: Option<f64>,
    /// The warning threshold: the band between it and the target is shaded.
    pub warning: Option<f64>,
    /// Where the last period (in progress) is heading: (value, low, high).
    pub ahead: Option<(f64, f64, f64)>,
    /// The periods after the last (complete) one, forecast: (value, low,
    /// high) each, drawn beyond the history.
    pub forecast: Vec<(f64, f64, f64)>,
}

fn num(v: f64) -> String {
    format!("{v}")
}

impl ChartSpec {
    /// The value range it shows: everything drawn, with a tenth of the span
    /// as margin (a flat series gets ±1); `None` when there is nothing to
    /// draw (fewer than two periods, or no value at all).
    pub fn range(&self) -> Option<(f64, f64)> {
        let ahead = self
            .ahead
            .iter()
            .chain(&self.forecast)
            .flat_map(|(v, l, h)| [*v, *l, *h]);
        let all: Vec<f64> = self
            .values
            .iter()
            .flatten()
            .copied()
            .chain(self.target)
            .chain(self.warning)
            .chain(ahead)
            .filter(|v| v.is_finite())
            .collect();
        if self.values.len() < 2 || all.is_empty() {
            return None;
        }
        let (mut lo, mut hi) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
        if hi - lo < 1e-12 {
            lo -= 1.0;
            hi += 1.0;
        }
        let span = hi - lo;
        Some((lo - span * 0.1, hi + span * 0.1))
    }

    /// The Markdown comment the PDF draws (empty when there is nothing to draw).
    pub fn comment(&self) -> String {
        if self.range().is_none() {
            return String::new();
        }
        let values: Vec<String> = self
            .values
            .iter()
            .map(|v| v.map(num).unwrap_or_default())
            .collect();
        let opt = |v: Option<f64>| v.map(num).unwrap_or_default();
        let triple = |(v, l, h): (f64, f64, f64)| format!("{},{},{}", num(v), num(l), num(h));
        let ahead = self.ahead.map(triple).unwrap_or_default();
        let forecast: Vec<String> = self.forecast.iter().copied().map(triple).collect();
        format!(
            "<!-- chart {} | {} | {} | {ahead} | {} -->",
            values.join(","),
            opt(self.target),
            opt(self.warning),
            forecast.join(";")
        )
    }

    /// Reads what [`ChartSpec::comment`] wrote (between `chart ` and `-->`).
    pub fn parse(spec: &str) -> ChartSpec {
        let mut parts = spec.split('|');
        let values = parts
            .next()
            .unwrap_or_default()
            .split(',')
            .map(|v| v.trim().parse().ok())
            .collect();
        let mut one = || parts.next().and_then(|x| x.trim().parse::<f64>().ok());
        let target = one();
        let warning = one();
        let triple = |x: &str| {
            let v: Vec<f64> = x.split(',').filter_map(|v| v.trim().parse().ok()).collect();
            (v.len() == 3).then(|| (v[0], v[1], v[2]))
        };
        let ahead = parts.next().and_then(triple);
        let forecast = parts
            .next()
            .map(|x| x.split(';').filter_map(triple).collect())
            .unwrap_or_default();
        ChartSpec {
            values,
            target,
            warning,
            ahead,
            forecast,
        }
    }

    /// An inline SVG line chart; `first` and `last` label the ends.
    pub fn svg(&self, first: &str, last: &str) -> String {
        let Some((lo, hi)) = self.range() else {
            return String::new();
        };
        let n = self.values.len();
        let slots = n + self.forecast.len();
        let (w, h, pad) = (560.0_f64, 140.0_f64, 24.0_f64);
        let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / (slots - 1) as f64;
        let y = |v: f64| h - pad - (h - 2.0 * pad) * (v - lo) / (hi - lo);
        let mut path = String::new();
        let mut pen = false;
        for (i, v) in self.values.iter().enumerate() {
            match v {
                Some(v) => {
                    path += &format!("{}{:.1},{:.1} ", if pen { "L" } else { "M" }, x(i), y(*v));
                    pen = true;
                }
                None => pen = false,
            }
        }
        let dots: String = self
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                v.map(|v| format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\"/>", x(i), y(v)))
            })
            .collect();
        let band = match (self.target, self.warning) {
            (Some(t), Some(wn)) => format!(
                "<rect x=\"{pad}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#fff8c5\"><title>warning band</title></rect>",
                y(t).min(y(wn)),
                w - 2.0 * pad,
                (y(t) - y(wn)).abs()
            ),
            _ => String::new(),
        };
        let target = self
            .target
            .map(|t| {
                format!(
                    "<line x1=\"{pad}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#cf222e\" stroke-dasharray=\"4 3\"/>",
                    w - pad,
                    y(t),
                    y(t)
                )
            })
            .unwrap_or_default();
        let ahead = self
            .ahead
            .map(|(v, l, hgh)| {
                let xe = x(n - 1);
                format!(
                    "<g stroke=\"#8250df\"><line x1=\"{xe:.1}\" x2=\"{xe:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke-width=\"2\"/>\
                     <circle cx=\"{xe:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"#fff\"><title>heading for</title></circle></g>",
                    y(l),
                    y(hgh),
                    y(v)
                )
            })
            .unwrap_or_default();
        let forecast = match (self.values.last().copied().flatten(), self.forecast.is_empty()) {
            (Some(last), false) => {
                let mut line = format!("M{:.1},{:.1} ", x(n - 1), y(last));
                let mut band = format!("M{:.1},{:.1} ", x(n - 1), y(last));
                for (j, (v, _, hgh)) in self.forecast.iter().enumerate() {
                    line += &format!("L{:.1},{:.1} ", x(n + j), y(*v));
                    band += &format!("L{:.1},{:.1} ", x(n + j), y(*hgh));
                }
                for (j, (_, l, _)) in self.forecast.iter().enumerate().rev() {
                    band += &format!("L{:.1},{:.1} ", x(n + j), y(*l));
                }
                format!(
                    "<path d=\"{band}Z\" fill=\"#8250df\" fill-opacity=\"0.15\"><title>forecast, 80% range</title></path>\
                     <path d=\"{line}\" fill=\"none\" stroke=\"#8250df\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>"
                )
            }
            _ => String::new(),
        };
        format!(
            "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"history from {first} to {last}\" xmlns=\"http://www.w3.org/2000/svg\">\
             {band}<line x1=\"{pad}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#d0d7de\"/>{target}\
             <path d=\"{path}\" fill=\"none\" stroke=\"#0969da\" stroke-width=\"2\"/><g fill=\"#0969da\">{dots}</g>{ahead}{forecast}\
             <text x=\"{pad}\" y=\"{:.1}\" font-size=\"10\" fill=\"#57606a\">{first}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#57606a\" text-anchor=\"end\">{last}</text></svg>",
            w - pad,
            h - pad,
            h - pad,
            h - 6.0,
            w - pad,
            h - 6.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_comment_carries_the_whole_chart_to_the_pdf() {
        let spec = ChartSpec {
            values: vec![Some(1.5), None, Some(3.0)],
            target: Some(2.0),
            warning: Some(1.75),
            ahead: Some((2.5, 2.0, 3.25)),
            forecast: vec![(3.5, 3.0, 4.0), (3.75, 3.0, 4.5)],
        };
        let c = spec.comment();
        assert_eq!(
            c,
            "<!-- chart 1.5,,3 | 2 | 1.75 | 2.5,2,3.25 | 3.5,3,4;3.75,3,4.5 -->"
        );
        let inner = c.trim_start_matches("<!-- chart ").trim_end_matches("-->");
        assert_eq!(ChartSpec::parse(inner), spec);
        // Without warning or projection; and the old form (values | target).
        let plain = ChartSpec::parse("1,2 | 3");
        assert_eq!(
            (plain.target, plain.warning, plain.ahead),
            (Some(3.0), None, None)
        );
        // The range covers the forecast's high end.
        assert!(spec.range().is_some_and(|(_, hi)| hi > 4.5));
        assert!(spec.svg("a", "b").contains("forecast, 80% range"));
        assert!(spec.svg("a", "b").contains("warning band"));
        assert_eq!(ChartSpec::parse("1").comment(), "");
    }
}
