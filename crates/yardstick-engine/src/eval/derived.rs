//! Derived forms — ratio, formula, growth, cumulative — combining other
//! series, computed in dependency order.

use super::*;

impl Evaluator<'_> {
    /// The series of a node, computing derived measures from their inputs.
    pub(crate) async fn compute(&mut self, node: &NodeKey, depth: usize) -> Result<Arc<Series>, EvalError> {
        if let Some(s) = self.series.get(node) {
            return Ok(Arc::clone(s));
        }
        if depth > MAX_DEPTH {
            return Err(EvalError::Internal(format!(
                "inputs of `{}` nest too deep",
                node.id
            )));
        }
        let m = self.measure(&node.id)?.clone();
        let Some(measure) = m.measure.as_ref().map(|x| x.value.clone()) else {
            return Err(EvalError::Data(format!("`{}` has no valid measure", node.id)));
        };
        let frame = self
            .frames
            .get(&node.cadence)
            .cloned()
            .ok_or_else(|| EvalError::Internal("no frame".into()))?;
        let n = frame.periods.len();
        let mut inputs: HashMap<String, Arc<Series>> = HashMap::new();
        for input in measure.inputs() {
            let child = NodeKey {
                id: input.value.clone(),
                ..node.clone()
            };
            let s = Box::pin(self.compute(&child, depth + 1)).await?;
            inputs.insert(input.value.clone(), s);
        }
        let mut entities: BTreeSet<Key> = inputs.values().flat_map(|s| s.entities.iter().cloned()).collect();
        if node.entity.is_empty() {
            entities = BTreeSet::from([Vec::new()]);
        }
        let entities: Vec<Key> = entities.into_iter().collect();
        let get = |id: &str, key: &Key, p: usize| inputs.get(id).and_then(|s| s.get(key, p));
        let mut values = Vec::with_capacity(entities.len());
        for key in &entities {
            let row: Vec<Option<f64>> = match &measure {
                Measure::Ratio {
                    numerator,
                    denominator,
                } => (0..n)
                    .map(|p| {
                        let (a, b) = (get(&numerator.value, key, p)?, get(&denominator.value, key, p)?);
                        (b != 0.0).then(|| a / b)
                    })
                    .collect(),
                Measure::Formula(f) => (0..n)
                    .map(|p| f.expr.eval(&|id| get(id, key, p)).filter(|v| v.is_finite()))
                    .collect(),
                Measure::Growth { of, vs } => (0..n)
                    .map(|p| {
                        let x = get(&of.value, key, p)?;
                        let r = match vs {
                            GrowthRef::Previous => p.checked_sub(1)?,
                            GrowthRef::YearAgo => frame.index_of(&self.cal.year_ago(&frame.periods[p]))?,
                        };
                        let x_ref = get(&of.value, key, r)?;
                        (x_ref != 0.0).then(|| (x - x_ref) / x_ref)
                    })
                    .collect(),
                Measure::Cumulative { of, reset } => {
                    let mut out = Vec::with_capacity(n);
                    let mut total: Option<f64> = None;
                    let mut bucket: Option<NaiveDate> = None;
                    for p in 0..n {
                        let b = self.reset_bucket(&frame.periods[p], *reset);
                        if bucket != Some(b) {
                            total = None;
                            bucket = Some(b);
                        }
                        if let Some(v) = get(&of.value, key, p) {
                            total = Some(total.unwrap_or(0.0) + v);
                        }
                        out.push(total);
                    }
                    out
                }
                _ => {
                    return Err(EvalError::Internal(format!(
                        "`{}` should have been a leaf",
                        node.id
                    )));
                }
            };
            values.push(row);
        }
        let s = Arc::new(Series {
            entities,
            values,
            empty: None,
            basis: Vec::new(),
        });
        self.series.insert(node.clone(), Arc::clone(&s));
        Ok(s)
    }

    /// The first day of the reset bucket a period belongs to.
    pub(super) fn reset_bucket(&self, p: &Period, reset: Reset) -> NaiveDate {
        let grain = match reset {
            Reset::Quarter => Grain::Quarter,
            Reset::Year => Grain::Year,
            Reset::FiscalYear => Grain::FiscalYear,
            Reset::Never => return NaiveDate::MIN,
        };
        self.cal.period_of_day(grain, p.first).first
    }
}
