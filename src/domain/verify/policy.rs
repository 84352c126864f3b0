//! Composable verification rules, in the manner of sigstore-rs's policies: a [`Rule`] judges
//! verified facts and answers pass, fail (with a typed [`Mismatch`]) or skip; [`AllOf`] and
//! [`AnyOf`] combine rules. There is no catch-all failure: every failure names its stable
//! [`FailureReason`] and carries what was expected and what was found.
//!
//! Rules are pure: they see only the facts handed to them (no clock, no I/O).

use crate::error::FailureReason;

use super::Evidence;

/// A failed rule: which code, what was expected, what the provenance said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub reason: FailureReason,
    pub expected: String,
    pub found: Option<String>,
    pub detail: String,
}

/// What a rule concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The rule holds; `found` is the value it accepted.
    Pass {
        expected: String,
        found: String,
    },
    Fail(Mismatch),
    /// Nothing to compare against: reported as skipped, never as passed.
    Skip {
        why: String,
    },
}

/// One verification rule over the evidence of one provenance for one artifact.
pub trait Rule: Send + Sync {
    fn evaluate(&self, evidence: &Evidence<'_>) -> Outcome;
}

/// Every rule must hold. The first failure wins; all skipped is skipped; otherwise the
/// passes' values are joined.
pub struct AllOf(pub Vec<Box<dyn Rule>>);

impl Rule for AllOf {
    fn evaluate(&self, evidence: &Evidence<'_>) -> Outcome {
        let mut expected = Vec::new();
        let mut found = Vec::new();
        let mut skipped = Vec::new();
        for rule in &self.0 {
            match rule.evaluate(evidence) {
                Outcome::Fail(m) => return Outcome::Fail(m),
                Outcome::Pass {
                    expected: e,
                    found: f,
                } => {
                    expected.push(e);
                    found.push(f);
                }
                Outcome::Skip { why } => skipped.push(why),
            }
        }
        if found.is_empty() {
            return Outcome::Skip {
                why: skipped.join("; "),
            };
        }
        Outcome::Pass {
            expected: expected.join("; "),
            found: found.join("; "),
        }
    }
}

/// At least one rule must hold. Skipped rules are ignored; with no pass, the first failure is
/// reported; with nothing but skips, skipped.
pub struct AnyOf(pub Vec<Box<dyn Rule>>);

impl Rule for AnyOf {
    fn evaluate(&self, evidence: &Evidence<'_>) -> Outcome {
        let mut first_failure = None;
        let mut skipped = Vec::new();
        for rule in &self.0 {
            match rule.evaluate(evidence) {
                pass @ Outcome::Pass { .. } => return pass,
                Outcome::Fail(m) => {
                    first_failure.get_or_insert(m);
                }
                Outcome::Skip { why } => skipped.push(why),
            }
        }
        match first_failure {
            Some(m) => Outcome::Fail(m),
            None => Outcome::Skip {
                why: skipped.join("; "),
            },
        }
    }
}

/// A rule from a closure, for the small leaf rules of `checks`.
pub struct FnRule<F>(pub F);

impl<F> Rule for FnRule<F>
where
    F: Fn(&Evidence<'_>) -> Outcome + Send + Sync,
{
    fn evaluate(&self, evidence: &Evidence<'_>) -> Outcome {
        (self.0)(evidence)
    }
}
