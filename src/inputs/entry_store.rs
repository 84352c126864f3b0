//! Where a mode that updates an existing run's entry (validate, notify, recover) finds the
//! audit trail: the same `audit-store` / `audit-branch` inputs the run record uses.

use super::{AuditInputs, AuditStore, RawInputs};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryStoreInputs {
    pub store: AuditStore,
    /// `None`: the repository's default branch.
    pub branch: Option<String>,
}

impl EntryStoreInputs {
    pub fn from_raw(raw: &RawInputs) -> Result<Self> {
        let a = AuditInputs::from_raw(raw)?;
        Ok(Self {
            store: a.store,
            branch: a.branch,
        })
    }
}
