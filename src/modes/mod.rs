//! One file per mode: each is the short script between adapters and the domain.
//!
//! **Architecture invariant:** a mode decides nothing itself that a test would want to check
//! without I/O: such decisions live in `domain/`. A mode never exits the process; it returns a
//! typed [`Failure`](crate::error::Failure) to `main`.

pub mod audit_trail;
pub mod entry_store;
pub mod notify;
pub mod policy;
pub mod provenance;
pub mod recover;
pub mod report;
pub mod validate;
pub mod verify_bundle;
pub mod verify_manifest;
