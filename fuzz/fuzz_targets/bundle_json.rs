#![no_main]
//! Fuzz target `bundle_json`: see `slsa_provenance_action::fuzzing::bundle_json`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    slsa_provenance_action::fuzzing::bundle_json(data);
});
