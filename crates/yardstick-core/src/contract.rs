//! Judging contract clauses (LANGUAGE.md §8): breaches, triggers, credits,
//! remedies and the sentence that explains each outcome.
//!
//! Decisions where the language page is silent:
//! - Only periods that have ended are judged; a period without a value is not
//!   a breach (and breaks a streak), and its explanation says so.
//! - A period the contract covers only in part (it starts or ends inside it)
//!   is judged; its fee, and so its credit, is prorated by the days covered.
//! - On a `for_each` KPI each entity is judged on its own; the period's fee is
//!   split equally among the entities judged in that period.
//! - Several flat `credit` remedies add up; the cap applies per period.

use crate::format::{self, money};
use crate::model::{BreachRule, Clause, Remedy, Target};

/// One period of a clause's KPI, for one entity.
#[derive(Debug, Clone, PartialEq)]
pub struct ClauseInput {
    pub period: String,
    pub value: Option<f64>,
    /// The clause's target (or the KPI's) in force for this period.
    pub target: Option<(Target, String)>,
    /// The fee of this period in the project currency, prorated by coverage
    /// and split among entities; `None` without a fee.
    pub fee: Option<f64>,
}

/// The outcome of one clause in one period.
#[derive(Debug, Clone, PartialEq)]
pub struct ClauseOutcome {
    pub breached: bool,
    pub triggered: bool,
    pub credit_share: f64,
    pub credit_amount: f64,
    pub actions: Vec<String>,
    pub explanation: String,
    /// Share of the error budget left (1 − (1 − value) ÷ (1 − target)), for
    /// `>=` targets below 1.
    pub budget_remaining: Option<f64>,
}

/// How the engine shows values and money in sentences.
#[derive(Debug)]
pub struct Wording<'a> {
    /// The KPI's display name.
    pub name: &'a str,
    /// `month`, `quarter`, … (the KPI's period).
    pub period_word: &'a str,
    pub unit: Option<&'a str>,
    pub currency: Option<&'a str>,
}

