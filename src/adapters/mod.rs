//! Thin adapters: each turns one part of the world into plain values and back.
//!
//! **Architecture invariant:** adapters decide nothing. Merge rules, verification rules,
//! rendering and retry *policy* live in `domain/`; adapters apply them.

pub mod actions;
pub mod context;
pub mod files;
pub mod git;
pub mod github;
pub mod oidc;
pub mod policy_file;
pub mod provenance_sources;
pub mod rekor_lookup;
pub mod reports;
pub mod sigstore;
pub mod sigstore_provenance;
pub mod slack;
pub mod store;
pub mod supabase;
pub mod supabase_query;
pub mod workspace_manifest;
pub mod zip_unpack;
