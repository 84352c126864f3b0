#![no_main]
//! Fuzz target `document`: see `slsa_provenance_action::fuzzing::document`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    slsa_provenance_action::fuzzing::document(data);
});
