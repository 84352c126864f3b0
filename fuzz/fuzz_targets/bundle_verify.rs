#![no_main]
//! Fuzz target `bundle_verify`: see `slsa_provenance_action::fuzzing::bundle_verify`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    slsa_provenance_action::fuzzing::bundle_verify(data);
});
