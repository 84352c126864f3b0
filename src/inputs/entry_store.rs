//! Where a mode that updates an existing run's entry (validate, notify, recover) finds the
//! audit trail: the same `audit-store` / `audit-branch` inputs the run record uses, and the
//! Supabase table the run record was synced to (`supabase-url`, `supabase-key`,
//! `supabase-table`), so the row follows the entry's updates.

use super::audit::SupabaseInputs;
use super::{AuditStore, RawInputs};
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct EntryStoreInputs {
    pub store: AuditStore,
    /// `None`: the repository's default branch.
    pub branch: Option<String>,
    /// The table the updated entry's row is upserted into, when configured.
    pub supabase: Option<SupabaseInputs>,
}

impl EntryStoreInputs {
    /// Every input [`EntryStoreInputs::from_raw`] reads: where the trail is and the Supabase
    /// table it is synced to, not the run record's own inputs (queue, rollback).
    pub const READS: &'static [&'static str] = &[
        "audit-store",
        "audit-branch",
        "supabase-url",
        "supabase-key",
        "supabase-table",
    ];

    pub fn from_raw(raw: &RawInputs) -> Result<Self> {
        Ok(Self {
            store: super::audit::store(raw)?,
            branch: super::audit::branch(raw)?,
            supabase: SupabaseInputs::from_raw(raw)?,
        })
    }
}
