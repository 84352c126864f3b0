//! Secrets as types: a value that never prints.
//!
//! Every secret we hold (GitHub token, OIDC token, signing-key password, webhook URLs) is a
//! [`Secret`]. Its `Debug`/`Display` print `***`, so a secret cannot reach a log by accident;
//! reading it takes an explicit [`Secret::expose`]. Adapters that put one on the wire mark the
//! header sensitive. The mode that first reads a secret also masks it with `::add-mask::`.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The only way to read the value. Call it at the wire, nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("ghp_supersecret");
        assert_eq!(format!("{s}"), "***");
        assert!(!format!("{s:?}").contains("supersecret"));
        assert_eq!(s.expose(), "ghp_supersecret");
    }
}