/// Judges a clause over consecutive periods (oldest first) of one entity.
pub fn judge(clause: &Clause, periods: &[ClauseInput], w: &Wording<'_>) -> Vec<ClauseOutcome> {
    let breached: Vec<bool> = periods
        .iter()
        .map(|p| match (p.value, &p.target) {
            (Some(v), Some((t, _))) => !t.holds(v),
            _ => false,
        })
        .collect();
    periods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let run = breached[..=i].iter().rev().take_while(|b| **b).count();
            let window = match clause.breach_when {
                BreachRule::OfLast { m, .. } => m as usize,
                _ => 1,
            };
            let in_window = breached[i.saturating_sub(window - 1)..=i]
                .iter()
                .filter(|b| **b)
                .count();
            let triggered = breached[i]
                && match clause.breach_when {
                    BreachRule::Any => true,
                    BreachRule::Consecutive(n) => run >= n as usize,
                    BreachRule::OfLast { n, .. } => in_window >= n as usize,
                };
            let value = p.value;
            let mut share = 0.0;
            if triggered {
                let flat: f64 = clause
                    .remedies
                    .iter()
                    .filter_map(|r| match r {
                        Remedy::Credit(c) => Some(*c),
                        Remedy::Action(_) => None,
                    })
                    .sum();
                // Tiers are sorted worst first: the first the value is below wins.
                let tier = value
                    .and_then(|v| clause.credits.iter().find(|t| v < t.below))
                    .map_or(0.0, |t| t.credit);
                share = flat + tier;
                if let Some(cap) = clause.credit_cap {
                    share = share.min(cap);
                }
            }
            let amount = p.fee.map_or(0.0, |f| f * share);
            let actions: Vec<String> = if triggered {
                clause
                    .remedies
                    .iter()
                    .filter_map(|r| match r {
                        Remedy::Action(a) => Some(a.clone()),
                        Remedy::Credit(_) => None,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let budget_remaining = match (value, &p.target) {
                (Some(v), Some((Target::AtLeast(t) | Target::Above(t), _))) if *t < 1.0 => {
                    Some(1.0 - (1.0 - v) / (1.0 - t))
                }
                _ => None,
            };
            let explanation = explain(
                clause,
                p,
                w,
                breached[i],
                triggered,
                run,
                in_window,
                share,
                amount,
                &actions,
            );
            ClauseOutcome {
                breached: breached[i],
                triggered,
                credit_share: share,
                credit_amount: amount,
                actions,
                explanation,
                budget_remaining,
            }
        })
        .collect()
}

fn ordinal(n: usize) -> String {
    match n {
        1 => "first".into(),
        2 => "second".into(),
        3 => "third".into(),
        4 => "fourth".into(),
        5 => "fifth".into(),
        n => format!("{n}th"),
    }
}

fn share_text(s: f64) -> String {
    let pct = s * 100.0;
    if (pct - pct.round()).abs() < 1e-9 {
        format!("{pct:.0}%")
    } else {
        format!("{pct:.2}%")
    }
}

fn action_text(a: &str) -> String {
    match a {
        "contract_review" => "the right to a contract review".into(),
        "termination_right" => "the right to terminate the contract".into(),
        other => other.replace('_', " "),
    }
}

#[allow(clippy::too_many_arguments)]
fn explain(
    clause: &Clause,
    p: &ClauseInput,
    w: &Wording<'_>,
    breached: bool,
    triggered: bool,
    run: usize,
    in_window: usize,
    share: f64,
    amount: f64,
    actions: &[String],
) -> String {
    let Some(v) = p.value else {
        return format!(
            "{} has no value in {}: no data is not a breach.",
            w.name, p.period
        );
    };
    let target = p.target.as_ref().map_or_else(
        || "none".to_string(),
        |(t, _)| format::target(t, w.unit, w.currency),
    );
    let head = format!(
        "{} was {} in {} (target {target})",
        w.name,
        format::value(v, w.unit, w.currency),
        p.period
    );
    if !breached {
        return format!("{head}: met, no consequence.");
    }
    let streak = match clause.breach_when {
        BreachRule::Any => String::new(),
        BreachRule::Consecutive(_) => {
            format!(", the {} {} in a row below target", ordinal(run), w.period_word)
        }
        BreachRule::OfLast { m, .. } => {
            format!(", {in_window} of the last {m} {}s below target", w.period_word)
        }
    };
    if !triggered {
        let need = match clause.breach_when {
            BreachRule::Consecutive(n) => format!("{n} in a row"),
            BreachRule::OfLast { n, m } => format!("{n} of the last {m}"),
            BreachRule::Any => "a breach".into(),
        };
        return format!("{head}{streak}: breached, but the clause takes {need}, so no consequence yet.");
    }
    let mut consequences = Vec::new();
    if share > 0.0 {
        let money_text = match (w.currency, p.fee) {
            (Some(c), Some(_)) => format!(" ({})", format::value(amount, Some(c), Some(c))),
            (None, Some(_)) => format!(" ({})", money(amount)),
            _ => String::new(),
        };
        consequences.push(format!("{} service credit{money_text}", share_text(share)));
    }
    consequences.extend(actions.iter().map(|a| action_text(a)));
    let tail = match consequences.len() {
        0 => "breached; no remedy applies at this value".to_string(),
        1 => consequences.remove(0),
        _ => {
            let last = consequences.pop().unwrap_or_default();
            format!("{} and {last}", consequences.join(", "))
        }
    };
    format!("{head}{streak}: {tail}.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Loc, Located};
    use crate::model::CreditTier;

    fn clause(rule: BreachRule, remedies: Vec<Remedy>, credits: Vec<CreditTier>, cap: Option<f64>) -> Clause {
        Clause {
            id: Located::new("c".into(), Loc::new(0, 0..0)),
            text: None,
            kpi: None,
            target: None,
            targets: Vec::new(),
            breach_when: rule,
            remedies,
            credits,
            credit_cap: cap,
        }
    }

    fn periods(values: &[Option<f64>]) -> Vec<ClauseInput> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| ClauseInput {
                period: format!("2026-{:02}", i + 1),
                value: *v,
                target: Some((Target::AtLeast(0.995), ">= 99.5%".into())),
                fee: Some(12000.0),
            })
            .collect()
    }

    const W: Wording<'static> = Wording {
        name: "Uptime",
        period_word: "month",
        unit: Some("%"),
        currency: Some("EUR"),
    };

    fn triggered(o: &[ClauseOutcome]) -> Vec<bool> {
        o.iter().map(|x| x.triggered).collect()
    }

    #[test]
    fn three_misses_in_a_row_trigger_two_consecutive_in_the_second_and_third() {
        let c = clause(
            BreachRule::Consecutive(2),
            vec![Remedy::Credit(0.1), Remedy::Action("contract_review".into())],
            vec![],
            None,
        );
        let o = judge(
            &c,
            &periods(&[Some(0.999), Some(0.99), Some(0.99), Some(0.99), Some(0.999)]),
            &W,
        );
        assert_eq!(triggered(&o), [false, false, true, true, false]);
        assert!(o[1].breached);
        assert_eq!((o[2].credit_share, o[2].credit_amount), (0.1, 1200.0));
        assert_eq!(o[2].actions, vec!["contract_review".to_string()]);
        assert_eq!(
            o[2].explanation,
            "Uptime was 99% in 2026-03 (target >= 99.5%), the second month in a row below target: 10% service credit (€1,200) and the right to a contract review."
        );
        assert!(
            o[1].explanation.contains("no consequence yet"),
            "{}",
            o[1].explanation
        );
    }

    #[test]
    fn no_data_breaks_a_streak_and_is_not_a_breach() {
        let c = clause(
            BreachRule::Consecutive(2),
            vec![Remedy::Credit(0.1)],
            vec![],
            None,
        );
        let o = judge(&c, &periods(&[Some(0.99), None, Some(0.99)]), &W);
        assert_eq!(triggered(&o), [false, false, false]);
        assert!(!o[1].breached);
        assert_eq!(
            o[1].explanation,
            "Uptime has no value in 2026-02: no data is not a breach."
        );
    }

    #[test]
    fn n_of_last_m_counts_breaches_in_a_sliding_window() {
        let c = clause(
            BreachRule::OfLast { n: 2, m: 3 },
            vec![Remedy::Credit(0.05)],
            vec![],
            None,
        );
        let v = [
            Some(0.99),
            Some(0.999),
            Some(0.99),
            Some(0.999),
            Some(0.999),
            Some(0.99),
        ];
        let o = judge(&c, &periods(&v), &W);
        // Breaches in 1, 3, 6: windows ending at 3 hold 1 and 3; at 6 only 6.
        assert_eq!(triggered(&o), [false, false, true, false, false, false]);
        assert!(
            o[2].explanation.contains("2 of the last 3 months below target"),
            "{}",
            o[2].explanation
        );
    }

    #[test]
    fn the_worst_matching_tier_wins_and_a_bound_is_not_below_itself() {
        let tiers = vec![
            CreditTier {
                below: 0.95,
                credit: 1.0,
            },
            CreditTier {
                below: 0.99,
                credit: 0.25,
            },
            CreditTier {
                below: 0.995,
                credit: 0.1,
            },
        ];
        let c = clause(BreachRule::Any, vec![], tiers, None);
        let o = judge(
            &c,
            &periods(&[Some(0.994), Some(0.99), Some(0.989), Some(0.95), Some(0.5)]),
            &W,
        );
        let shares: Vec<f64> = o.iter().map(|x| x.credit_share).collect();
        assert_eq!(shares, [0.1, 0.1, 0.25, 0.25, 1.0]);
    }

    #[test]
    fn the_cap_limits_credits_per_period() {
        let tiers = vec![CreditTier {
            below: 0.9,
            credit: 0.5,
        }];
        let c = clause(BreachRule::Any, vec![Remedy::Credit(0.1)], tiers, Some(0.3));
        let o = judge(&c, &periods(&[Some(0.8)]), &W);
        assert_eq!((o[0].credit_share, o[0].credit_amount), (0.3, 3600.0));
    }

    #[test]
    fn budgets_are_shares_of_the_allowed_shortfall() {
        let c = clause(BreachRule::Any, vec![], vec![], None);
        let o = judge(&c, &periods(&[Some(0.9975), Some(0.99)]), &W);
        assert!((o[0].budget_remaining.unwrap() - 0.5).abs() < 1e-9);
        assert!((o[1].budget_remaining.unwrap() + 1.0).abs() < 1e-9);
    }
}
