//! Which signing method a run uses (`sign` input + what the environment offers). Pure.

use crate::error::{Failure, FailureReason};
use crate::inputs::SignMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningMethod {
    Keyless,
    Key,
    Unsigned,
}

/// `actions/attest`'s wording for a workflow without `id-token: write`.
pub const MISSING_ID_TOKEN: &str = "Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable: \
     missing \"id-token\" permission. Please add \"permissions: id-token: write\" to your workflow.";

pub fn choose(sign: SignMode, has_oidc: bool, has_key: bool) -> Result<SigningMethod, Failure> {
    match sign {
        SignMode::None => Ok(SigningMethod::Unsigned),
        SignMode::Key => Ok(SigningMethod::Key),
        SignMode::Sigstore if has_oidc => Ok(SigningMethod::Keyless),
        SignMode::Auto if has_oidc => Ok(SigningMethod::Keyless),
        SignMode::Auto if has_key => Ok(SigningMethod::Key),
        SignMode::Sigstore | SignMode::Auto => Err(Failure::new(
            FailureReason::MissingIdTokenPermission,
            MISSING_ID_TOKEN,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_prefers_keyless_then_key_then_fails_with_attest_wording() {
        assert_eq!(
            choose(SignMode::Auto, true, true).ok(),
            Some(SigningMethod::Keyless)
        );
        assert_eq!(
            choose(SignMode::Auto, false, true).ok(),
            Some(SigningMethod::Key)
        );
        let e = choose(SignMode::Auto, false, false).expect_err("no way to sign");
        assert_eq!(e.reason, FailureReason::MissingIdTokenPermission);
        assert!(e.message.contains("id-token: write"));
        assert!(choose(SignMode::Sigstore, false, true).is_err());
        assert_eq!(
            choose(SignMode::None, true, true).ok(),
            Some(SigningMethod::Unsigned)
        );
    }
}
