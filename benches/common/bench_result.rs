//! The benchmark output contract shared by every bench: one `BENCH-RESULT {json}` line per
//! measured comparison, printed as the LAST lines of stdout (after the human table), which
//! `bench/run.sh` collects into `docs/performance.md`.
//!
//! Included by each bench with `#[path = "common/bench_result.rs"] mod bench_result;` (a
//! folder under `benches/` is not a bench target of its own).

// Each bench uses the part it needs.
#![allow(dead_code)]

use serde::Serialize;

/// One comparison. `ratio` is reference_s / ours_s (above 1.0: we are faster) unless `target`
/// says otherwise.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    pub bench: String,
    pub case: String,
    pub ours_s: f64,
    pub reference: String,
    pub reference_s: Option<f64>,
    pub ratio: Option<f64>,
    pub target: String,
    pub met: Option<bool>,
    pub ours_peak_rss_kib: Option<u64>,
    pub reference_peak_rss_kib: Option<u64>,
    pub extra: serde_json::Value,
}

impl BenchResult {
    /// A case measured beside a reference, `ratio` = reference_s / ours_s.
    pub fn faster_than(
        bench: &str,
        case: &str,
        ours_s: f64,
        reference: &str,
        reference_s: f64,
    ) -> Self {
        Self {
            bench: bench.into(),
            case: case.into(),
            ours_s,
            reference: reference.into(),
            reference_s: Some(reference_s),
            ratio: Some(reference_s / ours_s.max(1e-9)),
            target: "none (informational)".into(),
            met: None,
            ours_peak_rss_kib: None,
            reference_peak_rss_kib: None,
            extra: serde_json::json!({}),
        }
    }

    /// Target: ratio (reference_s / ours_s) at least `min`.
    pub fn at_least(mut self, min: f64) -> Self {
        self.target = format!(">= {min:.1}x");
        self.met = self.ratio.map(|r| r >= min);
        self
    }

    pub fn rss(mut self, ours_kib: Option<u64>, reference_kib: Option<u64>) -> Self {
        self.ours_peak_rss_kib = ours_kib;
        self.reference_peak_rss_kib = reference_kib;
        self
    }

    pub fn extra(mut self, extra: serde_json::Value) -> Self {
        self.extra = extra;
        self
    }

    /// The contract's line: the prefix and single-line JSON.
    pub fn line(&self) -> String {
        // Plain fields and a JSON value: serialising cannot fail (a non-finite float is
        // written as null), but a broken line must still name its bench.
        let json = serde_json::to_string(self)
            .unwrap_or_else(|e| format!(r#"{{"bench":"{}","error":"{e}"}}"#, self.bench));
        format!("BENCH-RESULT {json}")
    }
}

/// Print every result as the last stdout lines, in order.
pub fn print_all(results: &[BenchResult]) {
    for r in results {
        #[allow(clippy::print_stdout)]
        {
            println!("{}", r.line());
        }
    }
}
