//! A review as an Excel workbook (rust_xlsxwriter): a sheet per section
//! (Summary, KPIs, History with a native line chart per KPI, Contracts),
//! real numbers with number formats (%, the project's currency), frozen
//! headers.

use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, Worksheet, XlsxError};

use crate::DocError;
use crate::review::Review;

fn fault(e: XlsxError) -> DocError {
    DocError(e.to_string())
}

/// The number format of values in `unit`.
fn number_format(unit: Option<&str>, currency: Option<&str>) -> String {
    match unit {
        Some("%") => "0.00%".into(),
        Some(u) if Some(u) == currency || u.len() == 3 && u.chars().all(|c| c.is_ascii_uppercase()) => {
            let symbol = match u {
                "EUR" => "€",
                "USD" => "$",
                "GBP" => "£",
                "JPY" => "¥",
                _ => "",
            };
            if symbol.is_empty() {
                format!("#,##0.00 \"{u}\"")
            } else {
                format!("\"{symbol}\"#,##0.00")
            }
        }
        _ => "#,##0.##".into(),
    }
}

fn header(ws: &mut Worksheet, names: &[&str], widths: &[f64]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    for (i, n) in names.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *n, &bold)?;
        ws.set_column_width(i as u16, widths.get(i).copied().unwrap_or(14.0))?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// The workbook's bytes.
pub fn review_xlsx(r: &Review) -> Result<Vec<u8>, DocError> {
    build(r).map_err(fault)
}

