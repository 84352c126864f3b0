//! One integration binary: drives the real executable against fakes on 127.0.0.1.

mod common;
mod conformance;
mod fuzz_regressions;
mod provenance;
mod publish;
mod signing;
mod validate_sources;
