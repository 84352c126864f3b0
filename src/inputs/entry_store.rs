//! Where a mode that updates an existing run's entry (validate, notify, recover) finds the
//! audit trail: the same `audit-store` / `audit-branch` inputs the run record uses.

use super::{AuditStore, RawInputs};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryStoreInputs {
    pub store: AuditStore,
    /// `None`: the repository's default branch.
    pub branch: Option<String>,
}

impl EntryStoreInputs {
    /// Every input [`EntryStoreInputs::from_raw`] reads: only where the trail is, not the
    /// run record's own inputs (queue, rollback, Supabase sink), which these modes do not use.
    pub const READS: &'static [&'static str] = &["audit-store", "audit-branch"];

    pub fn from_raw(raw: &RawInputs) -> Result<Self> {
        Ok(Self {
            store: super::audit::store(raw)?,
            branch: super::audit::branch(raw)?,
        })
    }
}