fn build(r: &Review) -> Result<Vec<u8>, XlsxError> {
    let currency = r.currency.as_deref();
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.00%");

    let ws = wb.add_worksheet();
    ws.set_name("Summary")?;
    ws.set_column_width(0, 28.0)?;
    ws.set_column_width(1, 60.0)?;
    ws.write_string_with_format(0, 0, r.title.as_str(), &bold)?;
    let facts = [
        ("Scope", r.scope.clone()),
        ("Period", format!("{} ({})", r.period, r.period_days)),
        ("As of", r.as_of.clone()),
        (
            "Data freshness",
            if r.freshness.is_empty() {
                "every source is up to date".into()
            } else {
                r.freshness.join("; ")
            },
        ),
    ];
    for (i, (k, v)) in facts.iter().enumerate() {
        ws.write_string(2 + i as u32, 0, *k)?;
        ws.write_string(2 + i as u32, 1, v.as_str())?;
    }
    let mut row = 7;
    for (k, n) in [
        ("Met", r.summary.met),
        ("Warning", r.summary.warning),
        ("Missed", r.summary.missed),
        ("Without data", r.summary.no_data),
    ] {
        ws.write_string(row, 0, k)?;
        ws.write_number(row, 1, n as f64)?;
        row += 1;
    }
    row += 1;
    if !r.summary.scores.is_empty() {
        ws.write_string_with_format(row, 0, "Scorecard", &bold)?;
        ws.write_string_with_format(row, 1, "Score", &bold)?;
        ws.write_string_with_format(row, 2, "Period", &bold)?;
        row += 1;
        for s in &r.summary.scores {
            ws.write_string(row, 0, s.name.as_str())?;
            if let Some(v) = s.raw {
                ws.write_number_with_format(row, 1, v, &pct)?;
            }
            ws.write_string(row, 2, s.period.as_str())?;
            row += 1;
        }
    }

    let ws = wb.add_worksheet();
    ws.set_name("KPIs")?;
    header(
        ws,
        &[
            "KPI",
            "Id",
            "Period",
            "Value",
            "Target",
            "Status",
            "Change on the period before",
            "Definition",
        ],
        &[30.0, 24.0, 12.0, 16.0, 16.0, 10.0, 16.0, 80.0],
    )?;
    for (i, k) in r.kpis.iter().enumerate() {
        let row = 1 + i as u32;
        let f = Format::new().set_num_format(number_format(k.unit.as_deref(), currency));
        ws.write_string(row, 0, k.name.as_str())?;
        ws.write_string(row, 1, k.id.as_str())?;
        ws.write_string(row, 2, k.period.as_str())?;
        match k.raw {
            Some(v) => ws.write_number_with_format(row, 3, v, &f)?,
            None => ws.write_string(row, 3, k.value.as_str())?,
        };
        ws.write_string(row, 4, k.target.as_str())?;
        ws.write_string(row, 5, k.status.replace('_', " "))?;
        if let Some(c) = k.raw_change {
            ws.write_number_with_format(row, 6, c, &f)?;
        }
        ws.write_string(row, 7, k.definition.replace('`', ""))?;
    }

    // History: one block of rows per KPI, and a native chart beside it.
    let ws = wb.add_worksheet();
    ws.set_name("History")?;
    header(ws, &["KPI", "Period", "Value"], &[30.0, 12.0, 16.0])?;
    let mut row = 1u32;
    let mut charts = Vec::new();
    for k in &r.kpis {
        if k.history.iter().filter(|h| h.1.is_some()).count() < 2 {
            continue;
        }
        let f = Format::new().set_num_format(number_format(k.unit.as_deref(), currency));
        let first = row;
        for (label, v) in &k.history {
            ws.write_string(row, 0, k.name.as_str())?;
            ws.write_string(row, 1, label.as_str())?;
            if let Some(v) = v {
                ws.write_number_with_format(row, 2, *v, &f)?;
            }
            row += 1;
        }
        let mut chart = Chart::new(ChartType::Line);
        chart
            .add_series()
            .set_name(k.name.as_str())
            .set_categories(("History", first, 1, row - 1, 1))
            .set_values(("History", first, 2, row - 1, 2));
        chart.title().set_name(k.name.as_str());
        chart.legend().set_hidden();
        charts.push((first, chart));
        row += 1;
    }
    for (at, chart) in &charts {
        ws.insert_chart(*at, 4, chart)?;
    }

    if !r.contracts.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name("Contracts")?;
        header(
            ws,
            &["Contract", "Clause", "Period", "Outcome", "Credit", "Explanation"],
            &[28.0, 16.0, 12.0, 12.0, 14.0, 90.0],
        )?;
        let money = Format::new().set_num_format(number_format(currency, currency));
        let mut row = 1u32;
        for c in &r.contracts {
            for (i, (clause, period, outcome, _, why)) in c.rows.iter().enumerate() {
                ws.write_string(row, 0, c.name.as_str())?;
                ws.write_string(row, 1, clause.as_str())?;
                ws.write_string(row, 2, period.as_str())?;
                ws.write_string(row, 3, outcome.as_str())?;
                ws.write_number_with_format(row, 4, c.raw_credits.get(i).copied().unwrap_or(0.0), &money)?;
                ws.write_string(row, 5, why.as_str())?;
                row += 1;
            }
        }
    }
    if !r.partnerships.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name("Partnerships")?;
        header(
            ws,
            &["Partnership", "Partners", "Period", "Score", "Records"],
            &[28.0, 30.0, 12.0, 10.0, 100.0],
        )?;
        let mut row = 1u32;
        for x in &r.partnerships {
            for (period, _, raw) in &x.scores {
                ws.write_string(row, 0, x.name.as_str())?;
                ws.write_string(row, 1, x.partners.as_str())?;
                ws.write_string(row, 2, period.as_str())?;
                if let Some(v) = raw {
                    ws.write_number_with_format(row, 3, *v, &pct)?;
                }
                row += 1;
            }
            for c in &x.reconciliation {
                ws.write_string(row, 0, x.name.as_str())?;
                ws.write_string(row, 1, x.partners.as_str())?;
                ws.write_string(row, 4, c.replace('`', ""))?;
                row += 1;
            }
        }
    }
    if !r.restated.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name("Restated")?;
        header(
            ws,
            &["KPI", "Period", "Entity", "Reported", "Now", "Status", "Restated"],
            &[30.0, 12.0, 20.0, 16.0, 16.0, 20.0, 20.0],
        )?;
        for (i, x) in r.restated.iter().enumerate() {
            let row = 1 + i as u32;
            let f = Format::new().set_num_format(number_format(x.unit.as_deref(), currency));
            ws.write_string(row, 0, x.kpi.as_str())?;
            ws.write_string(row, 1, x.period.as_str())?;
            ws.write_string(row, 2, x.entity.as_str())?;
            for (col, raw, text) in [(3, x.raw_before, &x.before), (4, x.raw_after, &x.after)] {
                match raw {
                    Some(v) => ws.write_number_with_format(row, col, v, &f)?,
                    None => ws.write_string(row, col, text.as_str())?,
                };
            }
            ws.write_string(row, 5, x.status_change.as_deref().unwrap_or(""))?;
            ws.write_string(row, 6, x.restated_at.as_str())?;
        }
    }
    wb.save_to_buffer()
}
