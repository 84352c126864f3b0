//! One integration binary: drives the real executable against fakes on 127.0.0.1.

mod audit_store;
mod audit_truth;
mod common;
mod conformance;
mod entry_updates;
mod fake_github;
mod fuzz_regressions;
mod injection;
mod lifecycle;
mod notify;
mod policy;
mod provenance;
mod publish;
mod recover;
mod recover_race;
mod render;
mod report;
mod report_commit;
mod secrets;
mod secrets_all_modes;
mod signing;
mod supabase;
mod validate;
mod validate_network;
mod validate_sources;
mod workflows;
