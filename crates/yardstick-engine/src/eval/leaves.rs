//! Leaves — aggregates, shares and percentiles — planned as one aggregate
//! query per source × cadence × entity columns, and read back.

use super::*;

impl Evaluator<'_> {
    pub(super) fn collect_leaves(
        &self,
        node: &NodeKey,
        out: &mut BTreeSet<NodeKey>,
        depth: usize,
    ) -> Result<(), EvalError> {
        if depth > MAX_DEPTH {
            return Err(EvalError::Internal(format!(
                "inputs of `{}` nest too deep",
                node.id
            )));
        }
        let m = self.measure(&node.id)?;
        let Some(measure) = &m.measure else {
            return Err(EvalError::Data(format!(
                "`{}` has no valid measure; run `yardstick check`",
                node.id
            )));
        };
        match &measure.value {
            Measure::Aggregate { .. }
            | Measure::Share { .. }
            | Measure::Percentile { .. }
            | Measure::Availability { .. } => {
                out.insert(node.clone());
            }
            other => {
                for input in other.inputs() {
                    let child = NodeKey {
                        id: input.value.clone(),
                        ..node.clone()
                    };
                    self.collect_leaves(&child, out, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    /// Runs the fused aggregate queries and the availability computations.
    pub(super) async fn run_leaves(&mut self, leaves: &BTreeSet<NodeKey>) -> Result<(), EvalError> {
        // Group source-based leaves by (source, cadence, entity columns).
        let mut groups: BTreeMap<(String, CadenceKey, Vec<String>), Vec<NodeKey>> = BTreeMap::new();
        for leaf in leaves {
            let m = self.measure(&leaf.id)?;
            match m.measure.as_ref().map(|x| &x.value) {
                Some(Measure::Availability { .. }) => {
                    let s = self.availability(leaf).await?;
                    self.series.insert(leaf.clone(), Arc::new(s));
                }
                Some(x) => {
                    let source = x.source().map(|s| s.value.clone()).unwrap_or_default();
                    groups
                        .entry((source, leaf.cadence, leaf.entity.clone()))
                        .or_default()
                        .push(leaf.clone());
                }
                None => {}
            }
        }
        for ((source, cadence, entity), members) in groups {
            self.run_group(&source, cadence, &entity, &members).await?;
        }
        Ok(())
    }

    pub(super) async fn run_group(
        &mut self,
        source: &str,
        cadence: CadenceKey,
        entity: &[String],
        members: &[NodeKey],
    ) -> Result<(), EvalError> {
        let src = self
            .project
            .sources
            .get(source)
            .ok_or_else(|| EvalError::Internal(format!("source `{source}` vanished")))?;
        let time = match &src.shape {
            Shape::Event { time } => time.value.clone(),
            Shape::Interval { start, .. } => start.value.clone(),
            Shape::Reference => {
                return Err(EvalError::Data(format!("source `{source}` has no time column")));
            }
        };
        let frame = self
            .frames
            .get(&cadence)
            .cloned()
            .ok_or_else(|| EvalError::Internal("no frame".into()))?;
        // The aggregate expressions of every member.
        let mut aggs: Vec<String> = Vec::new();
        let mut shapes: Vec<LeafShape> = Vec::new();
        for (i, leaf) in members.iter().enumerate() {
            let m = self.measure(&leaf.id)?;
            let Some(measure) = m.measure.as_ref().map(|x| &x.value) else {
                continue;
            };
            let (exprs, shape) = self.leaf_exprs(measure, i)?;
            aggs.extend(exprs);
            shapes.push(shape);
        }
        let udf_name = format!("ys_bucket_{}", self.fresh());
        let bucket_bounds = frame.bounds.clone();
        self.catalog
            .ctx
            .register_udf(ScalarUDF::from(BucketUdf::new(&udf_name, bucket_bounds)));
        let (ents, ent_refs) = entity_columns(entity);
        let n = frame.periods.len();
        let select_tail = |p: &str| {
            let mut cols = vec![format!("{p} AS \"__p\"")];
            cols.extend(ents.iter().cloned());
            cols.extend(aggs.iter().cloned());
            cols.join(", ")
        };
        // Calendar periods: every row of the frame, or the rows of some
        // periods (their time range too, which Parquet statistics prune on).
        let calendar_sql = |periods: Option<&[usize]>| {
            let p = format!("{udf_name}({})", quote(&time));
            let mut group = vec![p.clone()];
            group.extend(ent_refs.iter().cloned());
            let condition = match periods {
                None => format!("{p} IS NOT NULL"),
                Some(list) => {
                    let lo = list.iter().min().and_then(|&i| frame.bounds.get(i)).copied();
                    let hi = list.iter().max().and_then(|&i| frame.bounds.get(i + 1)).copied();
                    let ids: Vec<String> = list.iter().map(usize::to_string).collect();
                    let mut c = format!("{p} IN ({})", ids.join(", "));
                    if let (Some(lo), Some(hi)) = (lo, hi) {
                        let t = quote(&time);
                        let _ = write!(
                            c,
                            " AND {t} >= to_timestamp_micros({lo}) AND {t} < to_timestamp_micros({hi})"
                        );
                    }
                    c
                }
            };
            format!(
                "SELECT {} FROM {} WHERE {condition} GROUP BY {}",
                select_tail(&p),
                quote(source),
                group.join(", ")
            )
        };
        let sql = match frame.kind {
            PeriodKind::Calendar(_) => calendar_sql(None),
            PeriodKind::Rolling { days } => {
                let offsets: Vec<String> = (0..days).map(|k| format!("({k})")).collect();
                let p = "(\"__d\" + \"__k\")".to_string();
                let mut group = vec![p.clone()];
                group.extend(ent_refs.iter().cloned());
                format!(
                    "SELECT {} FROM (SELECT {udf_name}({}) AS \"__d\", * FROM {}) AS s CROSS JOIN (VALUES {}) AS o(\"__k\") \
                     WHERE \"__d\" IS NOT NULL AND \"__d\" + \"__k\" < {n} GROUP BY {}",
                    select_tail(&p),
                    quote(&time),
                    quote(source),
                    offsets.join(", "),
                    group.join(", ")
                )
            }
        };
        let context = format!("evaluating KPIs over source `{source}`");
        let n_ent = entity.len();
        let key = incremental::GroupKey::new(source, cadence, entity, &aggs);
        let merges = self.merges(members)?;
        let cells = match self
            .kept_cells(&key, &frame, &calendar_sql, &merges, n_ent)
            .await?
        {
            Some(cells) => cells,
            None => {
                if let Some(inc) = &mut self.inc {
                    inc.read_whole();
                }
                let pushed = match frame.kind {
                    PeriodKind::Calendar(_) => {
                        self.pushed_query(src, &time, members, &frame.bounds, &aggs)?
                    }
                    PeriodKind::Rolling { .. } => None,
                };
                let batches = match pushed {
                    Some((ctx, pushed_sql)) => match run_pushed(&ctx, &pushed_sql).await {
                        Ok(b) => b,
                        Err(e) => {
                            // The database could not run it (a function it lacks):
                            // the same query runs here over the rows it sends.
                            tracing::warn!(source, error = %df_message(&e), "aggregate not pushed down to the database");
                            self.collect(&sql, &context).await?
                        }
                    },
                    None => self.collect(&sql, &context).await?,
                };
                incremental::cells_of(&batches, n_ent, &frame)
            }
        };
        self.keep_cells(key, &frame, &cells);
        // The same aggregates over zero rows give each leaf's empty value.
        let empty_row = self.empty_row(source, &aggs, &context).await?;
        // `fill` replaces the empty-set value of a KPI's empty periods.
        let fills: Vec<Option<f64>> = members
            .iter()
            .map(|leaf| self.project.measure(&leaf.id).and_then(|m| m.fill))
            .collect();
        // Dense grids per member.
        let mut grids: Vec<BTreeMap<Key, Vec<Option<f64>>>> = vec![BTreeMap::new(); shapes.len()];
        let mut bases: Vec<BTreeMap<Key, Vec<Option<f64>>>> = vec![BTreeMap::new(); shapes.len()];
        for ((first, key), cols) in &cells {
            let Ok(p) = frame.periods.binary_search_by(|x| x.first.cmp(first)) else {
                continue;
            };
            let mut col = 0;
            for (i, shape) in shapes.iter().enumerate() {
                let raw = cols.get(col..col + shape.width()).unwrap_or_default();
                col += shape.width();
                let empty = fills[i].or_else(|| shape.value(&empty_row_slice(&empty_row, &shapes, i)));
                let grid = grids[i].entry(key.clone()).or_insert_with(|| vec![empty; n]);
                grid[p] = shape.value(raw);
                if let LeafShape::Share = shape {
                    let basis = bases[i].entry(key.clone()).or_insert_with(|| vec![Some(0.0); n]);
                    basis[p] = raw.first().copied().flatten();
                }
            }
        }
        for (i, leaf) in members.iter().enumerate() {
            let empty = fills[i].or_else(|| {
                shapes
                    .get(i)
                    .and_then(|s| s.value(&empty_row_slice(&empty_row, &shapes, i)))
            });
            let grid = std::mem::take(&mut grids[i]);
            let is_share = matches!(shapes.get(i), Some(LeafShape::Share));
            let mut basis_grid = std::mem::take(&mut bases[i]);
            let basis: Vec<Vec<Option<f64>>> = if is_share {
                grid.keys()
                    .map(|k| basis_grid.remove(k).unwrap_or_else(|| vec![Some(0.0); n]))
                    .collect()
            } else {
                Vec::new()
            };
            let mut series = Series {
                entities: grid.keys().cloned().collect(),
                values: grid.into_values().collect(),
                empty,
                basis,
            };
            if entity.is_empty() && series.entities.is_empty() {
                series.entities.push(Vec::new());
                series.values.push(vec![empty; n]);
                if is_share {
                    series.basis.push(vec![Some(0.0); n]);
                }
            }
            self.series.insert(leaf.clone(), Arc::new(series));
        }
        Ok(())
    }

    /// The aggregates over zero rows of `source`'s columns: computed here,
    /// in a session of its own over an empty table, never over the data
    /// (nor on a cluster, whose plans lose an empty input's columns).
    async fn empty_row(
        &self,
        source: &str,
        aggs: &[String],
        context: &str,
    ) -> Result<Vec<Option<f64>>, EvalError> {
        // Any table of the session: a source, or one registered for a
        // reconciliation or an alert.
        let schema = self
            .catalog
            .ctx
            .table_provider(source)
            .await
            .map_err(|e| data_err(context, &e))?
            .schema();
        let ctx = crate::sources::session(self.project.settings.timezone);
        incremental::copy_functions(&self.catalog.ctx, &ctx);
        let empty = datafusion::datasource::MemTable::try_new(schema, vec![Vec::new()])
            .map_err(|e| data_err(context, &e))?;
        ctx.register_table(source, Arc::new(empty))
            .map_err(|e| data_err(context, &e))?;
        let sql = format!("SELECT {} FROM {}", aggs.join(", "), quote(source));
        let batches = ctx
            .sql(&sql)
            .await
            .map_err(|e| data_err(context, &e))?
            .collect()
            .await
            .map_err(|e| data_err(context, &e))?;
        Ok(read_row(&batches, 0))
    }

    /// How each aggregate column of a group's members merges over two sets
    /// of rows (`None`: it does not; see [`incremental`]).
    fn merges(&self, members: &[NodeKey]) -> Result<Vec<Option<incremental::Merge>>, EvalError> {
        let mut out = Vec::new();
        for leaf in members {
            match self.measure(&leaf.id)?.measure.as_ref().map(|x| &x.value) {
                Some(Measure::Aggregate { measure, .. }) => out.push(incremental::Merge::of(&measure.expr)),
                Some(Measure::Share { .. }) => {
                    out.extend([Some(incremental::Merge::Add), Some(incremental::Merge::Add)]);
                }
                Some(Measure::Percentile { .. }) => out.push(None),
                _ => {}
            }
        }
        Ok(out)
    }

    /// The leaf query for a database source as the database runs it: the
    /// period as a `CASE` over the frame's bounds, the aggregates as
    /// written. `None` when a member cannot be pushed down: a percentile
    /// (our exact aggregate), or an expression that reads a time column or
    /// a column with a declared type (their values differ there).
    fn pushed_query(
        &self,
        src: &Source,
        time: &str,
        members: &[NodeKey],
        bounds: &[i64],
        aggs: &[String],
    ) -> Result<Option<(datafusion::prelude::SessionContext, String)>, EvalError> {
        let Some(db) = self.catalog.databases.get(&src.id.value) else {
            return Ok(None);
        };
        let Some(kind) = db
            .raw
            .field_with_name(time)
            .ok()
            .and_then(|f| crate::database::TimeKind::of(f.data_type()))
        else {
            return Ok(None);
        };
        let special: Vec<&str> = src
            .time_columns()
            .iter()
            .map(|c| c.value.as_str())
            .chain(src.columns.iter().map(|(c, _)| c.value.as_str()))
            .collect();
        let reads_special = |f: &SqlFragment| f.columns.iter().any(|c| special.contains(&c.value.as_str()));
        for leaf in members {
            let m = self.measure(&leaf.id)?;
            let ok = match m.measure.as_ref().map(|x| &x.value) {
                Some(Measure::Aggregate { measure, filter, .. }) => {
                    !reads_special(measure) && !filter.as_ref().is_some_and(reads_special)
                }
                Some(Measure::Share {
                    condition, filter, ..
                }) => !reads_special(condition) && !filter.as_ref().is_some_and(reads_special),
                _ => false,
            };
            if !ok || leaf.entity.iter().any(|e| special.contains(&e.as_str())) {
                return Ok(None);
            }
        }
        // Members of a group share their entity columns.
        let (ents, ent_refs) = entity_columns(members.first().map_or(&[][..], |m| &m.entity[..]));
        let (case, within) =
            crate::database::period_case(&quote(time), kind, bounds, self.project.settings.timezone);
        // The period is computed in a subquery and grouped by its name:
        // the federation's rewriting keeps names, not long expressions.
        let mut cols = vec!["\"__p\"".to_string()];
        cols.extend(ents);
        cols.extend(aggs.iter().cloned());
        let mut group = vec!["\"__p\"".to_string()];
        group.extend(ent_refs);
        let sql = format!(
            "SELECT {} FROM (SELECT {case} AS \"__p\", * FROM {} WHERE {within}) AS \"__q\" GROUP BY {}",
            cols.join(", "),
            quote(&src.id.value),
            group.join(", ")
        );
        Ok(Some((db.ctx.clone(), sql)))
    }

    /// The SQL the database receives for `leaf`'s aggregate query, when its
    /// source is a database source and the query is pushed down (as
    /// DataFusion's federation wrote it, from the physical plan).
    pub(crate) async fn database_sql(&self, leaf: &NodeKey) -> Result<Option<String>, EvalError> {
        let m = self.measure(&leaf.id)?;
        let Some(measure) = m.measure.as_ref().map(|x| &x.value) else {
            return Ok(None);
        };
        let Some(src) = measure.source().and_then(|s| self.project.sources.get(&s.value)) else {
            return Ok(None);
        };
        let (Shape::Event { time } | Shape::Interval { start: time, .. }) = &src.shape else {
            return Ok(None);
        };
        let Some(frame) = self.frames.get(&leaf.cadence) else {
            return Ok(None);
        };
        if !matches!(frame.kind, PeriodKind::Calendar(_)) {
            return Ok(None);
        }
        let (aggs, _) = self.leaf_exprs(measure, 0)?;
        let Some((ctx, sql)) =
            self.pushed_query(src, &time.value, std::slice::from_ref(leaf), &frame.bounds, &aggs)?
        else {
            return Ok(None);
        };
        let context = format!("planning the query of `{}` for the database", leaf.id);
        let sent = crate::database::sent_sql(&ctx, &sql)
            .await
            .map_err(|e| data_err(&context, &e))?;
        Ok((!sent.is_empty()).then(|| sent.join("\n")))
    }

    /// SQL aggregate expressions of one leaf (named by index `i`).
    pub(crate) fn leaf_exprs(&self, m: &Measure, i: usize) -> Result<(Vec<String>, LeafShape), EvalError> {
        let filter_text = |f: &Option<SqlFragment>| f.as_ref().map(|f| format!("({})", f.text));
        match m {
            Measure::Aggregate { measure, filter, .. } => {
                let expr = self.with_filter(measure, filter.as_ref())?;
                Ok((
                    vec![format!("CAST(({expr}) AS DOUBLE) AS \"__m{i}\"")],
                    LeafShape::Value,
                ))
            }
            Measure::Share {
                condition, filter, ..
            } => {
                let (n, k) = match filter_text(filter) {
                    Some(f) => (
                        format!("count(*) FILTER (WHERE {f})"),
                        format!("count(*) FILTER (WHERE {f} AND ({}))", condition.text),
                    ),
                    None => (
                        "count(*)".to_string(),
                        format!("count(*) FILTER (WHERE ({}))", condition.text),
                    ),
                };
                Ok((
                    vec![
                        format!("CAST({n} AS DOUBLE) AS \"__n{i}\""),
                        format!("CAST({k} AS DOUBLE) AS \"__k{i}\""),
                    ],
                    LeafShape::Share,
                ))
            }
            Measure::Percentile { of, p, filter, .. } => {
                // Exact percentile_cont (see `udf::exact_percentile`), one
                // function per leaf so that `p` is fixed.
                let name = crate::udf::percentile_name(self.fresh(), p / 100.0);
                self.catalog
                    .ctx
                    .register_udaf(crate::udf::exact_percentile(&name, p / 100.0));
                let mut e = format!("{name}(CAST(({}) AS DOUBLE))", of.text);
                if let Some(f) = filter_text(filter) {
                    let _ = write!(e, " FILTER (WHERE {f})");
                }
                Ok((
                    vec![format!("CAST({e} AS DOUBLE) AS \"__m{i}\"")],
                    LeafShape::Value,
                ))
            }
            _ => Err(EvalError::Internal("not a source-based measure".into())),
        }
    }

    /// The measure with `filter` added to every aggregate call in it.
    pub(crate) fn with_filter(
        &self,
        measure: &SqlFragment,
        filter: Option<&SqlFragment>,
    ) -> Result<String, EvalError> {
        let Some(filter) = filter else {
            return Ok(measure.text.clone());
        };
        let state = self.catalog.ctx.state();
        let aggregates = state.aggregate_functions();
        let mut expr = measure.expr.clone();
        let _ = visit_expressions_mut(&mut expr, |e: &mut SqlExpr| {
            if let SqlExpr::Function(f) = e {
                let name = f.name.to_string().to_ascii_lowercase();
                if aggregates.contains_key(&name) {
                    let extra = Box::new(SqlExpr::Nested(Box::new(filter.expr.clone())));
                    f.filter = Some(match f.filter.take() {
                        Some(old) => Box::new(SqlExpr::BinaryOp {
                            left: Box::new(SqlExpr::Nested(old)),
                            op: sqlparser::ast::BinaryOperator::And,
                            right: extra,
                        }),
                        None => extra,
                    });
                }
            }
            ControlFlow::<()>::Continue(())
        });
        Ok(expr.to_string())
    }
}

/// How a leaf's aggregate columns become its value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LeafShape {
    /// One column: the value.
    Value,
    /// Two columns: rows, rows meeting the condition.
    Share,
}

impl LeafShape {
    pub(super) fn width(self) -> usize {
        match self {
            LeafShape::Value => 1,
            LeafShape::Share => 2,
        }
    }

    pub(super) fn value(self, cols: &[Option<f64>]) -> Option<f64> {
        match self {
            LeafShape::Value => cols.first().copied().flatten().filter(|v| v.is_finite()),
            LeafShape::Share => {
                let (n, k) = (cols.first().copied().flatten()?, cols.get(1).copied().flatten()?);
                (n > 0.0).then(|| k / n)
            }
        }
    }
}

pub(super) fn empty_row_slice(row: &[Option<f64>], shapes: &[LeafShape], i: usize) -> Vec<Option<f64>> {
    let start: usize = shapes[..i].iter().map(|s| s.width()).sum();
    row.get(start..start + shapes[i].width())
        .map(<[_]>::to_vec)
        .unwrap_or_default()
}

/// The first row of a result as floats.
pub(super) fn read_row(batches: &[RecordBatch], from_col: usize) -> Vec<Option<f64>> {
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Vec::new();
    };
    (from_col..b.num_columns())
        .map(|c| float_value(b.column(c).as_ref(), 0))
        .collect()
}

pub(super) fn float_value(a: &dyn Array, r: usize) -> Option<f64> {
    if a.is_null(r) {
        return None;
    }
    match a.data_type() {
        DataType::Float64 => Some(a.as_primitive::<Float64Type>().value(r)),
        DataType::Int64 => Some(a.as_primitive::<Int64Type>().value(r) as f64),
        _ => ScalarValue::try_from_array(a, r)
            .ok()
            .and_then(|s| s.cast_to(&DataType::Float64).ok())
            .and_then(|s| match s {
                ScalarValue::Float64(v) => v,
                _ => None,
            }),
    }
}

pub(super) fn index_value(a: &dyn Array, r: usize) -> Option<usize> {
    if a.is_null(r) {
        return None;
    }
    match a.data_type() {
        DataType::Int32 => usize::try_from(a.as_primitive::<Int32Type>().value(r)).ok(),
        DataType::Int64 => usize::try_from(a.as_primitive::<Int64Type>().value(r)).ok(),
        _ => None,
    }
}

pub(super) fn entity_value(a: &dyn Array, r: usize) -> EntityValue {
    if a.is_null(r) {
        return EntityValue::Null;
    }
    match ScalarValue::try_from_array(a, r) {
        Ok(ScalarValue::Boolean(Some(b))) => EntityValue::Bool(b),
        Ok(
            v @ (ScalarValue::Int8(_)
            | ScalarValue::Int16(_)
            | ScalarValue::Int32(_)
            | ScalarValue::Int64(_)
            | ScalarValue::UInt8(_)
            | ScalarValue::UInt16(_)
            | ScalarValue::UInt32(_)),
        ) => match v.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(Some(i))) => EntityValue::Int(i),
            _ => EntityValue::Str(v.to_string()),
        },
        Ok(ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s))) => {
            EntityValue::Str(s)
        }
        Ok(v) => EntityValue::Str(v.to_string()),
        Err(_) => EntityValue::Null,
    }
}

/// Entity columns as a leaf query selects them (`"region" AS "__e0"`) and
/// as it groups by them.
fn entity_columns(entity: &[String]) -> (Vec<String>, Vec<String>) {
    let select = entity
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{} AS \"__e{i}\"", quote(e)))
        .collect();
    (select, entity.iter().map(|e| quote(e)).collect())
}

/// Runs a leaf query in a connection's federated session: the database
/// computes it whole.
async fn run_pushed(
    ctx: &datafusion::prelude::SessionContext,
    sql: &str,
) -> Result<Vec<RecordBatch>, DataFusionError> {
    ctx.sql(sql).await?.collect().await
}
