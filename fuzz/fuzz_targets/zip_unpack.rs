#![no_main]
//! Fuzz target `zip_unpack`: see `slsa_provenance_action::fuzzing::zip_unpack`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    slsa_provenance_action::fuzzing::zip_unpack(data);
});
