//! Where the audit trail is stored: the workspace's files ([`workspace`]) and one atomic commit
//! per run through GitHub's Git Database API ([`commit`]).

pub mod commit;
pub mod workspace;
