//! Secrets as types: a value that never prints.
//!
//! Every secret we hold (GitHub token, OIDC token, signing-key password, webhook URLs) is a
//! [`Secret`]. Its `Debug`/`Display` print `***`, so a secret cannot reach a log by accident;
//! reading it takes an explicit [`Secret::expose`]. Adapters that put one on the wire mark the
//! header sensitive. The mode that first reads a secret also masks it with `::add-mask::`.
//!
//! `Secret` deserializes from a plain string, so a struct collecting inputs (`RawInputs`) holds
//! a secret input as a `Secret` from the moment it is read, and its derived `Debug` stays safe.

use std::fmt;

use serde::Deserialize;

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

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
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

    #[test]
    fn secret_deserializes_from_a_string_and_still_hides_it() {
        #[derive(Debug, serde::Deserialize)]
        struct Holder {
            token: Secret,
        }
        let h: Holder = serde_json::from_str(r#"{"token":"ghp_fromjson"}"#).expect("json");
        assert_eq!(h.token.expose(), "ghp_fromjson");
        assert!(!format!("{h:?}").contains("fromjson"));
    }
}
