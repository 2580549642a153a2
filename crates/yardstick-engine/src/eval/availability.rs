//! Availability: interval arithmetic over the down and excluded rows.

use super::*;

impl Evaluator<'_> {
    /// Availability per period (and unit), from interval rows.
    pub(super) async fn availability(&self, leaf: &NodeKey) -> Result<Series, EvalError> {
        let m = self.measure(&leaf.id)?;
        let Some(Measure::Availability {
            down,
            exclude,
            per,
            units,
        }) = m.measure.as_ref().map(|x| &x.value)
        else {
            return Err(EvalError::Internal("not an availability measure".into()));
        };
        let frame = self
            .frames
            .get(&leaf.cadence)
            .cloned()
            .ok_or_else(|| EvalError::Internal("no frame".into()))?;
        let unit_col = per
            .as_ref()
            .map(|p| p.value.clone())
            .or_else(|| leaf.entity.first().cloned());
        let down_rows = self.intervals(&down.value, unit_col.as_deref()).await?;
        let excl_rows = match exclude {
            Some(x) => {
                let has_col = unit_col.as_ref().is_some_and(|c| {
                    self.catalog
                        .tables
                        .get(&x.value)
                        .is_some_and(|t| t.schema.field_with_unqualified_name(c).is_ok())
                });
                self.intervals(&x.value, if has_col { unit_col.as_deref() } else { None })
                    .await?
            }
            None => Vec::new(),
        };
        // Units: listed by the `units` source, else those with downtime.
        let mut unit_keys: BTreeSet<EntityValue> = BTreeSet::new();
        if let (Some(u), Some(col)) = (units, &unit_col) {
            let sql = format!("SELECT DISTINCT {} FROM {}", quote(col), quote(&u.value));
            for b in self
                .collect(&sql, &format!("reading units of `{}`", u.value))
                .await?
            {
                for r in 0..b.num_rows() {
                    unit_keys.insert(entity_value(b.column(0).as_ref(), r));
                }
            }
        }
        if unit_col.is_some() && units.is_none() {
            unit_keys.extend(down_rows.iter().map(|(_, u)| u.clone()));
        }
        let per_unit = |unit: Option<&EntityValue>| -> (Vec<Span>, Vec<Span>) {
            let d = down_rows
                .iter()
                .filter(|(_, u)| unit.is_none_or(|x| u == x))
                .map(|(s, _)| *s)
                .collect();
            let x = excl_rows
                .iter()
                .filter(|(_, u)| unit.is_none_or(|x| *u == EntityValue::Null || u == x))
                .map(|(s, _)| *s)
                .collect();
            (d, x)
        };
        let n = frame.periods.len();
        let span_of = |p: usize| {
            let lo = self.cal.start(&frame.periods[p]).timestamp_micros();
            let hi = self
                .cal
                .end(&frame.periods[p])
                .timestamp_micros()
                .min(self.as_of_us);
            (lo, hi)
        };
        let value = |down: i64, scheduled: i64| (scheduled > 0).then(|| 1.0 - down as f64 / scheduled as f64);
        let minutes = |scheduled: i64| Some(scheduled as f64 / 60e6);
        let by_unit = !leaf.entity.is_empty();
        if by_unit {
            let mut entities = Vec::new();
            let mut values = Vec::new();
            let mut basis = Vec::new();
            for unit in &unit_keys {
                let (d, x) = per_unit(Some(unit));
                let (row, b): (Vec<_>, Vec<_>) = (0..n)
                    .map(|p| {
                        let (lo, hi) = span_of(p);
                        let (down, sched) = down_and_scheduled(&d, &x, lo, hi);
                        (value(down, sched), minutes(sched))
                    })
                    .unzip();
                entities.push(vec![unit.clone()]);
                values.push(row);
                basis.push(b);
            }
            return Ok(Series {
                entities,
                values,
                empty: None,
                basis,
            });
        }
        let units_list: Vec<Option<&EntityValue>> = if unit_col.is_some() {
            unit_keys.iter().map(Some).collect()
        } else {
            vec![None]
        };
        let prepared: Vec<(Vec<Span>, Vec<Span>)> = units_list.iter().map(|u| per_unit(*u)).collect();
        let (row, b): (Vec<_>, Vec<_>) = (0..n)
            .map(|p| {
                let (lo, hi) = span_of(p);
                let (mut down, mut sched) = (0i64, 0i64);
                for (d, x) in &prepared {
                    let (a, b) = down_and_scheduled(d, x, lo, hi);
                    down += a;
                    sched += b;
                }
                (value(down, sched), minutes(sched))
            })
            .unzip();
        Ok(Series {
            entities: vec![Vec::new()],
            values: vec![row],
            empty: None,
            basis: vec![b],
        })
    }

    /// Interval rows of a source: (span, unit); an empty end lasts until `as_of`.
    pub(crate) async fn intervals(
        &self,
        source: &str,
        unit: Option<&str>,
    ) -> Result<Vec<(Span, EntityValue)>, EvalError> {
        let s: &Source = self
            .project
            .sources
            .get(source)
            .ok_or_else(|| EvalError::Internal(format!("source `{source}` vanished")))?;
        let Shape::Interval { start, end } = &s.shape else {
            return Err(EvalError::Data(format!("`{source}` is not an interval source")));
        };
        let unit_sql = unit.map_or_else(|| "NULL".to_string(), quote);
        let sql = format!(
            "SELECT {}, {}, {unit_sql} FROM {} WHERE {} IS NOT NULL",
            quote(&start.value),
            quote(&end.value),
            quote(source),
            quote(&start.value)
        );
        let mut out = Vec::new();
        for b in self
            .collect(&sql, &format!("reading intervals of `{source}`"))
            .await?
        {
            for (r, span) in spans(&b, source, self.as_of_us)? {
                out.push((span, entity_value(b.column(2).as_ref(), r)));
            }
        }
        Ok(out)
    }
}

/// The spans of a batch whose first two columns are an interval's start
/// and end, with their rows: an empty end lasts until `until`, every end
/// is cut there, and empty spans are left out.
pub(crate) fn spans(b: &RecordBatch, source: &str, until: i64) -> Result<Vec<(usize, Span)>, EvalError> {
    let (Some(st), Some(en)) = (
        b.column(0).as_primitive_opt::<TimestampMicrosecondType>(),
        b.column(1).as_primitive_opt::<TimestampMicrosecondType>(),
    ) else {
        return Err(EvalError::Internal(format!("`{source}` times are not instants")));
    };
    Ok((0..b.num_rows())
        .filter_map(|r| {
            let s = st.value(r);
            let e = if en.is_valid(r) { en.value(r) } else { until }.min(until);
            (e > s).then_some((r, (s, e)))
        })
        .collect())
}
