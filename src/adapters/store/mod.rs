//! Where the audit trail is stored: the workspace's files ([`workspace`]) and one atomic commit
//! per run through GitHub's Git Database API ([`commit`]); whole generated files (the report's)
//! replaced in one commit by the same compare-and-swap ([`files`]).

pub mod commit;
pub mod files;
pub mod workspace;
