//! Signing step of `mode: provenance` (issue 3): keyless Sigstore or key-based DSSE signing of
//! the statement bytes, followed by verification of our own bundle.

use crate::adapters::actions::Actions;
use crate::adapters::context::RunEnv;
use crate::domain::signing::SigningMethod;
use crate::domain::statement::BuildContext;
use crate::domain::summary::SigningFacts;
use crate::error::{Failure, FailureReason, Result};
use crate::inputs::ProvenanceInputs;
use crate::secret::Secret;

pub struct SignRequest<'a> {
    pub method: SigningMethod,
    pub inputs: &'a ProvenanceInputs,
    pub env: &'a RunEnv,
    pub context: &'a BuildContext,
    /// The OIDC token already fetched (audience `sigstore`) when the runner offers one.
    pub id_token: Option<Secret>,
    /// The exact statement bytes: the DSSE payload.
    pub statement: &'a [u8],
    pub actions: &'a Actions,
}

pub struct Signed {
    /// Sigstore bundle v0.3 JSON.
    pub bundle_json: Vec<u8>,
    pub facts: SigningFacts,
}

pub async fn sign(req: SignRequest<'_>) -> Result<Option<Signed>> {
    match req.method {
        SigningMethod::Unsigned => {
            req.actions.warning(
                "sign: none: the provenance is unsigned and does not meet SLSA Build L2+",
            );
            Ok(None)
        }
        SigningMethod::Keyless | SigningMethod::Key => Err(Failure::new(
            FailureReason::SigningFailed,
            "signing is being built (issue 3); use sign: none",
        )),
    }
}
