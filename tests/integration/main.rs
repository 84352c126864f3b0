//! One integration binary: drives the real executable against fakes on 127.0.0.1.

mod audit_store;
mod audit_truth;
mod common;
mod conformance;
mod entry_updates;
mod fuzz_regressions;
mod notify;
mod policy;
mod provenance;
mod publish;
mod recover;
mod render;
mod report;
mod secrets;
mod signing;
mod supabase;
mod validate;
mod validate_many;
mod validate_network;
mod validate_sources;
mod workflows;
