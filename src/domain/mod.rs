//! The pure core: every decision, as plain functions over plain values.
//!
//! **Architecture invariant:** nothing under `domain/` does I/O, reads the environment or the
//! clock, or is async. Time comes in as an argument; files come in as strings. If a function here
//! needs the world, it belongs in `adapters/` and hands the domain its answer.

pub mod audit_chain;
pub mod audit_record;
pub mod checksums;
pub mod entry_update;
pub mod escape;
pub mod file_commit;
pub mod kpi;
pub mod manifest;
pub mod manifest_schema;
pub mod notify;
pub mod policy;
pub mod provenance_doc;
pub mod recover;
pub mod release_notes;
pub mod render;
pub mod report_commit;
pub mod retry;
pub mod signing;
pub mod sink_row;
pub mod statement;
pub mod subjects;
pub mod summary;
pub mod tag;
pub mod transport;
pub mod validation_record;
pub mod verify;
