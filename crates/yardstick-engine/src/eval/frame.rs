//! Frames: the periods of one cadence, from the first data instant to the
//! report's end.

use super::*;

impl Evaluator<'_> {
    /// The earliest instant of a source (its time, or its intervals' start).
    pub(crate) async fn first_instant(&self, source: &str) -> Result<Option<i64>, EvalError> {
        let Some(s) = self.project.sources.get(source) else {
            return Ok(None);
        };
        let col = match &s.shape {
            Shape::Event { time } => &time.value,
            Shape::Interval { start, .. } => &start.value,
            Shape::Reference => return Ok(None),
        };
        let sql = format!("SELECT min({}) FROM {}", quote(col), quote(source));
        // A database computes the minimum itself.
        if let Some(db) = self.catalog.databases.get(source)
            && let Some(first) =
                crate::database::time_extreme(db, source, col, self.project.settings.timezone, None).await
        {
            return first.map_err(|e| data_err(&format!("reading source `{source}` in the database"), &e));
        }
        let batches = self.collect(&sql, &format!("reading source `{source}`")).await?;
        Ok(batches
            .first()
            .and_then(|b| {
                b.column(0)
                    .as_primitive_opt::<TimestampMicrosecondType>()
                    .map(|a| (a.is_valid(0), a))
            })
            .and_then(|(valid, a)| valid.then(|| a.value(0))))
    }

    pub(crate) fn frame(&self, key: CadenceKey, data_start: Option<i64>, report_end: DateTime<Utc>) -> Frame {
        let kind = match key {
            CadenceKey::Every(g) => PeriodKind::Calendar(g),
            CadenceKey::Window(days) => PeriodKind::Rolling { days },
        };
        let start = data_start
            .and_then(crate::udf::from_micros)
            .unwrap_or(report_end)
            .min(report_end);
        // Rolling windows are indexed by their last day: a daily frame.
        let periods = match kind {
            PeriodKind::Rolling { days } => {
                let first = self
                    .cal
                    .window_ending(days, start.with_timezone(&self.cal.tz).date_naive());
                let last = self.cal.period_containing(kind, &report_end);
                let mut v = Vec::new();
                let mut p = first;
                while p.end <= last.end {
                    v.push(p);
                    p = self.cal.next(&p);
                }
                v
            }
            PeriodKind::Calendar(_) => {
                let first = self.cal.period_containing(kind, &start);
                let last = self.cal.period_containing(kind, &report_end);
                let mut v = Vec::new();
                let mut p = first;
                while p.first <= last.first {
                    v.push(p);
                    p = self.cal.next(&p);
                }
                v
            }
        };
        let limit = self.as_of_us.saturating_add(1);
        let bounds = match kind {
            // Day boundaries of the rows, for windows.
            PeriodKind::Rolling { .. } => {
                let mut b: Vec<i64> = periods
                    .iter()
                    .map(|p| self.cal.start_of_day(p.last()).timestamp_micros())
                    .collect();
                if let Some(p) = periods.last() {
                    b.push(self.cal.end(p).timestamp_micros());
                }
                b
            }
            PeriodKind::Calendar(_) => {
                let mut b: Vec<i64> = periods
                    .iter()
                    .map(|p| self.cal.start(p).timestamp_micros())
                    .collect();
                if let Some(p) = periods.last() {
                    b.push(self.cal.end(p).timestamp_micros());
                }
                b
            }
        };
        Frame {
            kind,
            periods,
            bounds: bounds.into_iter().map(|x| x.min(limit)).collect(),
        }
    }
}
